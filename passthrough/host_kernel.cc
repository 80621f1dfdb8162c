#include "passthrough/host_kernel.h"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

#include "iommu/registers.h"
#include "passthrough/kvm_vm.h"
#include "pci/capabilities.h"

namespace vtdsim::passthrough {

const char* to_string(DriverBinding binding) {
  switch (binding) {
    case DriverBinding::kNone:
      return "none";
    case DriverBinding::kHost:
      return "host driver";
    case DriverBinding::kVfioPci:
      return "vfio-pci";
    case DriverBinding::kPciStub:
      return "pci-stub";
  }
  return "?";
}

HostKernel::HostKernel(platform::Machine& machine, const HostKernelConfig& config)
    : machine_(&machine), config_(config), vectors_(machine.cpu_count()) {}

Expected<std::unique_ptr<HostKernel>> HostKernel::boot(platform::Machine& machine,
                                                       const HostKernelConfig& config) {
  if (config.first_vector < 0x20 || config.first_vector > config.last_vector) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("HostKernel: vector range [{:#x}, {:#x}] is invalid",
                                  config.first_vector, config.last_vector));
  }
  std::unique_ptr<HostKernel> k(new HostKernel(machine, config));
  for (std::size_t i = 0; i < machine.unit_count(); ++i) {
    Unit u;
    u.dma = std::make_unique<host::VtdDriver>(machine.unit(i), machine.memory(),
                                              machine.frame_allocator(), config.dma);
    if (auto ok = u.dma->init(); !ok) return tl::unexpected(ok.error());
    if (u.dma->regs().ecap_field<iommu::ecap::IR>() != 0) {
      u.ir = std::make_unique<host::IrDriver>(u.dma->regs(), u.dma->invalidator(), machine.memory(),
                                              machine.frame_allocator(), config.ir);
      if (auto ok = u.ir->enable(); !ok) return tl::unexpected(ok.error());
    }
    if (auto ok = u.dma->enable_translation(); !ok) return tl::unexpected(ok.error());
    k->units_.push_back(std::move(u));
  }
  return k;
}

Expected<std::size_t> HostKernel::unit_of(const pci::Function& f) const {
  auto u = machine_->unit_index_for(f.requester_id());
  if (!u) {
    return make_error(ErrorCode::kUnsupported, fmt::format("no remapping unit covers device {}",
                                                           model::to_string(f.requester_id())));
  }
  return *u;
}

bool HostKernel::posting_supported(std::size_t unit) const {
  return units_.at(unit).dma->regs().cap_field<iommu::cap::PI>() != 0 &&
         units_.at(unit).ir != nullptr;
}

std::vector<model::SourceId> HostKernel::dma_source_ids(const pci::Function& f) const {
  std::vector<model::SourceId> ids;
  for (const auto& a : machine_->root_complex().dma_aliases(f)) {
    if (std::find(ids.begin(), ids.end(), a.id) == ids.end()) ids.push_back(a.id);
  }
  return ids;
}

DriverBinding HostKernel::binding(const pci::Function& f) const {
  auto it = bindings_.find(&f);
  return it == bindings_.end() ? DriverBinding::kNone : it->second;
}

void HostKernel::bind(const pci::Function& f, DriverBinding driver) {
  bindings_[&f] = driver;
}

Expected<std::uint8_t> HostKernel::allocate_vector(std::uint32_t cpu) {
  auto& used = vectors_.at(cpu);
  for (unsigned v = config_.first_vector; v <= config_.last_vector; ++v) {
    const auto vec = static_cast<std::uint8_t>(v);
    bool reserved = false;
    for (KvmVm* vm : vms_) reserved = reserved || vm->posted_notification_vector() == vec;
    if (reserved || used.count(vec) != 0) continue;
    used.emplace(vec, nullptr);
    machine_->apic(cpu).set_handler(
        vec, [this, cpu, vec](const model::ApicMessage&) { dispatch(cpu, vec); });
    return vec;
  }
  return make_error(ErrorCode::kExhausted,
                    fmt::format("host CPU {} has no free interrupt vector", cpu));
}

host::SourceValidation HostKernel::validation_for(const pci::Function& f) const {
  // Linux set_msi_sid: the id the MSI carries; a bus range when a PCIe-to-PCI bridge
  // substitutes an id from another bus (§9.10 SVT = 10b).
  const model::SourceId own = f.requester_id();
  const model::SourceId carried = machine_->root_complex().dma_source_id(f);
  if (carried.bus() != own.bus())
    return host::SourceValidation::bus_range(carried.bus(), own.bus());
  return host::SourceValidation::exact(carried);
}

