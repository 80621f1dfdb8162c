// The interface through which the remapping unit's device-TLB invalidations (VT-d 4.x §6.5.2.5
// type 3, §6.5.2.7 type 8) reach an ATS device's translation cache as PCIe ATS Invalidate
// Requests (PCIe 4.0 §10.3). The platform forwards each descriptor to the device whose
// source-id it names. Also the ATS range encoding shared by both (PCIe 4.0 §10.2.3.2).
#pragma once

#include <bit>
#include <cstdint>

#include "model/types.h"

namespace vtdsim::pci {

struct DeviceTlbInvalidation {
  model::SourceId source_id{};
  std::uint64_t address = 0;  // ADDR field, bits 63:12 significant
  bool size_bit = false;      // S: 0 = one 4 KiB page, 1 = range encoded in the address
  bool has_pasid = false;     // type 8 (PASID-based) descriptor
  std::uint32_t pasid = 0;
  bool global = false;  // type 8 G: every PASID of the device
  model::Cycle time = 0;
};

struct AtsRange {
  std::uint64_t base = 0;
  std::uint64_t size = 0;  // 0 means the whole 64-bit address space
  bool contains(std::uint64_t address) const {
    return size == 0 || (address >= base && address - base < size);
  }
};

// S = 0: the 4 KiB page holding address. S = 1: the lowest 0 bit of address[63:12] gives the
// size: 8 KiB << (number of 1 bits counted up from bit 12), aligned down.
constexpr AtsRange decode_ats_range(std::uint64_t address, bool size_bit) {
  if (!size_bit) return AtsRange{address & ~std::uint64_t{0xFFF}, 0x1000};
  const auto ones = static_cast<unsigned>(std::countr_one(address >> 12));
  if (ones >= 51) return AtsRange{0, 0};  // 2^64: everything
  const std::uint64_t size = std::uint64_t{0x2000} << ones;
  return AtsRange{address & ~(size - 1), size};
}

class DeviceTlbInvalidationTarget {
 public:
  virtual ~DeviceTlbInvalidationTarget() = default;
  // Invalidates matching translations; returns the cycle the invalidation completes (the
  // Invalidate Completion message reaches the root complex).
  virtual model::Cycle invalidate_device_tlb(const DeviceTlbInvalidation& request) = 0;
};

}  // namespace vtdsim::pci
