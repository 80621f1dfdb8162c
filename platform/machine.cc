// The machine: construction and routing (see machine.h).
#include "platform/machine.h"

#include <fmt/format.h>

#include "pci/mmio_regs.h"

namespace vtdsim::platform {

Machine::Machine(const MachineConfig& config)
    : config_(config), memory_(config.address_width), rc_(0) {}

Machine::~Machine() = default;

Expected<std::unique_ptr<Machine>> Machine::create(const MachineConfig& config) {
  if (auto s = config.validate(); !s) return tl::unexpected(s.error());
  std::unique_ptr<Machine> m(new Machine(config));
  if (auto s = m->build(); !s) return tl::unexpected(s.error());
  return m;
}

Status Machine::build() {
  const std::uint64_t host_base = config_.low_ram_end() - config_.host_memory_size;
  frames_ = std::make_unique<model::FrameAllocator>(memory_, host_base, config_.host_memory_size);

  for (unsigned i = 0; i < config_.cpus; ++i) {
    apics_.push_back(std::make_unique<LocalApic>(i));
    apic_bus_.attach(apics_.back().get());
  }

  // Fault and invalidation-completion events, remapped and posted-notification interrupts all
  // travel to the CPUs over the APIC bus.
  for (std::size_t i = 0; i < config_.units.size(); ++i) {
    auto unit =
        iommu::RemappingUnit::create(memory_, config_.units[i].unit, &apic_bus_, &apic_bus_);
    if (!unit) {
      return make_error(unit.error().code, fmt::format("unit {}: {}", i, unit.error().message));
    }
    units_.push_back(std::move(*unit));
    routers_.push_back(std::make_unique<DeviceTlbRouter>());
    units_.back()->set_device_tlb_sink(routers_.back().get());
  }

  auto names = build_topology(rc_, config_.pci);
  if (!names) return tl::unexpected(names.error());
  names_ = std::move(*names);
  rc_.connect(*this, memory_, this);
  auto enumerated = rc_.enumerate(config_.enumeration);
  if (!enumerated) {
    return make_error(enumerated.error().code,
                      fmt::format("pci enumeration: {}", enumerated.error().message));
  }
  enumeration_ = *enumerated;

  auto scopes = ScopeMap::build(config_, rc_, names_);
  if (!scopes) return tl::unexpected(scopes.error());
  scopes_ = std::move(*scopes);

  // ATS devices receive the invalidations of the unit their DMA reaches.
  for (pci::Function* f : rc_.functions()) {
    auto* target = dynamic_cast<pci::DeviceTlbInvalidationTarget*>(f);
    if (target == nullptr) continue;
    const std::uint8_t u = scopes_.unit_of(rc_.dma_source_id(*f));
    if (u != ScopeMap::kNoUnit) routers_[u]->add(f->requester_id(), target);
  }

  for (std::size_t i = 0; i < config_.rmrrs.size(); ++i) {
    const RmrrConfig& r = config_.rmrrs[i];
    Rmrr out{r.base, r.limit, {}};
    for (const DeviceScope& d : r.devices) {
      auto sid = resolve_endpoint(d, names_);
      if (!sid) {
        return make_error(sid.error().code, fmt::format("rmrr {}: {}", i, sid.error().message));
      }
      out.devices.push_back(*sid);
    }
    rmrrs_.push_back(std::move(out));
  }
  return {};
}

pci::Function* Machine::function(std::string_view name) const {
  auto it = names_.find(name);
  return it == names_.end() ? nullptr : it->second;
}

model::Translation Machine::translate(const model::DmaRequest& request) {
  ++stats_.dma_requests;
  const std::uint8_t u = scopes_.unit_of(request.source_id);
  if (u != ScopeMap::kNoUnit) [[likely]] {
    return units_[u]->translate(request);
  }
  ++stats_.dma_unremapped;
  model::Translation t;
  t.completion = request.arrival;
  if (!request.has_pasid && model::in_interrupt_window(request.address)) {
    t.status = model::TranslationStatus::kInterruptWindow;
    return t;
  }
  if (request.address_type == model::AddressType::kTranslationRequest) {
    t.status = model::TranslationStatus::kFault;  // no translation agent: unsupported request
    return t;
  }
  // MODEL: without remapping hardware the request reaches memory unchanged and at no cost.
  t.status = model::TranslationStatus::kOk;
  t.hpa = request.address;
  t.page_size = model::kPageSize;
  t.permissions = model::Permissions{true, true, false};
  return t;
}

void Machine::deliver_msi(model::SourceId source_id, std::uint64_t address, std::uint32_t data,
                          model::Cycle time) {
  ++stats_.msi_writes;
  if (iommu::RemappingUnit* unit = unit_for(source_id)) {
    (void)unit->remap_interrupt(source_id, address, data, time);
    return;
  }
  ++stats_.msi_unremapped;
  model::ApicMessage m = model::decode_compat_msi(address, data);
  m.time = time;
  apic_bus_.deliver(m);
}

int Machine::unit_at(std::uint64_t address, unsigned size) const {
  for (std::size_t i = 0; i < units_.size(); ++i) {
    const std::uint64_t base = config_.unit_register_base(i);
    const std::uint64_t window = units_[i]->mmio_size();
    if (address >= base && address - base < window && size <= window - (address - base)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::uint64_t Machine::mmio_read(std::uint64_t address, unsigned size) {
  ++stats_.mmio_reads;
  if (const int u = unit_at(address, size); u >= 0) {
    const auto i = static_cast<std::size_t>(u);
    return units_[i]->mmio_read(address - config_.unit_register_base(i), size);
  }
  std::uint64_t value = 0;
  if (rc_.mmio_read(address, size, &value)) return value;
  ++stats_.mmio_unclaimed_reads;
  return pci::lane_mask(size);  // master abort: all-ones
}

void Machine::mmio_write(std::uint64_t address, unsigned size, std::uint64_t value) {
  ++stats_.mmio_writes;
  if (const int u = unit_at(address, size); u >= 0) {
    const auto i = static_cast<std::size_t>(u);
    units_[i]->mmio_write(address - config_.unit_register_base(i), size, value);
    return;
  }
  if (rc_.mmio_write(address, size, value)) return;
  ++stats_.mmio_dropped_writes;
}

MachineStats Machine::stats() const {
  MachineStats s = stats_;
  for (const auto& r : routers_) {
    s.dev_tlb_forwarded += r->stats().forwarded;
    s.dev_tlb_unclaimed += r->stats().unclaimed;
  }
  return s;
}

void Machine::reset_stats() {
  stats_ = MachineStats{};
  for (auto& r : routers_) r->reset_stats();
}

}  // namespace vtdsim::platform
