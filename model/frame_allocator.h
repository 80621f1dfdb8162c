// Hands out zeroed, aligned 4 KiB frames (single or contiguous runs) from one region of
// PhysicalMemory, for software models (the host driver's tables, test fixtures) that need pages.
#pragma once

#include <cstdint>
#include <vector>

#include "model/error.h"
#include "model/physical_memory.h"

namespace vtdsim::model {

class FrameAllocator {
 public:
  // Region [base, base + size); base and size must be 4 KiB multiples inside memory's width.
  // Throws std::invalid_argument otherwise (API misuse at construction).
  FrameAllocator(PhysicalMemory& memory, std::uint64_t base, std::uint64_t size);

  // `pages` contiguous frames whose first address is a multiple of align_pages × 4 KiB
  // (align_pages a power of two). Zeroed. kExhausted when no such run is free.
  Expected<std::uint64_t> allocate(std::uint64_t pages = 1, std::uint64_t align_pages = 1);
  // Returns a run previously allocated. kInvalidArgument for a range outside the region,
  // unaligned, or not (wholly) allocated: a double free is an error, not a corruption.
  Status free(std::uint64_t pa, std::uint64_t pages = 1);

  std::uint64_t base() const { return base_; }
  std::uint64_t size() const { return pages_ * kPageSize; }
  std::uint64_t pages_free() const { return pages_ - used_; }
  std::uint64_t pages_used() const { return used_; }

 private:
  bool is_used(std::uint64_t i) const { return (bitmap_[i / 64] >> (i % 64)) & 1u; }
  void mark(std::uint64_t first, std::uint64_t count, bool used);

  PhysicalMemory* memory_;
  std::uint64_t base_;
  std::uint64_t pages_;
  std::uint64_t used_ = 0;
  std::uint64_t hint_ = 0;  // where the next single-page search starts
  std::vector<std::uint64_t> bitmap_;
};

}  // namespace vtdsim::model
