// Second-stage translation in scalable mode (spec 4.x §3.7, §9.8; facts §4.2, §5.1): the same
// tables as legacy mode, with the scalable fault codes (0x78 read error, 0x79 entry with R = W =
// 0, 0x7A reserved bit, 0x7B top-level table unreadable, 0x7C A/D update on a non-snooped walk,
// 0x84 entry address beyond the host address width, 0x85/0x86 permission), Accessed/Dirty
// updates written back when the PASID entry has SSADE (bit 8 A on every walked entry, bit 9 D
// on the leaf for writes), and the second-stage paging-structure cache probed and filled.
// Not modelled: execute permission in second-stage entries (bit 2 ignored), SNP/EMT.
#pragma once

#include <cstdint>

#include "iommu/fault_reason.h"
#include "iommu/paging_structure_cache.h"
#include "iommu/pasid_lookup.h"
#include "iommu/second_stage_walk.h"
#include "iommu/unit_config.h"
#include "model/physical_memory.h"

namespace vtdsim::iommu {

// Work done by one scalable-mode walk (all stages), for stats and timing.
struct SmWalkCounters {
  unsigned reads = 0;     // paging-entry reads (both stages)
  unsigned ss_reads = 0;  // of which second-stage
  unsigned writes = 0;    // A/D write-backs
  unsigned ss_walks = 0;  // second-stage translations performed
  unsigned ss_pwc_hits = 0;
  unsigned fs_pwc_hits = 0;
};

struct SsTranslation {
  FaultReason reason = FaultReason::kNone;
  bool not_present = false;     // stopped at an entry with R = W = 0 (fault 0x79)
  std::uint64_t page_base = 0;  // output page (reason kNone)
  unsigned page_level = 1;
  std::uint8_t perms = 0;     // accumulated R/W
  std::uint64_t leaf_pa = 0;  // address of the leaf entry (for a later D update)
};

// Translates gpa through the second stage of `pasid` (PGTT 010 or 011): probes the SS
// paging-structure cache (tag: DID), walks, fills the cache, checks `need` (kPermR/kPermW, 0 for
// a translation request) and sets A (and D when `need` has W) if SSADE. A gpa at or above the
// second-stage input width faults 0x83 (a nested caller reports it as 0x74).
SsTranslation translate_second_stage(model::PhysicalMemory& memory, const UnitConfig& config,
                                     PagingStructureCache& pwc, const PasidInfo& pasid,
                                     std::uint64_t gpa, std::uint8_t need,
                                     SmWalkCounters& counters);

// Sets D in the second-stage leaf entry at leaf_pa (SSADE; a write through a translation that
// was first used for reading). Returns the fault when the walk cannot update A/D (0x7C).
FaultReason set_second_stage_dirty(model::PhysicalMemory& memory, const PasidInfo& pasid,
                                   std::uint64_t leaf_pa, SmWalkCounters& counters);

// The scalable code for a permission failure (0x85 write, 0x86 read) or kNone.
constexpr FaultReason sm_permission_fault(std::uint8_t have, std::uint8_t need) {
  if ((need & kPermW) != 0 && (have & kPermW) == 0) return FaultReason::kSmWriteDenied;
  if ((need & kPermR) != 0 && (have & kPermR) == 0) return FaultReason::kSmReadDenied;
  return FaultReason::kNone;
}

}  // namespace vtdsim::iommu
