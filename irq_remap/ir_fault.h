// Interrupt-remapping fault reasons (VT-d spec §5.1.4.1 and §7.1.3, fault reason table), with
// which of them are "qualified" (suppressed when the IRTE's FPD is set).
// 0x20–0x26 are [L+Q+O] in the facts sheet. 0x27/0x28 (posted-interrupt descriptor access error
// and reserved field) are recalled from the spec's fault table (rev 3.0+) but could not be
// confirmed in any source searched [U]; §5.2.3 (confirmed) says such requests are blocked as an
// interrupt-remapping fault condition. Not modelled: fault recording (the RemappingUnit does it).
#pragma once

#include <cstdint>
#include <string_view>

namespace vtdsim::irq_remap {

enum class IrFaultReason : std::uint8_t {
  kRequestReservedField = 0x20,  // reserved field set in the remappable request
  kIndexBeyondTable = 0x21,      // interrupt_index >= 2^(IRTA.S+1)
  kIrteNotPresent = 0x22,        // IRTE.P clear
  kIrteAccessError = 0x23,       // error reading the IRTE through IRTA
  kIrteReservedField = 0x24,     // reserved field set in a present IRTE
  kCompatibilityBlocked = 0x25,  // compatibility format blocked (EIME=1 or CFIS=0)
  kSourceIdInvalid = 0x26,       // source-id verification (SVT/SID/SQ) failed
  kPidAccessError = 0x27,        // [U] error accessing the posted-interrupt descriptor
  kPidReservedField = 0x28,      // [U] reserved field set in the posted-interrupt descriptor
};

// Qualified faults are reported only when IRTE.FPD is clear (§5.1.4.1; facts §5.2 [Q]).
constexpr bool is_qualified(IrFaultReason reason) {
  switch (reason) {
    case IrFaultReason::kIrteNotPresent:
    case IrFaultReason::kIrteReservedField:
    case IrFaultReason::kSourceIdInvalid:
    case IrFaultReason::kPidReservedField:
      return true;
    case IrFaultReason::kRequestReservedField:
    case IrFaultReason::kIndexBeyondTable:
    case IrFaultReason::kIrteAccessError:
    case IrFaultReason::kCompatibilityBlocked:
    case IrFaultReason::kPidAccessError:
      return false;
  }
  return false;
}

constexpr std::string_view to_string(IrFaultReason reason) {
  switch (reason) {
    case IrFaultReason::kRequestReservedField:
      return "reserved field in remappable request";
    case IrFaultReason::kIndexBeyondTable:
      return "interrupt index beyond table size";
    case IrFaultReason::kIrteNotPresent:
      return "IRTE not present";
    case IrFaultReason::kIrteAccessError:
      return "error reading IRTE";
    case IrFaultReason::kIrteReservedField:
      return "reserved field in IRTE";
    case IrFaultReason::kCompatibilityBlocked:
      return "compatibility-format interrupt blocked";
    case IrFaultReason::kSourceIdInvalid:
      return "source-id verification failed";
    case IrFaultReason::kPidAccessError:
      return "error accessing posted-interrupt descriptor";
    case IrFaultReason::kPidReservedField:
      return "reserved field in posted-interrupt descriptor";
  }
  return "?";
}

}  // namespace vtdsim::irq_remap
