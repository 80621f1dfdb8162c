#include "passthrough/kvm_assign.h"

#include <algorithm>

#include <fmt/format.h>

#include "pci/capabilities.h"

namespace vtdsim::passthrough {

KvmDeviceAssignment::KvmDeviceAssignment(KvmVm& vm, HostKernel& kernel)
    : vm_(&vm), kernel_(&kernel) {
  KvmListener l;
  l.memslot_changed = [this](const Memslot* before, const Memslot* after) {
    memslot_changed(before, after);
  };
  listener_ = vm.add_listener(std::move(l));
}

KvmDeviceAssignment::~KvmDeviceAssignment() {
  vm_->remove_listener(listener_);
  while (!assigned_.empty()) (void)deassign_device(*assigned_.back().function);
  for (auto [unit, did] : domains_) (void)kernel_->dma_driver(unit).destroy_domain(did);
}

std::optional<std::uint16_t> KvmDeviceAssignment::domain(std::size_t unit) const {
  auto it = domains_.find(unit);
  if (it == domains_.end()) return std::nullopt;
  return it->second;
}

Status KvmDeviceAssignment::map_slot(std::size_t unit, std::uint16_t did, const Memslot& s) {
  // kvm_iommu_map_pages: read always, write unless the slot is read-only.
  const model::Permissions p{true, !s.readonly, false};
  if (auto ok = kernel_->dma_driver(unit).map(did, s.gpa, s.hpa, s.size, p); !ok) return ok;
  ++stats_.slots_mapped;
  return {};
}

Expected<std::uint16_t> KvmDeviceAssignment::domain_for(std::size_t unit) {
  if (auto it = domains_.find(unit); it != domains_.end()) return it->second;
  auto& drv = kernel_->dma_driver(unit);
  auto did = drv.create_domain();
  if (!did) return tl::unexpected(did.error());
  for (const auto& s : vm_->memslots()) {
    if (auto ok = map_slot(unit, *did, s); !ok) {
      (void)drv.destroy_domain(*did);
      return tl::unexpected(ok.error());
    }
  }
  domains_.emplace(unit, *did);
  return *did;
}

void KvmDeviceAssignment::memslot_changed(const Memslot* before, const Memslot* after) {
  for (auto [unit, did] : domains_) {
    auto& drv = kernel_->dma_driver(unit);
    if (before != nullptr) {
      if (drv.unmap_sync(did, before->gpa, before->size)) ++stats_.slots_unmapped;
    }
    if (after != nullptr) (void)map_slot(unit, did, *after);
  }
}

Status KvmDeviceAssignment::assign_device(pci::Function& f) {
  for (const auto& a : assigned_) {
    if (a.function == &f) {
      return make_error(ErrorCode::kAlreadyExists, fmt::format("device {} is already assigned",
                                                               model::to_string(f.requester_id())));
    }
  }
  if (kernel_->binding(f) != DriverBinding::kPciStub) {
    return make_error(
        ErrorCode::kBusy,
        fmt::format("device {} must be bound to pci-stub (bound to {})",
                    model::to_string(f.requester_id()), to_string(kernel_->binding(f))));
  }
  auto unit = kernel_->unit_of(f);
  if (!unit) return tl::unexpected(unit.error());
  const bool fresh = domains_.count(*unit) == 0;
  auto did = domain_for(*unit);
  if (!did) return tl::unexpected(did.error());
  auto& drv = kernel_->dma_driver(*unit);
  Assigned a{&f, *unit, {}, {}};
  for (auto sid : kernel_->dma_source_ids(f)) {
    if (auto off = drv.detach(sid); !off && off.error().code != ErrorCode::kNotFound) {
      for (auto s : a.sids) (void)drv.detach(s);
      return off;
    }
    if (auto ok = drv.attach(*did, sid); !ok) {
      for (auto s : a.sids) (void)drv.detach(s);
      if (fresh) {
        (void)drv.destroy_domain(*did);
        domains_.erase(*unit);
      }
      return ok;
    }
    a.sids.push_back(sid);
  }
  assigned_.push_back(std::move(a));
  return {};
}

void KvmDeviceAssignment::release_irqs(Assigned& a) {
  if (a.irqs.empty()) return;
  kernel_->set_msix_control(*a.function, false, false);
  (void)kernel_->free_irqs(a.irqs, false);
  a.irqs.clear();
}

Status KvmDeviceAssignment::deassign_device(pci::Function& f) {
  auto it = std::find_if(assigned_.begin(), assigned_.end(),
                         [&](const Assigned& a) { return a.function == &f; });
  if (it == assigned_.end()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("device {} is not assigned", model::to_string(f.requester_id())));
  }
  release_irqs(*it);
  Status st;
  for (auto sid : it->sids) {
    if (auto ok = kernel_->dma_driver(it->unit).detach(sid); !ok && st) st = ok;
  }
  bars_.erase(
      std::remove_if(bars_.begin(), bars_.end(), [&](const BarMap& b) { return b.function == &f; }),
      bars_.end());
  assigned_.erase(it);
  return st;
}

