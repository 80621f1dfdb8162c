// One event-interrupt source of the unit: the fault event (FECTL/FEDATA/FEADDR/FEUADDR) or the
// invalidation-completion event (IECTL/IEDATA/IEADDR/IEUADDR) (spec §7.3, §6.5.2.7; facts
// §5.3, §6.7). IP is set on a new interrupt condition; the message is sent at once when IM=0,
// otherwise held pending until software clears IM. Messages use the compatibility MSI format
// (the unit's own events are never remapped).
#pragma once

#include <cstdint>

#include "iommu/register_file.h"
#include "model/interrupt_sink.h"
#include "model/types.h"

namespace vtdsim::iommu {

class EventInterrupt {
 public:
  // `sent` is the counter incremented for every message delivered.
  EventInterrupt(RegisterFile& regs, Reg control, Reg data, Reg address, Reg upper_address,
                 std::uint64_t& sent)
      : regs_(regs),
        control_(control),
        data_(data),
        address_(address),
        upper_(upper_address),
        sent_(sent) {}

  void set_sink(model::InterruptSink* sink) { sink_ = sink; }

  // A new interrupt condition: set IP; send now unless masked.
  void raise(model::Cycle now);
  // After software wrote the control register: a pending message goes out once IM is clear.
  void on_control_write(model::Cycle now);
  // Software serviced every status bit behind the event: the pending message is dropped.
  void clear_pending() { regs_.set_field<event_ctl::IP>(control_, 0); }
  bool pending() const { return regs_.field<event_ctl::IP>(control_) != 0; }

 private:
  void send(model::Cycle now);

  RegisterFile& regs_;
  Reg control_;
  Reg data_;
  Reg address_;
  Reg upper_;
  std::uint64_t& sent_;
  model::InterruptSink* sink_ = nullptr;
};

}  // namespace vtdsim::iommu
