// Posted-interrupt descriptor update (VT-d spec §5.2.3, §9.11).
#include "irq_remap/posted.h"

#include <cstring>

#include "irq_remap/irte.h"

namespace vtdsim::irq_remap {

PostOutcome post_interrupt(model::PhysicalMemory& memory, std::uint64_t pda, std::uint8_t vector,
                           bool urgent, bool x2apic) {
  PostOutcome out;
  // The descriptor is 64-byte aligned (PDA_L holds bits 31:6), so it never crosses a frame.
  if (!memory.contains(pda, pid::kSize)) {
    out.fault = IrFaultReason::kPidAccessError;
    return out;
  }
  auto frame = memory.frame(pda);
  if (!frame) {
    out.fault = IrFaultReason::kPidAccessError;
    return out;
  }
  std::uint8_t* base = *frame + (pda & (model::PhysicalMemory::kFrameSize - 1));
  model::Entry512 d;
  std::memcpy(d.q.data(), base, pid::kSize);

  const bool reserved =
      pid::Layout::reserved_bits_set(d) || (!x2apic && (d.q[4] & pid::kXapicNdstReserved) != 0);
  if (reserved) {
    out.fault = IrFaultReason::kPidReservedField;
    return out;
  }

  d.q[vector >> 6] |= std::uint64_t{1} << (vector & 63u);
  const bool on = d.get<pid::ON>() != 0;
  const bool sn = d.get<pid::SN>() != 0;
  out.notify = !on && (urgent || !sn);
  if (out.notify) {
    d.set<pid::ON>(1);
    model::ApicMessage& n = out.notification;
    n.vector = static_cast<std::uint8_t>(d.get<pid::NV>());
    n.destination = x2apic ? static_cast<std::uint32_t>(d.get<pid::NDST>())
                           : static_cast<std::uint32_t>(d.get<pid::NDST_XAPIC>());
    n.logical = false;
    n.redirection_hint = false;
    n.level = false;
    n.delivery_mode = model::DeliveryMode::kFixed;
  }
  // Write back only the words that changed: the PIR word and, with X, the control word.
  std::memcpy(base + 8 * (vector >> 6), &d.q[vector >> 6], 8);
  if (out.notify) std::memcpy(base + 32, &d.q[4], 8);
  return out;
}

}  // namespace vtdsim::irq_remap
