// VfioPciDevice interrupt emulation (see vmm.h): the guest's MSI-X table and MSI capability
// become KVM MSI routes, irqfds and VFIO triggers (PCI 3.0 §6.8 for the guest-visible rules:
// a vector delivers only when MSI-X is enabled, the function is not masked and the vector is
// not masked; a message raised while masked sets the pending bit and is sent on unmask).
#include <fmt/format.h>

#include "passthrough/vmm.h"
#include "pci/capabilities.h"

namespace vtdsim::passthrough {

bool VfioPciDevice::msix_enabled() const {
  return msix_cap_ != 0 && (cfg_[msix_cap_ + 3] & 0x80u) != 0;
}

bool VfioPciDevice::msix_function_masked() const {
  return (cfg_[msix_cap_ + 3] & 0x40u) != 0;
}

std::optional<std::uint32_t> VfioPciDevice::msix_gsi(unsigned vector) const {
  if (vector >= vectors_.size() || !vectors_[vector]->in_use) return std::nullopt;
  return vectors_[vector]->gsi;
}

EventFd* VfioPciDevice::msix_irqfd(unsigned vector) {
  return vector < vectors_.size() ? &vectors_[vector]->kvm : nullptr;
}

bool VfioPciDevice::msix_pending(unsigned vector) const {
  return vector < vectors_.size() && vectors_[vector]->pending;
}

std::uint64_t VfioPciDevice::msix_table_read(std::uint64_t offset, unsigned size) const {
  const std::uint64_t v = offset / pci::msix::kEntrySize;
  const auto dw = static_cast<unsigned>((offset % pci::msix::kEntrySize) / 4);
  if (size == 8 && dw % 2 == 0) {
    return std::uint64_t{msix_table_[v][dw]} | (std::uint64_t{msix_table_[v][dw + 1]} << 32);
  }
  if (size == 4 && offset % 4 == 0) return msix_table_[v][dw];
  return ~std::uint64_t{0};  // PCI 3.0 §6.8.2: dword or aligned qword accesses only
}

void VfioPciDevice::msix_table_write(std::uint64_t offset, unsigned size, std::uint64_t value) {
  const std::uint64_t v = offset / pci::msix::kEntrySize;
  const auto dw = static_cast<unsigned>((offset % pci::msix::kEntrySize) / 4);
  if (size == 8 && dw % 2 == 0) {
    msix_table_[v][dw] = static_cast<std::uint32_t>(value);
    msix_table_[v][dw + 1] = static_cast<std::uint32_t>(value >> 32);
  } else if (size == 4 && offset % 4 == 0) {
    msix_table_[v][dw] = static_cast<std::uint32_t>(value);
  } else {
    return;
  }
  msix_update(static_cast<unsigned>(v));
}

Status VfioPciDevice::msix_vfio_grow(unsigned vector) {
  // QEMU re-enables MSI-X in VFIO with more vectors when the guest uses a higher one.
  if (device_->irq_type() == VfioIrqType::kMsix && vector < device_->enabled_vectors()) {
    return {};
  }
  if (device_->irq_type() == VfioIrqType::kMsix) {
    if (auto ok = device_->set_irqs(vfio::kIrqSetDataNone | vfio::kIrqSetActionTrigger,
                                    vfio::kPciMsixIrqIndex, 0, 0);
        !ok) {
      return ok;
    }
  }
  std::vector<EventFd*> fds(vector + 1, nullptr);
  for (unsigned i = 0; i <= vector; ++i) {
    Vector& s = *vectors_[i];
    if (s.in_use) fds[i] = s.bypassing_vmm ? &s.kvm : &s.vmm;
  }
  return device_->set_irqs(vfio::kIrqSetDataEventfd | vfio::kIrqSetActionTrigger,
                           vfio::kPciMsixIrqIndex, 0, vector + 1, fds);
}

void VfioPciDevice::msix_update(unsigned vector) {
  Vector& s = *vectors_[vector];
  const auto& e = msix_table_[vector];
  const bool active = msix_enabled() && !msix_function_masked() && (e[3] & 1u) == 0;
  const MsiRoute route{e[0] | (std::uint64_t{e[1]} << 32), e[2]};
  if (!s.in_use) {
    if (!active) return;
    s.gsi = vm_->allocate_gsi();
    s.route = route;
    if (!vm_->set_msi_route(s.gsi, route)) return;
    if (!vm_->add_irqfd(s.kvm, s.gsi)) return;
    s.vmm.unbind_all();
    s.vmm.bind([this, vector] { vectors_[vector]->pending = true; });
    s.in_use = true;
    s.bypassing_vmm = true;
    (void)msix_vfio_grow(vector);  // the trigger goes straight to the irqfd
    return;
  }
  if (route.address != s.route.address || route.data != s.route.data) {
    s.route = route;
    (void)vm_->set_msi_route(s.gsi, route);  // KVM re-evaluates a posted IRTE
  }
  if (active && !s.bypassing_vmm) {
    s.bypassing_vmm = true;
    EventFd* fd = &s.kvm;
    (void)device_->set_irqs(vfio::kIrqSetDataEventfd | vfio::kIrqSetActionTrigger,
                            vfio::kPciMsixIrqIndex, vector, 1, std::span<EventFd* const>(&fd, 1));
    if (s.pending) {
      s.pending = false;
      vm_->inject_msi(route.address, route.data);
    }
  } else if (!active && s.bypassing_vmm) {
    s.bypassing_vmm = false;
    EventFd* fd = &s.vmm;
    (void)device_->set_irqs(vfio::kIrqSetDataEventfd | vfio::kIrqSetActionTrigger,
                            vfio::kPciMsixIrqIndex, vector, 1, std::span<EventFd* const>(&fd, 1));
  }
}

void VfioPciDevice::msix_control_written() {
  if (!msix_enabled()) {
    msix_release_all();
    return;
  }
  for (unsigned v = 0; v < vectors_.size(); ++v) msix_update(v);
}

void VfioPciDevice::msix_release_all() {
  if (device_ != nullptr && device_->irq_type() == VfioIrqType::kMsix) {
    (void)device_->set_irqs(vfio::kIrqSetDataNone | vfio::kIrqSetActionTrigger,
                            vfio::kPciMsixIrqIndex, 0, 0);
  }
  for (auto& s : vectors_) {
    if (!s->in_use) continue;
    (void)vm_->remove_irqfd(s->kvm, s->gsi);
    s->in_use = false;
    s->bypassing_vmm = false;
    s->pending = false;
  }
}

void VfioPciDevice::msi_written() {
  const bool addr64 = pci::msi::ADDR64::get(cfg_[msi_cap_ + 2]) != 0;
  const bool enabled = (cfg_[msi_cap_ + 2] & 1u) != 0;
  const unsigned nvec = 1u << ((cfg_[msi_cap_ + 2] >> 4) & 7u);
  auto dword = [&](std::uint32_t o) {
    return std::uint32_t{cfg_[o]} | (std::uint32_t{cfg_[o + 1]} << 8) |
           (std::uint32_t{cfg_[o + 2]} << 16) | (std::uint32_t{cfg_[o + 3]} << 24);
  };
  std::uint64_t address = dword(msi_cap_ + pci::msi::kAddressLo);
  if (addr64) address |= std::uint64_t{dword(msi_cap_ + pci::msi::address_hi(true))} << 32;
  const std::uint32_t data_off = msi_cap_ + pci::msi::data(addr64);
  const std::uint32_t data = cfg_[data_off] | (std::uint32_t{cfg_[data_off + 1]} << 8);
  if (!enabled) {
    msi_release();
    return;
  }
  if (!msi_vectors_.empty()) {
    for (unsigned i = 0; i < msi_vectors_.size(); ++i) {  // address/data update
      const MsiRoute r{address, (data & ~(nvec - 1)) | i};
      (void)vm_->set_msi_route(msi_vectors_[i]->gsi, r);
    }
    return;
  }
  std::vector<EventFd*> fds;
  for (unsigned i = 0; i < nvec; ++i) {
    auto s = std::make_unique<Vector>();
    s->gsi = vm_->allocate_gsi();
    s->route = MsiRoute{address, (data & ~(nvec - 1)) | i};
    (void)vm_->set_msi_route(s->gsi, s->route);
    (void)vm_->add_irqfd(s->kvm, s->gsi);
    s->in_use = true;
    s->bypassing_vmm = true;
    fds.push_back(&s->kvm);
    msi_vectors_.push_back(std::move(s));
  }
  (void)device_->set_irqs(vfio::kIrqSetDataEventfd | vfio::kIrqSetActionTrigger,
                          vfio::kPciMsiIrqIndex, 0, nvec, fds);
}

void VfioPciDevice::msi_release() {
  if (msi_vectors_.empty()) return;
  if (device_ != nullptr && device_->irq_type() == VfioIrqType::kMsi) {
    (void)device_->set_irqs(vfio::kIrqSetDataNone | vfio::kIrqSetActionTrigger,
                            vfio::kPciMsiIrqIndex, 0, 0);
  }
  for (auto& s : msi_vectors_) (void)vm_->remove_irqfd(s->kvm, s->gsi);
  msi_vectors_.clear();
}

}  // namespace vtdsim::passthrough
