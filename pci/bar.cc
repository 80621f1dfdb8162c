// BAR encodings (PCI 3.0 §6.2.5.1).
// Spec sections and what is not modelled: see pci/bar.h.
#include "pci/bar.h"

#include <bit>
#include <string>

namespace vtdsim::pci {

Status validate_bar(unsigned index, const BarSpec& spec, unsigned bar_count) {
  const std::string name = "BAR" + std::to_string(index);
  if (index >= bar_count) return make_error(ErrorCode::kInvalidArgument, name + " does not exist");
  switch (spec.kind) {
    case BarKind::kNone:
      return {};
    case BarKind::kIo:
      if (spec.size < 4 || spec.size > 256 || !std::has_single_bit(spec.size)) {
        return make_error(ErrorCode::kInvalidArgument,
                          name + ": an I/O BAR size must be a power of two in [4, 256]");
      }
      if (spec.prefetchable) {
        return make_error(ErrorCode::kInvalidArgument, name + ": an I/O BAR is not prefetchable");
      }
      return {};
    case BarKind::kMemory32:
      if (spec.size < 16 || spec.size > (std::uint64_t{1} << 31) ||
          !std::has_single_bit(spec.size)) {
        return make_error(ErrorCode::kInvalidArgument,
                          name + ": a 32-bit memory BAR size must be a power of two in [16, 2G]");
      }
      return {};
    case BarKind::kMemory64:
      if (index + 1 >= bar_count) {
        return make_error(ErrorCode::kInvalidArgument,
                          name + ": a 64-bit BAR needs the next BAR slot as its upper half");
      }
      if (spec.size < 16 || spec.size > (std::uint64_t{1} << 62) ||
          !std::has_single_bit(spec.size)) {
        return make_error(ErrorCode::kInvalidArgument,
                          name + ": a 64-bit memory BAR size must be a power of two ≥ 16");
      }
      return {};
  }
  return make_error(ErrorCode::kInvalidArgument, name + ": unknown BAR kind");
}

std::uint32_t bar_type_bits(const BarSpec& spec) {
  switch (spec.kind) {
    case BarKind::kNone:
      return 0;
    case BarKind::kIo:
      return static_cast<std::uint32_t>(bar_reg::IO_SPACE::kMask);
    case BarKind::kMemory32:
      return static_cast<std::uint32_t>(bar_reg::PREFETCHABLE::set(0, spec.prefetchable ? 1 : 0));
    case BarKind::kMemory64:
      return static_cast<std::uint32_t>(bar_reg::PREFETCHABLE::set(
          bar_reg::MEM_TYPE::set(0, bar_reg::kMemType64), spec.prefetchable ? 1 : 0));
  }
  return 0;
}

std::uint32_t bar_low_mask(const BarSpec& spec) {
  switch (spec.kind) {
    case BarKind::kNone:
      return 0;
    case BarKind::kIo:
      return static_cast<std::uint32_t>(~(spec.size - 1)) &
             static_cast<std::uint32_t>(bar_reg::IO_BASE::kMask);
    case BarKind::kMemory32:
    case BarKind::kMemory64:
      return static_cast<std::uint32_t>(~(spec.size - 1)) &
             static_cast<std::uint32_t>(bar_reg::MEM_BASE::kMask);
  }
  return 0;
}

std::uint32_t bar_high_mask(const BarSpec& spec) {
  if (spec.kind != BarKind::kMemory64) return 0;
  return static_cast<std::uint32_t>(~(spec.size - 1) >> 32);
}

}  // namespace vtdsim::pci
