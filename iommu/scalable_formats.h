// Scalable-mode (RTADDR.TTM = 01) translation structures as field tables: scalable root entry,
// 256-bit scalable context entry, PASID directory entry, 512-bit PASID table entry and the
// IA-32e first-stage paging entry (spec 4.x §9.2, §9.4, §9.5, §9.6, §9.7; facts §3.1, §3.3–3.5,
// §4.3). Bits that depend on CAP/ECAP (SRE, SSADE, EAFE, pointers above the host address width)
// are checked by pasid_lookup.cc, not by the layouts.
// Not modelled: memory typing fields (PWT/PCD/PAT/EMT/CD are decoded as ignored), RID_PRIV
// (ECAP.RPRIVS is not advertised, so bit 84 is reserved).
#pragma once

#include <cstdint>

#include "model/field.h"

namespace vtdsim::iommu {

// Scalable root entry, 128-bit, indexed by bus (§9.2; facts §3.1). The lower context table
// serves devfn 0x00–0x7F, the upper one 0x80–0xFF; index inside a table = devfn & 0x7F.
namespace sm_root_entry {
using LP = model::Field<0, 0>;
using LCTP = model::Field<63, 12>;
using UP = model::Field<64, 64>;
using UCTP = model::Field<127, 76>;
// Bits 11:1 and 75:65 reserved (fault 0x3A in a present half).
using Layout = model::Layout<2, LP, LCTP, UP, UCTP>;
static_assert(model::valid_layout<Layout>());
inline constexpr std::uint64_t kSize = 16;
}  // namespace sm_root_entry

// Scalable-mode context entry, 256-bit, 128 per table (§9.4; facts §3.3).
namespace sm_context_entry {
using P = model::Field<0, 0>;
using FPD = model::Field<1, 1>;  // evaluated even when P = 0
using DTE = model::Field<2, 2>;  // device-TLB (ATS) enable
using PASIDE = model::Field<3, 3>;
using PRE = model::Field<4, 4>;
using PDTS = model::Field<11, 9>;  // directory of 2^(PDTS+7) entries
using PASIDDIRPTR = model::Field<63, 12>;
using RID_PASID = model::Field<83, 64>;
// Bits 8:5, 127:84 and 255:128 reserved (fault 0x42).
using Layout = model::Layout<4, P, FPD, DTE, PASIDE, PRE, PDTS, PASIDDIRPTR, RID_PASID>;
static_assert(model::valid_layout<Layout>());
inline constexpr std::uint64_t kSize = 32;
inline constexpr unsigned kEntriesPerTable = 128;
}  // namespace sm_context_entry

// PASID directory entry, 64-bit, indexed by PASID[19:6] (§9.5; facts §3.4).
namespace pasid_dir_entry {
using P = model::Field<0, 0>;
using FPD = model::Field<1, 1>;
using SMPTBLPTR = model::Field<63, 12>;
// Bits 11:2 reserved (fault 0x52).
using Layout = model::Layout<1, P, FPD, SMPTBLPTR>;
static_assert(model::valid_layout<Layout>());
inline constexpr std::uint64_t kSize = 8;
}  // namespace pasid_dir_entry

// PASID table entry, 512-bit, indexed by PASID[5:0] (§9.6; facts §3.5).
namespace pasid_entry {
// QW0
using P = model::Field<0, 0>;
using FPD = model::Field<1, 1>;
using AW = model::Field<4, 2>;  // second-stage width, context-entry AW encoding
using PGTT = model::Field<8, 6>;
using SSADE = model::Field<9, 9>;  // needs ECAP.SLADS
using SSPTPTR = model::Field<63, 12>;
// QW1
using DID = model::Field<79, 64>;
using PWSNP = model::Field<87, 87>;  // page-walk snoop
using PGSNP = model::Field<88, 88>;
using CD = model::Field<89, 89>;    // memory typing: ignored
using EMTE = model::Field<90, 90>;  // ignored
using EMT = model::Field<93, 91>;   // ignored
using PWT = model::Field<94, 94>;   // ignored
using PCD = model::Field<95, 95>;   // ignored
using PAT = model::Field<127, 96>;  // ignored
// QW2
using SRE = model::Field<128, 128>;   // needs ECAP.SRS, else reserved
using FSPM = model::Field<131, 130>;  // 00 4-level, 01 5-level (CAP.FL5LP)
using WPE = model::Field<132, 132>;
using NXE = model::Field<133, 133>;
using IGN_134 = model::Field<134, 134>;
using EAFE = model::Field<135, 135>;  // needs ECAP.EAFS, else reserved
using FSPTPTR = model::Field<191, 140>;
// Bits 5, 11:10, 86:80, 129, 139:136 and QW3–QW7 reserved (fault 0x5A).
using Layout = model::Layout<8, P, FPD, AW, PGTT, SSADE, SSPTPTR, DID, PWSNP, PGSNP, CD, EMTE, EMT,
                             PWT, PCD, PAT, SRE, FSPM, WPE, NXE, IGN_134, EAFE, FSPTPTR>;
static_assert(model::valid_layout<Layout>());
inline constexpr std::uint64_t kSize = 64;
inline constexpr unsigned kEntriesPerTable = 64;

// PGTT encodings (§9.6).
inline constexpr std::uint64_t kPgttFirstStage = 0b001;
inline constexpr std::uint64_t kPgttSecondStage = 0b010;
inline constexpr std::uint64_t kPgttNested = 0b011;
inline constexpr std::uint64_t kPgttPassThrough = 0b100;
}  // namespace pasid_entry

// First-stage paging entry, IA-32e format, 64-bit (§9.7; facts §4.3). Every bit is named, so
// the layout has no reserved bits of its own: ADDR bits at or above the host address width,
// PS where no page of that size exists, the low address bits of a large page (bit 12 is PAT
// there) and XD without PASID-entry NXE are reserved, and the walker checks them.
namespace fs_entry {
using P = model::Field<0, 0>;
using RW = model::Field<1, 1>;
using US = model::Field<2, 2>;
using PWT = model::Field<3, 3>;
using PCD = model::Field<4, 4>;
using A = model::Field<5, 5>;
using D = model::Field<6, 6>;  // leaf only; ignored in non-leaf entries
using PS = model::Field<7, 7>;
using G = model::Field<8, 8>;
using IGN_11_9 = model::Field<11, 9>;
using ADDR = model::Field<51, 12>;
using IGN_62_52 = model::Field<62, 52>;
using XD = model::Field<63, 63>;
using Layout = model::Layout<1, P, RW, US, PWT, PCD, A, D, PS, G, IGN_11_9, ADDR, IGN_62_52, XD>;
static_assert(model::valid_layout<Layout>());
static_assert(Layout::kReserved[0] == 0);
inline constexpr std::uint64_t kSize = 8;
}  // namespace fs_entry

// PASID arithmetic (§3.4.3; facts §3.3): directory index PASID[19:6], table index PASID[5:0].
constexpr std::uint32_t pasid_dir_index(std::uint32_t pasid) {
  return pasid >> 6;
}
constexpr std::uint32_t pasid_table_index(std::uint32_t pasid) {
  return pasid & 0x3Fu;
}
// Entries in a PASID directory of size field PDTS.
constexpr std::uint64_t pasid_dir_entries(unsigned pdts) {
  return std::uint64_t{1} << (pdts + 7);
}

// First-stage address checks (§3.6.1): canonical = bits 63:width-1 all equal.
constexpr bool is_canonical(std::uint64_t address, unsigned width) {
  const auto top = static_cast<std::int64_t>(address) >> (width - 1);
  return top == 0 || top == -1;
}

}  // namespace vtdsim::iommu
