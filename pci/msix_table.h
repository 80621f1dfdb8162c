// The MSI-X table and Pending Bit Array that live inside a function's memory BAR
// (PCI 3.0 §6.8.2.6-6.8.2.10): 16-byte entries (address, data, vector control) and one
// pending bit per vector. Entries reset masked. Accesses are dword or qword, naturally aligned;
// anything else reads all-ones and writes are dropped. Not modelled: the ST table.
#pragma once

#include <cstdint>
#include <vector>

#include "pci/capabilities.h"

namespace vtdsim::pci {

class MsixTable {
 public:
  struct Entry {
    std::uint64_t address = 0;
    std::uint32_t data = 0;
    std::uint32_t vector_control = 1;  // bit 0: mask (set at reset)
    bool masked() const { return msix::VECTOR_MASK::get(vector_control) != 0; }
  };

  explicit MsixTable(unsigned vectors);

  unsigned size() const { return static_cast<unsigned>(entries_.size()); }
  std::uint64_t table_bytes() const { return std::uint64_t{size()} * msix::kEntrySize; }
  std::uint64_t pba_bytes() const { return ((std::uint64_t{size()} + 63) / 64) * 8; }

  // Guest accesses, offsets relative to the table / PBA start.
  std::uint64_t table_read(std::uint64_t offset, unsigned size) const;
  // Returns true when the write cleared a vector's mask bit (the caller then delivers a
  // pending message for that vector); *vector names it.
  bool table_write(std::uint64_t offset, unsigned size, std::uint64_t value, unsigned* vector);
  std::uint64_t pba_read(std::uint64_t offset, unsigned size) const;

  const Entry& entry(unsigned vector) const { return entries_[vector]; }
  bool pending(unsigned vector) const;
  void set_pending(unsigned vector, bool value);

 private:
  std::uint32_t read_dword(std::uint64_t offset) const;
  std::vector<Entry> entries_;
  std::vector<std::uint64_t> pba_;
};

}  // namespace vtdsim::pci
