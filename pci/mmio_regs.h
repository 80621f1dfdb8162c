// Helpers for device register files: a 1/2/4/8-byte MMIO access that lands inside a 64-bit
// register (little-endian byte lanes, PCIe 4.0 §2.2.5).
#pragma once

#include <cstdint>

namespace vtdsim::pci {

constexpr std::uint64_t lane_mask(unsigned size) {
  return size >= 8 ? ~std::uint64_t{0} : ((std::uint64_t{1} << (8 * size)) - 1);
}
// The bytes [byte, byte+size) of a 64-bit register.
constexpr std::uint64_t reg_extract(std::uint64_t reg, unsigned byte, unsigned size) {
  return (reg >> (8 * byte)) & lane_mask(size);
}
// reg with bytes [byte, byte+size) replaced by value.
constexpr std::uint64_t reg_merge(std::uint64_t reg, unsigned byte, unsigned size,
                                  std::uint64_t value) {
  const std::uint64_t m = lane_mask(size) << (8 * byte);
  return (reg & ~m) | ((value << (8 * byte)) & m);
}

}  // namespace vtdsim::pci
