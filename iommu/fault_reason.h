// VT-d fault reason codes (spec 4.x §7.1.3 tables 7.1–7.3; facts sheet §5.1), with the spec's
// meaning as the name. Values are the codes written to FRCD.FR.
#pragma once

#include <cstdint>
#include <string_view>

namespace vtdsim::iommu {

enum class FaultReason : std::uint8_t {
  kNone = 0x00,
  // Legacy DMA remapping.
  kRootNotPresent = 0x01,
  kContextNotPresent = 0x02,
  kContextInvalid = 0x03,   // bad AW/TT or unsupported level
  kAddressBeyondAw = 0x04,  // input address above 2^min(AGAW, MGAW)
  kWriteDenied = 0x05,
  kReadDenied = 0x06,
  kPagingEntryReadError = 0x07,  // error reading a second-stage entry
  kRootReadError = 0x08,
  kContextReadError = 0x09,
  kRootReserved = 0x0A,
  kContextReserved = 0x0B,
  kPagingEntryReserved = 0x0C,
  kTranslationTypeBlocked = 0x0D,  // AT=translation request/translated blocked by TT
  kOutputInInterruptRange = 0x0E,
  // Interrupt remapping.
  kIrReservedRequest = 0x20,
  kIrIndexBeyondTable = 0x21,
  kIrEntryNotPresent = 0x22,
  kIrEntryReadError = 0x23,
  kIrEntryReserved = 0x24,
  kIrCompatBlocked = 0x25,
  kIrSourceIdFailed = 0x26,
  kIrPidReadError = 0x27,  // [U] error reading the posted-interrupt descriptor
  kIrPidReserved = 0x28,   // [U] reserved field set in the posted-interrupt descriptor
  // Scalable mode.
  kSmInvalidRootAddress = 0x30,
  kSmLegacyTtmWithPasid = 0x31,
  kSmRootReadError = 0x38,
  kSmRootNotPresent = 0x39,
  kSmRootReserved = 0x3A,
  kSmContextReadError = 0x40,
  kSmContextNotPresent = 0x41,
  kSmContextReserved = 0x42,
  kSmContextInvalid = 0x43,
  kSmDteClear = 0x44,
  kSmPasidDisabled = 0x45,
  kSmPasidBeyondDirectory = 0x46,
  kSmPreClear = 0x47,
  kSmRidPasidError = 0x48,
  kSmPasidDirReadError = 0x50,
  kSmPasidDirNotPresent = 0x51,
  kSmPasidDirReserved = 0x52,
  kSmPasidEntryReadError = 0x58,
  kSmPasidEntryNotPresent = 0x59,
  kSmPasidEntryReserved = 0x5A,
  kSmPasidEntryInvalid = 0x5B,
  kSmEreClear = 0x5C,
  kSmSreClear = 0x5D,
  kSmFsEntryReadError = 0x70,
  kSmFsEntryNotPresent = 0x71,
  kSmFsEntryReserved = 0x72,
  kSmFsTopReadError = 0x73,
  kSmFsEntryBeyondMgaw = 0x74,
  kSmFsTopReadDenied = 0x75,
  kSmFsEntryReadDenied = 0x76,
  kSmFsEntryWriteDenied = 0x77,
  kSmSsEntryReadError = 0x78,
  kSmSsPermission = 0x79,
  kSmSsEntryReserved = 0x7A,
  kSmSsInvalidPointer = 0x7B,
  kSmSsAdNotSnooped = 0x7C,
  kSmFsNonCanonical = 0x80,
  kSmFsUserDenied = 0x81,
  kSmExecuteDenied = 0x82,
  kSmAddressBeyondMax = 0x83,
  kSmSsAddressBeyondMax = 0x84,
  kSmWriteDenied = 0x85,
  kSmReadDenied = 0x86,
  kSmOutputInInterruptRange = 0x87,
  kSmFsAdNotSnooped = 0x90,
  kSmFsAdUpdateFailed = 0x91,
};

constexpr std::uint8_t code(FaultReason r) {
  return static_cast<std::uint8_t>(r);
}

// Short spec-style description ("context entry not present", ...).
std::string_view describe(FaultReason reason);

// Qualified faults are suppressed when the effective FPD is 1 (spec §7.1.2; facts §5.2).
// MODEL: the spec's qualification table could not be checked (facts §5.2 is [Q]); this follows
// QEMU's set. Faults found before FPD can be read (0x01, 0x08, 0x09, 0x0A) and 0x0B are
// non-qualified; for IR only 0x22/0x24/0x26 are (IRTE.FPD).
bool is_qualified(FaultReason reason);

}  // namespace vtdsim::iommu
