// MSI-X table and PBA storage (PCI 3.0 §6.8.2).
// Spec sections and what is not modelled: see pci/msix_table.h.
#include "pci/msix_table.h"

namespace vtdsim::pci {
namespace {
bool aligned_access(std::uint64_t offset, unsigned size, std::uint64_t limit) {
  return (size == 4 || size == 8) && offset % size == 0 && offset < limit && limit - offset >= size;
}
}  // namespace

MsixTable::MsixTable(unsigned vectors) : entries_(vectors), pba_((vectors + 63u) / 64u, 0) {}

std::uint32_t MsixTable::read_dword(std::uint64_t offset) const {
  const Entry& e = entries_[offset / msix::kEntrySize];
  switch (offset % msix::kEntrySize) {
    case msix::kEntryAddressLo:
      return static_cast<std::uint32_t>(e.address);
    case msix::kEntryAddressHi:
      return static_cast<std::uint32_t>(e.address >> 32);
    case msix::kEntryData:
      return e.data;
    default:
      return e.vector_control;
  }
}

std::uint64_t MsixTable::table_read(std::uint64_t offset, unsigned size) const {
  if (!aligned_access(offset, size, table_bytes())) return ~std::uint64_t{0};
  std::uint64_t v = read_dword(offset);
  if (size == 8) v |= std::uint64_t{read_dword(offset + 4)} << 32;
  return v;
}

bool MsixTable::table_write(std::uint64_t offset, unsigned size, std::uint64_t value,
                            unsigned* vector) {
  if (!aligned_access(offset, size, table_bytes())) return false;
  bool unmasked = false;
  for (unsigned part = 0; part < size / 4; ++part) {
    const std::uint64_t at = offset + 4u * part;
    const auto dword = static_cast<std::uint32_t>(value >> (32 * part));
    const auto index = static_cast<unsigned>(at / msix::kEntrySize);
    Entry& e = entries_[index];
    switch (at % msix::kEntrySize) {
      case msix::kEntryAddressLo:
        e.address = (e.address & 0xFFFFFFFF00000000ull) | (dword & 0xFFFFFFFCu);
        break;
      case msix::kEntryAddressHi:
        e.address = (e.address & 0xFFFFFFFFull) | (std::uint64_t{dword} << 32);
        break;
      case msix::kEntryData:
        e.data = dword;
        break;
      default: {
        const bool was_masked = e.masked();
        // Only the mask bit is defined; the rest is reserved (reads zero).
        e.vector_control = dword & static_cast<std::uint32_t>(msix::VECTOR_MASK::kMask);
        if (was_masked && !e.masked()) {
          unmasked = true;
          if (vector != nullptr) *vector = index;
        }
        break;
      }
    }
  }
  return unmasked;
}

std::uint64_t MsixTable::pba_read(std::uint64_t offset, unsigned size) const {
  if (!aligned_access(offset, size, pba_bytes())) return ~std::uint64_t{0};
  const std::uint64_t qword = pba_[offset / 8];
  if (size == 8) return qword;
  return (offset % 8 == 0) ? (qword & 0xFFFFFFFFull) : (qword >> 32);
}

bool MsixTable::pending(unsigned vector) const {
  return vector < size() && ((pba_[vector / 64] >> (vector % 64)) & 1u) != 0;
}

void MsixTable::set_pending(unsigned vector, bool value) {
  if (vector >= size()) return;
  const std::uint64_t bit = std::uint64_t{1} << (vector % 64);
  if (value) {
    pba_[vector / 64] |= bit;
  } else {
    pba_[vector / 64] &= ~bit;
  }
}

}  // namespace vtdsim::pci
