// Base Address Registers (PCI 3.0 §6.2.5.1): memory BARs (32/64-bit, prefetchable) and I/O
// BARs, sized by writing all-ones and reading back the writable mask. Sizes are powers of two.
// Not modelled: resizable BARs, expansion ROM BAR (reads zero: no ROM).
#pragma once

#include <cstdint>

#include "model/error.h"
#include "model/field.h"

namespace vtdsim::pci {

enum class BarKind : std::uint8_t { kNone, kMemory32, kMemory64, kIo };

struct BarSpec {
  BarKind kind = BarKind::kNone;
  std::uint64_t size = 0;  // power of two: memory ≥ 16 bytes, I/O in [4, 256]
  bool prefetchable = false;
};

// Low dword of a BAR (§6.2.5.1).
namespace bar_reg {
using IO_SPACE = model::Field<0, 0>;  // 1 = I/O BAR
using MEM_TYPE = model::Field<2, 1>;  // 00 = 32-bit, 10 = 64-bit
using PREFETCHABLE = model::Field<3, 3>;
using MEM_BASE = model::Field<31, 4>;
using MemLayout = model::Layout<1, IO_SPACE, MEM_TYPE, PREFETCHABLE, MEM_BASE>;
static_assert(model::valid_layout<MemLayout>());
using IO_BASE = model::Field<31, 2>;
inline constexpr std::uint64_t kMemType64 = 2;
}  // namespace bar_reg

// Checks a BAR spec; the error names the BAR and what was wrong.
Status validate_bar(unsigned index, const BarSpec& spec, unsigned bar_count);

// The read-only type bits of the BAR's low dword.
std::uint32_t bar_type_bits(const BarSpec& spec);
// Writable masks of the low and (64-bit) high dwords: the address bits above the size.
std::uint32_t bar_low_mask(const BarSpec& spec);
std::uint32_t bar_high_mask(const BarSpec& spec);

}  // namespace vtdsim::pci
