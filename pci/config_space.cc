// Configuration space storage and mask semantics (PCI 3.0 §6.1, PCIe 4.0 §7.4 register types).
// Spec sections and what is not modelled: see pci/config_space.h.
#include "pci/config_space.h"

namespace vtdsim::pci {
namespace {

std::uint32_t gather(const std::array<std::uint8_t, kConfigSpaceSize>& a, std::uint32_t offset,
                     unsigned size) {
  std::uint32_t v = 0;
  for (unsigned i = 0; i < size && offset + i < kConfigSpaceSize; ++i) {
    v |= std::uint32_t{a[offset + i]} << (8 * i);
  }
  return v;
}

void scatter(std::array<std::uint8_t, kConfigSpaceSize>& a, std::uint32_t offset, unsigned size,
             std::uint32_t v) {
  for (unsigned i = 0; i < size && offset + i < kConfigSpaceSize; ++i) {
    a[offset + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
}

}  // namespace

std::uint32_t ConfigSpace::read(std::uint32_t offset, unsigned size) const {
  if (!valid_config_access(offset, size)) return kAllOnes;
  return gather(data_, offset, size);
}

bool ConfigSpace::write(std::uint32_t offset, unsigned size, std::uint32_t value) {
  if (!valid_config_access(offset, size)) return false;
  for (unsigned i = 0; i < size; ++i) {
    const std::uint32_t at = offset + i;
    const auto in = static_cast<std::uint8_t>(value >> (8 * i));
    const std::uint8_t wr = writable_[at];
    const std::uint8_t rc = w1c_[at];
    std::uint8_t next = static_cast<std::uint8_t>((data_[at] & ~wr) | (in & wr));
    next = static_cast<std::uint8_t>(next & ~(in & rc));
    data_[at] = next;
  }
  return true;
}

std::uint8_t ConfigSpace::get8(std::uint32_t offset) const {
  return static_cast<std::uint8_t>(gather(data_, offset, 1));
}
std::uint16_t ConfigSpace::get16(std::uint32_t offset) const {
  return static_cast<std::uint16_t>(gather(data_, offset, 2));
}
std::uint32_t ConfigSpace::get32(std::uint32_t offset) const {
  return gather(data_, offset, 4);
}
void ConfigSpace::set8(std::uint32_t offset, std::uint8_t value) {
  scatter(data_, offset, 1, value);
}
void ConfigSpace::set16(std::uint32_t offset, std::uint16_t value) {
  scatter(data_, offset, 2, value);
}
void ConfigSpace::set32(std::uint32_t offset, std::uint32_t value) {
  scatter(data_, offset, 4, value);
}

void ConfigSpace::set_masks(std::uint32_t offset, unsigned size, std::uint32_t writable,
                            std::uint32_t w1c) {
  scatter(writable_, offset, size, writable & ~w1c);
  scatter(w1c_, offset, size, w1c);
}

std::uint32_t ConfigSpace::writable_mask(std::uint32_t offset, unsigned size) const {
  return gather(writable_, offset, size);
}
std::uint32_t ConfigSpace::w1c_mask(std::uint32_t offset, unsigned size) const {
  return gather(w1c_, offset, size);
}

}  // namespace vtdsim::pci
