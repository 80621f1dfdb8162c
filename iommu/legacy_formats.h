// Legacy-mode (RTADDR.TTM = 00) translation structures: root entry, context entry and the
// second-stage paging entry, as field tables (spec 4.x §9.1, §9.3, §9.8; facts §3.1, §3.2,
// §4.1, §4.2), plus the AGAW/level arithmetic of §3.6.
// Scalable-mode formats are in scalable_formats.h. Not modelled: bits 6:2 of second-stage
// entries (ignored, facts §9.11).
#pragma once

#include <cstdint>

#include "model/field.h"

namespace vtdsim::iommu {

// Root entry, 128-bit, 256 per root table indexed by bus (§9.1; facts §3.1).
namespace root_entry {
using P = model::Field<0, 0>;
using CTP = model::Field<63, 12>;  // context-table pointer
// Bits 11:1 and 127:64 reserved (fault 0x0A when set in a present entry).
using Layout = model::Layout<2, P, CTP>;
static_assert(model::valid_layout<Layout>());
inline constexpr std::uint64_t kSize = 16;
}  // namespace root_entry

// Legacy context entry, 128-bit, 256 per context table indexed by devfn (§9.3; facts §3.2).
namespace context_entry {
using P = model::Field<0, 0>;
using FPD = model::Field<1, 1>;  // evaluated even when P = 0
using TT = model::Field<3, 2>;
using SLPTPTR = model::Field<63, 12>;
using AW = model::Field<66, 64>;
using AVAIL = model::Field<70, 67>;
using DID = model::Field<87, 72>;
// Bits 11:4, 71 and 127:88 reserved (fault 0x0B when set in a present entry).
using Layout = model::Layout<2, P, FPD, TT, SLPTPTR, AW, AVAIL, DID>;
static_assert(model::valid_layout<Layout>());
inline constexpr std::uint64_t kSize = 16;

// TT encodings (§9.3).
inline constexpr std::uint64_t kTtUntranslatedOnly = 0b00;  // ATS requests blocked (0x0D)
inline constexpr std::uint64_t kTtDeviceTlb = 0b01;         // ATS allowed, needs ECAP.DT
inline constexpr std::uint64_t kTtPassThrough = 0b10;       // output = input, needs ECAP.PT
}  // namespace context_entry

// Second-stage paging entry, 64-bit, 512 per table (§9.8; facts §4.2). Bits 6:2, 10, 61:52
// and 63 are ignored; bit 62 (TM) is reserved since spec 3.2 (facts §4.2 [Q+O]). ADDR bits at
// or above the host address width and PS where no superpage is allowed are reserved too; those
// depend on CAP and the level and are checked by the walker.
namespace sl_entry {
using R = model::Field<0, 0>;
using W = model::Field<1, 1>;
using IGN_6_2 = model::Field<6, 2>;  // X / EMT / IPAT in older specs: ignored here
using PS = model::Field<7, 7>;
using A = model::Field<8, 8>;
using D = model::Field<9, 9>;
using IGN_10 = model::Field<10, 10>;
using SNP = model::Field<11, 11>;
using ADDR = model::Field<51, 12>;
using IGN_61_52 = model::Field<61, 52>;
using IGN_63 = model::Field<63, 63>;
using Layout = model::Layout<1, R, W, IGN_6_2, PS, A, D, IGN_10, SNP, ADDR, IGN_61_52, IGN_63>;
static_assert(model::valid_layout<Layout>());
static_assert(Layout::kReserved[0] == (std::uint64_t{1} << 62));
inline constexpr std::uint64_t kSize = 8;
inline constexpr unsigned kIndexBits = 9;
}  // namespace sl_entry

// AGAW arithmetic (§3.6; facts §4.1): AW code n ⇒ n + 2 levels, 30 + 9n address bits.
constexpr unsigned levels_for_aw(unsigned aw) {
  return aw + 2;
}
constexpr unsigned width_for_aw(unsigned aw) {
  return 30 + 9 * aw;
}
// Shift of the address bits translated below a level-L entry (L1 → 12, L2 → 21, ...).
constexpr unsigned level_shift(unsigned level) {
  return 12 + 9 * (level - 1);
}
constexpr std::uint64_t level_page_size(unsigned level) {
  return std::uint64_t{1} << level_shift(level);
}
// Index of the level-L entry for address iova.
constexpr std::uint64_t level_index(std::uint64_t iova, unsigned level) {
  return (iova >> level_shift(level)) & ((std::uint64_t{1} << sl_entry::kIndexBits) - 1);
}
// Mask of address bits [63:width] (reserved bits of a pointer at or above the host width).
constexpr std::uint64_t bits_at_or_above(unsigned width) {
  return width >= 64 ? 0 : ~((std::uint64_t{1} << width) - 1);
}

// The interrupt address window (§3.14; facts §8).
inline constexpr std::uint64_t kInterruptWindowBase = 0xFEE0'0000;
inline constexpr std::uint64_t kInterruptWindowLast = 0xFEEF'FFFF;
constexpr bool in_interrupt_window(std::uint64_t address) {
  return address >= kInterruptWindowBase && address <= kInterruptWindowLast;
}
// True when [base, base + size) overlaps the window.
constexpr bool overlaps_interrupt_window(std::uint64_t base, std::uint64_t size) {
  return base <= kInterruptWindowLast && base + size > kInterruptWindowBase;
}

}  // namespace vtdsim::iommu
