// Interrupt remapping table entry formats (VT-d spec §9.9 remapped IRTE, §9.10 posted IRTE) and
// the posted-interrupt descriptor (§9.11); facts sheet §7.2–§7.4. Field tables with the reserved
// bits derived as their complement, plus the mode-dependent (conditional) reserved masks.
// Not modelled: the AVAIL bits carry no meaning for hardware and are ignored.
#pragma once

#include <cstdint>

#include "model/field.h"

namespace vtdsim::irq_remap {

inline constexpr std::uint64_t kIrteSize = 16;  // §5.1.3: 128-bit entries

// §9.9: IRTE for remapped interrupts (IM = 0).
namespace irte {
using P = model::Field<0, 0>;
using FPD = model::Field<1, 1>;
using DM = model::Field<2, 2>;   // 0 physical, 1 logical
using RH = model::Field<3, 3>;   // redirection hint
using TM = model::Field<4, 4>;   // 0 edge, 1 level
using DLM = model::Field<7, 5>;  // delivery mode (x86 encodings)
using AVAIL = model::Field<11, 8>;
using IM = model::Field<15, 15>;  // 0 remapped, 1 posted
using V = model::Field<23, 16>;   // vector
using DST = model::Field<63, 32>;
using SID = model::Field<79, 64>;
using SQ = model::Field<81, 80>;
using SVT = model::Field<83, 82>;
using Layout = model::Layout<2, P, FPD, DM, RH, TM, DLM, AVAIL, IM, V, DST, SID, SQ, SVT>;
static_assert(model::valid_layout<Layout>());
// Reserved: 14:12, 31:24, 127:84.
static_assert(Layout::kReserved[0] == 0x00000000FF007000ull);
static_assert(Layout::kReserved[1] == 0xFFFFFFFFFFF00000ull);

// xAPIC mode (IRTA.EIME = 0), §9.9 DST: 63:48 reserved (0), 47:40 APIC DestinationID[7:0],
// 39:32 reserved (0). Confirmed by an implementation quoting §9.9 and by a chipset datasheet's
// IRTA.EIME text ("high bits of the Destination-ID treated as reserved"). The facts sheet tags
// this [U]; we treat those bits as reserved (fault 0x24), as the spec table says.
using DST_XAPIC = model::Field<47, 40>;
inline constexpr std::uint64_t kXapicDstReserved = 0xFFFF00FF00000000ull;
static_assert((kXapicDstReserved & DST::kMask) == kXapicDstReserved);
static_assert((kXapicDstReserved & DST_XAPIC::kMask) == 0);

// §9.9 DLM: 011b and 110b are reserved encodings (a "conditional reserved field", fault 0x24).
constexpr bool dlm_reserved(std::uint64_t dlm) {
  return dlm == 3 || dlm == 6;
}

// SVT encodings (§9.9).
inline constexpr std::uint64_t kSvtNone = 0;
inline constexpr std::uint64_t kSvtSidSq = 1;
inline constexpr std::uint64_t kSvtBus = 2;
}  // namespace irte

// §9.10: IRTE for posted interrupts (IM = 1; needs CAP.PI, else IM is a reserved bit).
namespace posted_irte {
using P = model::Field<0, 0>;
using FPD = model::Field<1, 1>;
using AVAIL = model::Field<11, 8>;
using URG = model::Field<14, 14>;
using IM = model::Field<15, 15>;
using VV = model::Field<23, 16>;     // vector to post in the PIR
using PDA_L = model::Field<63, 38>;  // descriptor address bits 31:6
using SID = model::Field<79, 64>;
using SQ = model::Field<81, 80>;
using SVT = model::Field<83, 82>;
using PDA_H = model::Field<127, 96>;  // descriptor address bits 63:32
using Layout = model::Layout<2, P, FPD, AVAIL, URG, IM, VV, PDA_L, SID, SQ, SVT, PDA_H>;
static_assert(model::valid_layout<Layout>());
// Reserved: 7:2, 13:12, 37:24, 95:84.
static_assert(Layout::kReserved[0] == 0x0000003FFF0030FCull);
static_assert(Layout::kReserved[1] == 0x00000000FFF00000ull);

// The 64-byte aligned descriptor address.
constexpr std::uint64_t descriptor_address(const model::Entry128& e) {
  return (e.get<PDA_H>() << 32) | (e.get<PDA_L>() << 6);
}
}  // namespace posted_irte

// §9.11: posted-interrupt descriptor, 64 bytes, 64-byte aligned.
namespace pid {
using PIR0 = model::Field<63, 0>;  // PIR bits 255:0, one per vector
using PIR1 = model::Field<127, 64>;
using PIR2 = model::Field<191, 128>;
using PIR3 = model::Field<255, 192>;
using ON = model::Field<256, 256>;  // outstanding notification
using SN = model::Field<257, 257>;  // suppress notification (non-urgent)
using NV = model::Field<279, 272>;  // notification vector
using NDST = model::Field<319, 288>;
using Layout = model::Layout<8, PIR0, PIR1, PIR2, PIR3, ON, SN, NV, NDST>;
static_assert(model::valid_layout<Layout>());
// Reserved: 271:258, 287:280, 511:320.
static_assert(Layout::kReserved[4] == 0x00000000FF00FFFCull);
static_assert(Layout::kReserved[5] == ~0ull && Layout::kReserved[7] == ~0ull);

inline constexpr std::uint64_t kSize = 64;
// xAPIC mode: NDST 319:304 and 295:288 reserved, APIC id in 303:296 (NDST[15:8]) (§9.11).
using NDST_XAPIC = model::Field<303, 296>;
inline constexpr std::uint64_t kXapicNdstReserved = 0xFFFF00FF00000000ull;  // within qword 4
static_assert((kXapicNdstReserved & NDST::kMask) == kXapicNdstReserved);
static_assert((kXapicNdstReserved & NDST_XAPIC::kMask) == 0);
}  // namespace pid

}  // namespace vtdsim::irq_remap
