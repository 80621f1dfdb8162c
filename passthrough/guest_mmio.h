// What a guest's MMIO accesses reach: the VMM's emulation of an assigned device's BARs (direct
// mappings of the device's BAR pages, trapped pages emulated). Guest drivers in tests program
// devices only through this and guest memory.
#pragma once

#include <cstdint>

namespace vtdsim::passthrough {

class GuestMmio {
 public:
  virtual ~GuestMmio() = default;
  // False when nothing is mapped at the guest-physical address (the guest would see a fault
  // or all-ones; the caller decides).
  virtual bool guest_mmio_read(std::uint64_t gpa, unsigned size, std::uint64_t* value) = 0;
  virtual bool guest_mmio_write(std::uint64_t gpa, unsigned size, std::uint64_t value) = 0;
};

}  // namespace vtdsim::passthrough