Status HostKernel::program_remapped(const HostIrq& irq) {
  host::IrDriver* ir = units_.at(irq.unit).ir.get();
  const pci::Function* f = machine_->root_complex().find(irq.requester);
  if (ir == nullptr || f == nullptr) {
    return make_error(ErrorCode::kNotFound, "program_remapped: unit without IR or device gone");
  }
  host::RemappedTarget t;
  t.destination = irq.cpu;
  t.vector = irq.vector;
  return ir->program_remapped(irq.irte, t, validation_for(*f));
}

Expected<std::vector<HostIrq>> HostKernel::request_irqs(const pci::Function& f, unsigned count,
                                                        bool block) {
  auto unit = unit_of(f);
  if (!unit) return tl::unexpected(unit.error());
  host::IrDriver* ir = units_[*unit].ir.get();
  if (ir == nullptr || !ir->enabled()) {
    return make_error(ErrorCode::kUnsupported,
                      fmt::format("unit {} has no interrupt remapping", *unit));
  }
  if (count == 0 || count > 2048) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("request_irqs: count {} not in [1, 2048]", count));
  }
  std::vector<HostIrq> out;
  auto undo = [&] { (void)free_irqs(out, block); };
  std::uint16_t base = 0;
  if (block) {
    auto b = ir->allocate(count);
    if (!b) return tl::unexpected(b.error());
    base = *b;
  }
  for (unsigned i = 0; i < count; ++i) {
    HostIrq irq;
    irq.unit = *unit;
    irq.requester = f.requester_id();
    if (block) {
      irq.irte = static_cast<std::uint16_t>(base + i);
    } else {
      auto e = ir->allocate(1);
      if (!e) {
        undo();
        return tl::unexpected(e.error());
      }
      irq.irte = *e;
    }
    irq.cpu = next_cpu_;
    next_cpu_ = (next_cpu_ + 1) % static_cast<std::uint32_t>(machine_->cpu_count());
    auto v = allocate_vector(irq.cpu);
    if (!v) {
      if (!block) (void)ir->free(irq.irte);
      undo();
      return tl::unexpected(v.error());
    }
    irq.vector = *v;
    out.push_back(irq);
    if (auto ok = program_remapped(irq); !ok) {
      undo();
      return tl::unexpected(ok.error());
    }
  }
  stats_.irqs_requested += count;
  return out;
}

Status HostKernel::free_irqs(const std::vector<HostIrq>& irqs, bool block) {
  Status result;
  for (const auto& irq : irqs) {
    vectors_.at(irq.cpu).erase(irq.vector);
    machine_->apic(irq.cpu).set_handler(irq.vector, nullptr);
    host::IrDriver* ir = units_.at(irq.unit).ir.get();
    if (!block && ir != nullptr) {
      if (auto ok = ir->free(irq.irte); !ok && result) result = ok;
    }
    ++stats_.irqs_freed;
  }
  if (block && !irqs.empty()) {
    host::IrDriver* ir = units_.at(irqs[0].unit).ir.get();
    if (ir != nullptr) {
      if (auto ok = ir->free(irqs[0].irte, static_cast<unsigned>(irqs.size())); !ok && result) {
        result = ok;
      }
    }
  }
  return result;
}

void HostKernel::set_handler(const HostIrq& irq, std::function<void()> handler) {
  auto& m = vectors_.at(irq.cpu);
  auto it = m.find(irq.vector);
  if (it != m.end()) it->second = std::move(handler);
}

irq_remap::MsiMessage HostKernel::msi_message(const HostIrq& irq) const {
  return units_.at(irq.unit).ir->compose_msi(irq.irte);
}

void HostKernel::write_msix_entry(pci::Function& f, unsigned vector,
                                  const irq_remap::MsiMessage& msg, bool masked) {
  const auto cap = f.msix_offset();
  if (!cap) return;
  const std::uint32_t loc = f.config_read(*cap + pci::msix::kTable, 4);
  const auto bar = static_cast<unsigned>(pci::msix::BIR::get(loc));
  const std::uint64_t entry =
      pci::msix::OFFSET::raw(loc) + std::uint64_t{vector} * pci::msix::kEntrySize;
  f.mmio_write(bar, entry + pci::msix::kEntryAddressLo, 4, msg.address & 0xFFFFFFFFu);
  f.mmio_write(bar, entry + pci::msix::kEntryAddressHi, 4, msg.address >> 32);
  f.mmio_write(bar, entry + pci::msix::kEntryData, 4, msg.data);
  f.mmio_write(bar, entry + pci::msix::kEntryVectorControl, 4, masked ? 1 : 0);
}

