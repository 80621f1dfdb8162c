// Buses, configuration routing, MMIO decode and DMA aliases (see topology.h).
// Spec sections and what is not modelled: see pci/topology.h.
#include "pci/topology.h"

#include <string>

namespace vtdsim::pci {

// ---- Bus ----

std::uint8_t Bus::number() const {
  if (self_ == nullptr) return root_ != nullptr ? root_->root_bus_number() : 0;
  return self_->secondary_bus_number();
}

RootComplex* Bus::root_complex() const {
  if (self_ == nullptr) return root_;
  Bus* parent = self_->bus();
  return parent != nullptr ? parent->root_complex() : nullptr;
}

Expected<Function*> Bus::attach(unsigned dev, unsigned fn, std::unique_ptr<Function> function) {
  const std::string where = std::to_string(dev) + "." + std::to_string(fn);
  if (function == nullptr) return make_error(ErrorCode::kInvalidArgument, "null function");
  if (dev > 31 || fn > 7) {
    return make_error(ErrorCode::kInvalidArgument,
                      "slot " + where + " out of range (dev 0-31, fn 0-7)");
  }
  if (function->bus() != nullptr) {
    return make_error(ErrorCode::kAlreadyExists, "the function is already on a bus");
  }
  const unsigned devfn = (dev << 3) | fn;
  if (slots_[devfn] != nullptr)
    return make_error(ErrorCode::kAlreadyExists, "slot " + where + " is taken");
  if (fn > 0 && slots_[dev << 3] == nullptr) {
    return make_error(ErrorCode::kInvalidArgument,
                      "slot " + where + ": attach function 0 of the device first");
  }
  if (self_ != nullptr && self_->link_below() && dev != 0) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "slot " + where + ": a PCIe link below a root/downstream port carries only device 0");
  }
  function->attach_to(this, devfn);
  Function* raw = function.get();
  slots_[devfn] = std::move(function);
  if (fn > 0) {
    for (unsigned f = 0; f < 8; ++f) {
      if (slots_[(dev << 3) | f] != nullptr) slots_[(dev << 3) | f]->set_multifunction(true);
    }
  }
  if (RootComplex* rc = root_complex()) rc->attached(*raw);
  return raw;
}

Function* Bus::function(unsigned dev, unsigned fn) const {
  if (dev > 31 || fn > 7) return nullptr;
  return slots_[(dev << 3) | fn].get();
}

std::vector<Function*> Bus::functions() const {
  std::vector<Function*> out;
  for (const auto& s : slots_) {
    if (s != nullptr) out.push_back(s.get());
  }
  return out;
}

// ---- RootComplex ----

RootComplex::RootComplex(std::uint8_t root_bus_number)
    : root_bus_number_(root_bus_number), root_bus_(nullptr, this) {}

void RootComplex::visit(const Bus& bus, const std::function<void(Function&)>& fn) const {
  for (Function* f : bus.functions()) {
    fn(*f);
    if (auto* b = dynamic_cast<Bridge*>(f)) visit(b->secondary(), fn);
  }
}

std::vector<Function*> RootComplex::functions() const {
  std::vector<Function*> out;
  visit(root_bus_, [&](Function& f) { out.push_back(&f); });
  return out;
}

void RootComplex::connect(model::DmaTranslator& translator, model::PhysicalMemory& memory,
                          MsiTarget* msi) {
  translator_ = &translator;
  memory_ = &memory;
  msi_ = msi;
  visit(root_bus_, [&](Function& f) { f.connect(translator, memory, msi); });
}

void RootComplex::attached(Function& f) {
  auto bind = [&](Function& g) {
    if (translator_ != nullptr) g.connect(*translator_, *memory_, msi_);
  };
  bind(f);
  if (auto* b = dynamic_cast<Bridge*>(&f)) visit(b->secondary(), bind);
  refresh_source_ids();
}

