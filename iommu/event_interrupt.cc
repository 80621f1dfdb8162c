// Event interrupt IM/IP handshake and message delivery (spec §7.3; facts §5.3, §6.7).
#include "iommu/event_interrupt.h"

namespace vtdsim::iommu {

void EventInterrupt::raise(model::Cycle now) {
  regs_.set_field<event_ctl::IP>(control_, 1);
  if (regs_.field<event_ctl::IM>(control_) == 0) send(now);
}

void EventInterrupt::on_control_write(model::Cycle now) {
  if (pending() && regs_.field<event_ctl::IM>(control_) == 0) send(now);
}

void EventInterrupt::send(model::Cycle now) {
  regs_.set_field<event_ctl::IP>(control_, 0);
  const std::uint64_t address = (regs_.get(upper_) << 32) | regs_.get(address_);
  const auto data = static_cast<std::uint32_t>(regs_.get(data_));
  model::ApicMessage message = model::decode_compat_msi(address, data);
  message.time = now;
  ++sent_;
  if (sink_ != nullptr) sink_->deliver(message);
}

}  // namespace vtdsim::iommu