void HostKernel::set_msix_control(pci::Function& f, bool enable, bool function_mask) {
  const auto cap = f.msix_offset();
  if (!cap) return;
  std::uint64_t ctl = f.config_read(*cap + pci::msix::kControl, 2);
  ctl = pci::msix::ENABLE::set(ctl, enable ? 1 : 0);
  ctl = pci::msix::FUNCTION_MASK::set(ctl, function_mask ? 1 : 0);
  f.config_write(*cap + pci::msix::kControl, 2, static_cast<std::uint32_t>(ctl));
}

void HostKernel::write_msi(pci::Function& f, const irq_remap::MsiMessage& msg, unsigned vectors,
                           bool enable) {
  const auto cap = f.msi_offset();
  if (!cap) return;
  std::uint64_t ctl = f.config_read(*cap + pci::msi::kControl, 2);
  const bool addr64 = pci::msi::ADDR64::get(ctl) != 0;
  if (enable) {
    f.config_write(*cap + pci::msi::kAddressLo, 4,
                   static_cast<std::uint32_t>(msg.address & 0xFFFFFFFFu));
    if (addr64) {
      f.config_write(*cap + pci::msi::address_hi(true), 4,
                     static_cast<std::uint32_t>(msg.address >> 32));
    }
    f.config_write(*cap + pci::msi::data(addr64), 2, msg.data);
    ctl = pci::msi::MME::set(ctl, static_cast<std::uint64_t>(std::countr_zero(vectors)));
  }
  ctl = pci::msi::ENABLE::set(ctl, enable ? 1 : 0);
  f.config_write(*cap + pci::msi::kControl, 2, static_cast<std::uint32_t>(ctl));
}

Status HostKernel::set_posted(HostIrq& irq, std::uint64_t pda, std::uint8_t vector) {
  if (!posting_supported(irq.unit)) {
    return make_error(
        ErrorCode::kUnsupported,
        fmt::format("unit {} does not support posted interrupts (CAP.PI = 0)", irq.unit));
  }
  const pci::Function* f = machine_->root_complex().find(irq.requester);
  if (f == nullptr) return make_error(ErrorCode::kNotFound, "set_posted: device gone");
  if (auto ok =
          units_[irq.unit].ir->program_posted(irq.irte, pda, vector, false, validation_for(*f));
      !ok) {
    return ok;
  }
  irq.posted = true;
  ++stats_.irte_posted;
  return {};
}

Status HostKernel::set_remapped(HostIrq& irq) {
  if (auto ok = program_remapped(irq); !ok) return ok;
  irq.posted = false;
  ++stats_.irte_remapped;
  return {};
}

void HostKernel::dispatch(std::uint32_t cpu, std::uint8_t vector) {
  machine_->apic(cpu).acknowledge(vector);  // MODEL: the handler runs at once and EOIs.
  auto& m = vectors_.at(cpu);
  auto it = m.find(vector);
  if (it == m.end() || !it->second) {
    ++stats_.spurious_irqs;
    return;
  }
  ++stats_.host_irqs_handled;
  it->second();
}

void HostKernel::notification(std::uint32_t cpu, std::uint8_t vector) {
  ++stats_.pi_notifications;
  machine_->apic(cpu).acknowledge(vector);
  for (KvmVm* vm : vms_) {
    if (vm->posted_notification_vector() != vector) continue;
    bool here = false;
    for (unsigned i = 0; i < vm->vcpu_count(); ++i) here = here || vm->vcpu(i).host_cpu() == cpu;
    if (here) vm->handle_posted_notification(cpu);
  }
}

void HostKernel::register_vm(KvmVm& vm) {
  if (std::find(vms_.begin(), vms_.end(), &vm) != vms_.end()) return;
  vms_.push_back(&vm);
  const std::uint8_t nv = vm.posted_notification_vector();
  for (std::size_t c = 0; c < machine_->cpu_count(); ++c) {
    const auto cpu = static_cast<std::uint32_t>(c);
    machine_->apic(c).set_handler(
        nv, [this, cpu, nv](const model::ApicMessage&) { notification(cpu, nv); });
  }
}

void HostKernel::unregister_vm(KvmVm& vm) {
  vms_.erase(std::remove(vms_.begin(), vms_.end(), &vm), vms_.end());
}

}  // namespace vtdsim::passthrough