Status KvmDeviceAssignment::assign_msix(
    pci::Function& f, std::span<const std::pair<unsigned, std::uint32_t>> entries) {
  auto it = std::find_if(assigned_.begin(), assigned_.end(),
                         [&](const Assigned& a) { return a.function == &f; });
  if (it == assigned_.end()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("device {} is not assigned", model::to_string(f.requester_id())));
  }
  const unsigned table = f.msix_table() != nullptr ? f.msix_table()->size() : 0;
  if (entries.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "assign_msix: no entries");
  }
  for (const auto& [entry, gsi] : entries) {
    if (entry >= table) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("assign_msix: entry {} beyond the {}-entry MSI-X table", entry, table));
    }
    if (auto r = vm_->route(gsi); !r) return tl::unexpected(r.error());
  }
  release_irqs(*it);
  auto irqs = kernel_->request_irqs(f, static_cast<unsigned>(entries.size()), false);
  if (!irqs) return tl::unexpected(irqs.error());
  it->irqs = *irqs;
  kernel_->set_msix_control(f, true, true);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto [entry, gsi] = entries[i];
    kernel_->set_handler(it->irqs[i], [this, gsi = gsi] {
      // kvm_assigned_dev_msix: kvm_set_irq on the entry's GSI, i.e. its MSI route.
      if (auto r = vm_->route(gsi)) {
        ++stats_.msix_injections;
        vm_->inject_msi(r->address, r->data);
      }
    });
    kernel_->write_msix_entry(f, entry, kernel_->msi_message(it->irqs[i]), false);
  }
  kernel_->set_msix_control(f, true, false);
  return {};
}

Status KvmDeviceAssignment::map_bar(pci::Function& f, unsigned bar, std::uint64_t gpa) {
  if (bar >= f.bar_count() || f.bar_spec(bar).kind == pci::BarKind::kNone ||
      f.bar_spec(bar).kind == pci::BarKind::kIo || f.bar_address(bar) == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("BAR {} of {} is not an assigned memory BAR", bar,
                                  model::to_string(f.requester_id())));
  }
  const std::uint64_t size = f.bar_spec(bar).size;
  if (gpa % size != 0) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("guest BAR address {:#x} is not aligned to its size {:#x}", gpa, size));
  }
  bars_.push_back(BarMap{&f, bar, gpa, size, f.bar_address(bar)});
  return {};
}

bool KvmDeviceAssignment::guest_mmio_read(std::uint64_t gpa, unsigned size, std::uint64_t* value) {
  for (const auto& b : bars_) {
    if (gpa >= b.gpa && gpa - b.gpa < b.size) {
      *value = kernel_->machine().mmio_read(b.hpa + (gpa - b.gpa), size);
      return true;
    }
  }
  return false;
}

bool KvmDeviceAssignment::guest_mmio_write(std::uint64_t gpa, unsigned size, std::uint64_t value) {
  for (const auto& b : bars_) {
    if (gpa >= b.gpa && gpa - b.gpa < b.size) {
      const pci::MsixTable* t = b.function->msix_table();
      if (auto cap = b.function->msix_offset(); t != nullptr && cap) {
        const std::uint32_t loc = b.function->config_read(*cap + pci::msix::kTable, 4);
        const std::uint64_t start = pci::msix::OFFSET::raw(loc);
        const std::uint64_t off = gpa - b.gpa;
        if (pci::msix::BIR::get(loc) == b.bar && off < start + t->table_bytes() &&
            start < off + size) {
          return true;  // trapped: the host owns the table
        }
      }
      kernel_->machine().mmio_write(b.hpa + (gpa - b.gpa), size, value);
      return true;
    }
  }
  return false;
}

}  // namespace vtdsim::passthrough
