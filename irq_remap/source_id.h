// Source-id verification of an interrupt request against an IRTE's SVT/SID/SQ (VT-d spec §9.9
// SVT and SQ fields; facts §7.2). Common to remapped and posted IRTEs (same bit positions).
//   SVT 00: no check.  SVT 01: compare SID with the requester id, ignoring the bits SQ names
//   (00 none, 01 bit 2, 10 bits 2:1, 11 bits 2:0).  SVT 10: the requester's bus must lie in
//   [SID[15:8], SID[7:0]] (start bus high byte, end bus low byte, as Linux programs it; QEMU
//   reads the bytes the other way round, facts §9.4); SQ ignored.
//   SVT 11: reserved encoding; treated as a verification failure (fault 0x26), as QEMU does —
//   the spec only says "reserved" and no source names the fault for it [U].
#pragma once

#include <cstdint>

#include "model/types.h"

namespace vtdsim::irq_remap {

constexpr bool source_id_valid(model::SourceId source, unsigned svt, unsigned sq,
                               std::uint16_t sid) {
  switch (svt & 3u) {
    case 0:
      return true;
    case 1: {
      // SQ → mask of requester-id bits compared: all, ignore bit 2, ignore 2:1, ignore 2:0.
      constexpr std::uint16_t kCompare[4] = {0xFFFF, 0xFFFB, 0xFFF9, 0xFFF8};
      const std::uint16_t m = kCompare[sq & 3u];
      return (source.raw & m) == (sid & m);
    }
    case 2: {
      const unsigned start = sid >> 8;
      const unsigned end = sid & 0xFFu;
      return source.bus() >= start && source.bus() <= end;
    }
    default:
      return false;
  }
}

}  // namespace vtdsim::irq_remap
