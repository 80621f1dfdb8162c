// VfioDevice interrupts: VFIO_DEVICE_SET_IRQS for MSI and MSI-X (see vfio_device.h). The host
// side is what vfio-pci does: allocate host interrupts (remapped IRTEs, VT-d §9.10), write the
// device's MSI capability or MSI-X table with the remappable address/data (§5.1.5.2), and run
// a handler per vector that signals the vector's eventfd.
#include <bit>

#include <fmt/format.h>

#include "passthrough/vfio_device.h"

namespace vtdsim::passthrough {

void VfioDevice::program_vector(unsigned vector, bool masked) {
  if (irq_type_ != VfioIrqType::kMsix) return;
  kernel_->write_msix_entry(*function_, vector, kernel_->msi_message(vectors_[vector].irq), masked);
}

Status VfioDevice::enable(VfioIrqType type, unsigned nvec) {
  const bool msi = type == VfioIrqType::kMsi;
  // Multi-message MSI needs a power-of-two block of IRTEs (MME is a log2).
  const unsigned count = msi ? std::bit_ceil(nvec) : nvec;
  auto irqs = kernel_->request_irqs(*function_, count, msi);
  if (!irqs) return tl::unexpected(irqs.error());
  vectors_.clear();
  for (const auto& irq : *irqs) vectors_.push_back(Vector{irq, nullptr, 0});
  irq_type_ = type;
  for (unsigned i = 0; i < vectors_.size(); ++i) {
    kernel_->set_handler(vectors_[i].irq, [this, i] {
      if (i < vectors_.size() && vectors_[i].trigger != nullptr) vectors_[i].trigger->signal();
    });
  }
  if (msi) {
    kernel_->write_msi(*function_, kernel_->msi_message(vectors_[0].irq), count, true);
  } else {
    kernel_->set_msix_control(*function_, true, true);
    for (unsigned i = 0; i < vectors_.size(); ++i) program_vector(i, true);
    kernel_->set_msix_control(*function_, true, false);
  }
  return {};
}

Status VfioDevice::disable() {
  if (irq_type_ == VfioIrqType::kNone) return {};
  for (unsigned i = 0; i < vectors_.size(); ++i) (void)set_trigger(i, nullptr);
  if (irq_type_ == VfioIrqType::kMsi) {
    kernel_->write_msi(*function_, {}, 1, false);
  } else if (irq_type_ == VfioIrqType::kMsix) {
    kernel_->set_msix_control(*function_, false, false);
  }
  std::vector<HostIrq> irqs;
  for (const auto& v : vectors_) irqs.push_back(v.irq);
  const bool block = irq_type_ == VfioIrqType::kMsi;
  vectors_.clear();
  irq_type_ = VfioIrqType::kNone;
  return kernel_->free_irqs(irqs, block);
}

Status VfioDevice::set_trigger(unsigned vector, EventFd* fd) {
  Vector& v = vectors_.at(vector);
  if (v.trigger != nullptr) {
    kernel_->irq_bypass().unregister_producer(v.producer);  // back to remapped if it was posted
    v.producer = 0;
    v.trigger = nullptr;
  }
  if (fd == nullptr) {
    program_vector(vector, true);
    return {};
  }
  v.trigger = fd;
  BypassProducer p;
  p.token = fd;
  p.function = function_;
  p.posting_supported = kernel_->posting_supported(v.irq.unit);
  p.post = [this, vector](std::uint64_t pda, std::uint8_t guest_vector) {
    return kernel_->set_posted(vectors_.at(vector).irq, pda, guest_vector);
  };
  p.unpost = [this, vector] { return kernel_->set_remapped(vectors_.at(vector).irq); };
  auto h = kernel_->irq_bypass().register_producer(std::move(p));
  if (!h) {
    v.trigger = nullptr;
    return tl::unexpected(h.error());
  }
  v.producer = *h;
  program_vector(vector, false);
  return {};
}

Status VfioDevice::set_block(unsigned start, unsigned count, std::span<EventFd* const> fds) {
  if (start + count > vectors_.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("SET_IRQS: vectors [{}, {}) exceed the {} enabled", start,
                                  start + count, vectors_.size()));
  }
  for (unsigned i = 0; i < count; ++i) {
    if (auto ok = set_trigger(start + i, fds[i]); !ok) return ok;
  }
  return {};
}

Status VfioDevice::set_irqs(std::uint32_t flags, unsigned index, unsigned start, unsigned count,
                            std::span<EventFd* const> fds, std::span<const bool> bools) {
  const std::uint32_t data = flags & vfio::kIrqSetDataMask;
  const std::uint32_t action = flags & vfio::kIrqSetActionMaskAll;
  if ((flags & ~(vfio::kIrqSetDataMask | vfio::kIrqSetActionMaskAll)) != 0 ||
      std::popcount(data) != 1 || std::popcount(action) != 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("SET_IRQS: flags {:#x} need exactly one DATA and one ACTION "
                                  "flag",
                                  flags));
  }
  if (index >= vfio::kPciNumIrqs) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("SET_IRQS: IRQ index {} does not exist", index));
  }
  const std::uint32_t max = irq_count(index);
  if ((count == 0 && data != vfio::kIrqSetDataNone) ||
      (count != 0 && (start >= max || count > max - start))) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("SET_IRQS: [{}, +{}) out of the {} IRQs of index {}", start,
                                  count, max, index));
  }
  if ((data == vfio::kIrqSetDataEventfd && fds.size() != count) ||
      (data == vfio::kIrqSetDataBool && bools.size() != count)) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("SET_IRQS: {} data entries for count {}",
                    data == vfio::kIrqSetDataEventfd ? fds.size() : bools.size(), count));
  }
  if (index != vfio::kPciMsiIrqIndex && index != vfio::kPciMsixIrqIndex) {
    return make_error(ErrorCode::kUnsupported,
                      fmt::format("SET_IRQS: IRQ index {} is not modelled", index));
  }
  if (action != vfio::kIrqSetActionTrigger) {
    return make_error(ErrorCode::kUnsupported, "SET_IRQS: MSI/MSI-X support ACTION_TRIGGER only");
  }
  const VfioIrqType type = index == vfio::kPciMsiIrqIndex ? VfioIrqType::kMsi : VfioIrqType::kMsix;
  if (data == vfio::kIrqSetDataNone && count == 0) {
    if (irq_type_ != type) {
      return make_error(ErrorCode::kInvalidArgument, "SET_IRQS: that IRQ type is not enabled");
    }
    return disable();
  }
  if (irq_type_ != VfioIrqType::kNone && irq_type_ != type) {
    return make_error(ErrorCode::kInvalidArgument,
                      "SET_IRQS: another interrupt type is enabled; disable it first");
  }
  if (data == vfio::kIrqSetDataEventfd) {
    if (irq_type_ == type) return set_block(start, count, fds);
    if (auto ok = enable(type, start + count); !ok) return ok;
    if (auto ok = set_block(start, count, fds); !ok) {
      (void)disable();
      return ok;
    }
    return {};
  }
  // DATA_NONE / DATA_BOOL: fire the triggers of enabled vectors (loopback).
  if (irq_type_ != type || start + count > vectors_.size()) {
    return make_error(ErrorCode::kInvalidArgument, "SET_IRQS: vectors not enabled");
  }
  for (unsigned i = 0; i < count; ++i) {
    const bool fire = data == vfio::kIrqSetDataNone || bools[i];
    if (fire && vectors_[start + i].trigger != nullptr) vectors_[start + i].trigger->signal();
  }
  return {};
}

}  // namespace vtdsim::passthrough
