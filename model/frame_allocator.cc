#include "model/frame_allocator.h"

#include <algorithm>
#include <bit>
#include <stdexcept>

#include <fmt/format.h>

namespace vtdsim::model {

FrameAllocator::FrameAllocator(PhysicalMemory& memory, std::uint64_t base, std::uint64_t size)
    : memory_(&memory), base_(base), pages_(size / kPageSize) {
  if ((base % kPageSize) != 0 || (size % kPageSize) != 0 || size == 0 ||
      !memory.contains(base, size)) {
    throw std::invalid_argument(fmt::format(
        "FrameAllocator: region [{:#x}, +{:#x}) must be non-empty, 4 KiB aligned and inside "
        "the {}-bit memory",
        base, size, memory.address_width()));
  }
  bitmap_.assign((pages_ + 63) / 64, 0);
}

void FrameAllocator::mark(std::uint64_t first, std::uint64_t count, bool used) {
  for (std::uint64_t i = first; i < first + count; ++i) {
    const std::uint64_t bit = std::uint64_t{1} << (i % 64);
    if (used) {
      bitmap_[i / 64] |= bit;
    } else {
      bitmap_[i / 64] &= ~bit;
    }
  }
}

Expected<std::uint64_t> FrameAllocator::allocate(std::uint64_t pages, std::uint64_t align_pages) {
  if (pages == 0 || align_pages == 0 || !std::has_single_bit(align_pages)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("FrameAllocator::allocate: pages={} align_pages={} (need "
                                  "pages >= 1 and a power-of-two alignment)",
                                  pages, align_pages));
  }
  // Candidate start indices are those whose address is aligned; the region base may itself be
  // unaligned to align_pages, so align on absolute frame numbers.
  const std::uint64_t base_pfn = base_ / kPageSize;
  // (Overflow-safe: an alignment beyond every frame number of the region yields pages_.)
  auto first_aligned = [&](std::uint64_t from) {
    const std::uint64_t abs = base_pfn + from;
    const std::uint64_t rem = abs & (align_pages - 1);
    if (rem == 0) return from;
    const std::uint64_t step = align_pages - rem;
    return step > pages_ - std::min(from, pages_) ? pages_ : from + step;
  };
  auto search = [&](std::uint64_t from, std::uint64_t to) -> std::int64_t {
    if (pages > to) return -1;
    std::uint64_t i = first_aligned(from);
    while (i <= to - pages) {
      std::uint64_t run = 0;
      while (run < pages && !is_used(i + run)) ++run;
      if (run == pages) return static_cast<std::int64_t>(i);
      i = first_aligned(i + run + 1);
    }
    return -1;
  };
  const std::uint64_t start = (pages == 1 && align_pages == 1) ? hint_ : 0;
  std::int64_t found = search(start, pages_);
  if (found < 0 && start > 0) found = search(0, std::min(pages_, start + pages));
  if (found >= 0) {
    const auto i = static_cast<std::uint64_t>(found);
    mark(i, pages, true);
    used_ += pages;
    hint_ = (i + pages) % pages_;
    const std::uint64_t pa = base_ + i * kPageSize;
    if (auto ok = memory_->fill(pa, pages * kPageSize, std::byte{0}); !ok) {
      return tl::unexpected(ok.error());
    }
    return pa;
  }
  return make_error(ErrorCode::kExhausted,
                    fmt::format("FrameAllocator: no run of {} free frame(s) aligned to {} "
                                "page(s) in [{:#x}, +{:#x}) ({} of {} pages free)",
                                pages, align_pages, base_, size(), pages_free(), pages_));
}

Status FrameAllocator::free(std::uint64_t pa, std::uint64_t pages) {
  if (pages == 0 || (pa % kPageSize) != 0 || pa < base_ || (pa - base_) / kPageSize >= pages_ ||
      pages > pages_ - (pa - base_) / kPageSize) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("FrameAllocator::free: [{:#x}, +{} pages) is not an aligned "
                                  "range inside the region",
                                  pa, pages));
  }
  const std::uint64_t first = (pa - base_) / kPageSize;
  for (std::uint64_t i = first; i < first + pages; ++i) {
    if (!is_used(i)) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("FrameAllocator::free: frame {:#x} is not allocated "
                                    "(double free?)",
                                    base_ + i * kPageSize));
    }
  }
  mark(first, pages, false);
  used_ -= pages;
  return {};
}

}  // namespace vtdsim::model
