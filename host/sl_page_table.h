// Second-stage page table of one domain as the host builds it in PhysicalMemory (spec §3.6,
// §9.8; facts §4.1, §4.2; formats from iommu/legacy_formats.h): 3/4/5 levels by AGAW, 4 KiB
// leaves, 2 MiB / 1 GiB leaves (PS = 1) where the IOVA, the HPA and the remaining size allow
// and the unit supports them, R/W permissions in every entry of the path. Unmap clears leaves
// and detaches page-table pages that become empty; the caller frees them after the IOTLB
// and paging-structure caches were invalidated.
// Not modelled: ECAP.C = 0 cache flushing (no CPU cache model), SNP, splitting superpages.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "model/error.h"
#include "model/frame_allocator.h"
#include "model/physical_memory.h"
#include "model/stats.h"
#include "model/types.h"

namespace vtdsim::host {

struct PageTableStats {
  std::uint64_t leaves_4k = 0;  // leaf entries written, by size
  std::uint64_t leaves_2m = 0;
  std::uint64_t leaves_1g = 0;
  std::uint64_t leaves_cleared = 0;
  std::uint64_t tables_allocated = 0;
  std::uint64_t tables_detached = 0;  // emptied by unmap, handed back to the caller

  static constexpr auto kFields = std::to_array<model::StatField<PageTableStats>>({
      {"leaves_4k", "entries", "4 KiB leaf entries written", &PageTableStats::leaves_4k},
      {"leaves_2m", "entries", "2 MiB leaf entries written", &PageTableStats::leaves_2m},
      {"leaves_1g", "entries", "1 GiB leaf entries written", &PageTableStats::leaves_1g},
      {"leaves_cleared", "entries", "leaf entries cleared by unmap",
       &PageTableStats::leaves_cleared},
      {"tables_allocated", "pages", "page-table pages allocated",
       &PageTableStats::tables_allocated},
      {"tables_detached", "pages", "empty page-table pages detached by unmap",
       &PageTableStats::tables_detached},
  });
};

class SlPageTable {
 public:
  // A root table for an AW code (1: 39-bit/3 levels, 2: 48-bit/4, 3: 57-bit/5). allow_2m /
  // allow_1g: superpages the unit supports (CAP.SLLPS) and the caller wants.
  static Expected<SlPageTable> create(model::PhysicalMemory& memory, model::FrameAllocator& frames,
                                      unsigned aw, bool allow_2m, bool allow_1g);

  std::uint64_t root() const { return root_; }
  unsigned aw() const { return aw_; }
  unsigned levels() const { return levels_; }
  std::uint64_t input_limit() const;  // one past the highest IOVA (2^width)

  // Maps [iova, iova + size) to [hpa, hpa + size). All three 4 KiB aligned, size > 0, the
  // range below input_limit(), at least one of R/W. kAlreadyExists (nothing written) when
  // any page of the range is already mapped.
  Status map(std::uint64_t iova, std::uint64_t hpa, std::uint64_t size,
             model::Permissions permissions);
  // Clears the leaves of [iova, iova + size) and appends the page-table pages that became
  // empty to detached (no longer referenced; free them after invalidation). Pages not
  // mapped are skipped. kInvalidArgument (nothing changed) when a superpage straddles the
  // range boundary. Returns the bytes that were mapped.
  Expected<std::uint64_t> unmap(std::uint64_t iova, std::uint64_t size,
                                std::vector<std::uint64_t>& detached);
  // Frees every table page (domain teardown; the domain must no longer be in use).
  Status destroy();

  struct Lookup {
    bool present = false;
    std::uint64_t hpa = 0;
    std::uint64_t page_size = 0;
    model::Permissions permissions{};
  };
  // Software walk.
  Lookup lookup(std::uint64_t iova) const;
  // Page-table pages in use, root included.
  std::uint64_t table_pages() const { return present_.size(); }
  const PageTableStats& stats() const { return stats_; }

 private:
  SlPageTable(model::PhysicalMemory& memory, model::FrameAllocator& frames, unsigned aw,
              bool allow_2m, bool allow_1g, std::uint64_t root);
  std::uint64_t read_entry(std::uint64_t table, std::uint64_t index) const;
  Status write_entry(std::uint64_t table, std::uint64_t index, std::uint64_t value);
  bool large_allowed(unsigned level) const;
  bool any_mapped(std::uint64_t table, unsigned level, std::uint64_t iova, std::uint64_t end) const;
  bool straddles(std::uint64_t table, unsigned level, std::uint64_t iova, std::uint64_t end) const;
  Status map_level(std::uint64_t table, unsigned level, std::uint64_t iova, std::uint64_t end,
                   std::uint64_t delta, std::uint64_t perm_bits);
  Status unmap_level(std::uint64_t table, unsigned level, std::uint64_t iova, std::uint64_t end,
                     std::vector<std::uint64_t>& detached, std::uint64_t& unmapped);
  Status destroy_level(std::uint64_t table, unsigned level);

  model::PhysicalMemory* memory_;
  model::FrameAllocator* frames_;
  unsigned aw_;
  unsigned levels_;
  bool allow_2m_;
  bool allow_1g_;
  std::uint64_t root_;
  std::unordered_map<std::uint64_t, std::uint32_t> present_;  // table page → present entries
  PageTableStats stats_;
};

}  // namespace vtdsim::host