Function* RootComplex::route(model::SourceId bdf) const {
  const Bus* bus = &root_bus_;
  // Each step descends one bridge; a well-formed hierarchy needs at most 255 steps.
  for (unsigned depth = 0; depth < 256; ++depth) {
    if (bdf.bus() == bus->number()) {
      if (bus->self() != nullptr && bus->self()->link_below() && bdf.dev() != 0) return nullptr;
      return bus->function(bdf.dev(), bdf.fn());
    }
    const Bus* next = nullptr;
    for (Function* f : bus->functions()) {
      auto* b = dynamic_cast<Bridge*>(f);
      if (b == nullptr) continue;
      const unsigned sec = b->secondary_bus_number();
      const unsigned sub = b->subordinate_bus_number();
      // A bridge forwards requests for buses in [secondary, subordinate] (§3.2.5.3); a bridge
      // whose secondary number is not above its own bus forwards nothing.
      if (sec > bus->number() && bdf.bus() >= sec && bdf.bus() <= sub) {
        next = &b->secondary();
        break;
      }
    }
    if (next == nullptr) return nullptr;
    bus = next;
  }
  return nullptr;
}

std::uint32_t RootComplex::config_read(model::SourceId bdf, std::uint32_t offset,
                                       unsigned size) const {
  const Function* f = route(bdf);
  // No function answers: the request ends in a master abort / UR and reads all-ones.
  if (f == nullptr) return (size == 1 || size == 2) ? (1u << (8 * size)) - 1u : kAllOnes;
  return f->config_read(offset, size);
}

void RootComplex::config_write(model::SourceId bdf, std::uint32_t offset, unsigned size,
                               std::uint32_t value) {
  if (Function* f = route(bdf)) f->config_write(offset, size, value);
}

Function* RootComplex::find(model::SourceId bdf) const {
  Function* found = nullptr;
  visit(root_bus_, [&](Function& f) {
    if (found == nullptr && f.requester_id() == bdf) found = &f;
  });
  return found;
}

std::optional<RootComplex::MmioHit> RootComplex::decode_mmio(std::uint64_t address,
                                                             unsigned size) const {
  // MODEL: flat decode over every function's enabled memory BARs (bridge windows are
  // programmed by enumeration but not used to filter).
  std::optional<MmioHit> hit;
  visit(root_bus_, [&](Function& f) {
    if (hit) return;
    if (auto h = f.decode_mmio(address, size)) hit = MmioHit{&f, h->bar, h->offset};
  });
  return hit;
}

bool RootComplex::mmio_read(std::uint64_t address, unsigned size, std::uint64_t* value) {
  auto hit = decode_mmio(address, size);
  if (!hit) {
    if (value != nullptr) *value = ~std::uint64_t{0};
    return false;
  }
  const std::uint64_t v = hit->function->mmio_read(hit->bar, hit->offset, size);
  if (value != nullptr) *value = v;
  return true;
}

bool RootComplex::mmio_write(std::uint64_t address, unsigned size, std::uint64_t value) {
  auto hit = decode_mmio(address, size);
  if (!hit) return false;
  hit->function->mmio_write(hit->bar, hit->offset, size, value);
  return true;
}

std::vector<DmaAlias> RootComplex::dma_aliases(const Function& f) const {
  std::vector<DmaAlias> out;
  const model::SourceId own = f.requester_id();
  out.push_back({own, &f});
  if (auto alias = f.dma_alias_devfn()) {
    out.push_back({model::SourceId{static_cast<std::uint16_t>((own.bus() << 8) | *alias)}, &f});
  }
  // Walk the bridges above: PCIe switch and root ports forward the id unchanged; a PCIe-to-PCI
  // bridge substitutes (secondary bus, devfn 0) for the conventional requests it forwards; a
  // PCI-to-PCIe bridge or a conventional bridge forwards with its own id.
  for (const Bus* bus = f.bus(); bus != nullptr && !bus->is_root();) {
    const Bridge* b = bus->self();
    const auto type = b->port_type();
    if (type) {
      switch (*type) {
        case PortType::kRootPort:
        case PortType::kUpstreamPort:
        case PortType::kDownstreamPort:
          break;
        case PortType::kPcieToPciBridge:
          out.push_back({model::SourceId::make(b->secondary_bus_number(), 0, 0), b});
          break;
        case PortType::kPciToPcieBridge:
          out.push_back({b->requester_id(), b});
          break;
        default:
          break;
      }
    } else {
      out.push_back({b->requester_id(), b});
    }
    bus = b->bus();
  }
  return out;
}

model::SourceId RootComplex::dma_source_id(const Function& f) const {
  return dma_aliases(f).back().id;
}

void RootComplex::refresh_source_ids() {
  visit(root_bus_, [&](Function& f) { f.dma().set_source_id(dma_source_id(f)); });
}

}  // namespace vtdsim::pci
