// Legacy second-stage page walk (spec 4.x §3.6, §9.8; facts §4.1, §4.2): 3-, 4- and 5-level
// tables, 2 MiB / 1 GiB leaves where CAP.SLLPS allows, R/W ANDed down the walk and checked at
// every level, reserved-bit checks (0x0C), read errors (0x07).
// Legacy mode only: the scalable-mode second stage (codes 0x78–0x86, SSADE A/D) is
// sm_second_stage.h. Not modelled: SNP/EMT/IPAT, execute permission.
#pragma once

#include <array>
#include <cstdint>

#include "iommu/fault_reason.h"
#include "iommu/unit_config.h"
#include "model/physical_memory.h"

namespace vtdsim::iommu {

// Permission bits as in the entry: bit 0 read, bit 1 write.
inline constexpr std::uint8_t kPermR = 1;
inline constexpr std::uint8_t kPermW = 2;
inline constexpr std::uint8_t kPermRW = kPermR | kPermW;

// Where a walk starts: the root table, or a table found through a paging-structure cache.
struct WalkStart {
  std::uint64_t table = 0;       // 4 KiB-aligned table holding the level-`level` entry
  unsigned level = 4;            // level of the first entry read (5..1)
  std::uint8_t perms = kPermRW;  // permissions accumulated above that level
};

// One non-leaf entry the walk went through (a paging-structure cache fill candidate).
struct WalkStep {
  std::uint64_t next_table = 0;
  std::uint8_t level = 0;
  std::uint8_t perms = 0;  // accumulated down to and including this entry
};

struct WalkResult {
  FaultReason reason = FaultReason::kNone;
  bool not_present = false;     // stopped at an entry with R = W = 0
  std::uint64_t page_base = 0;  // output page (reason kNone, !not_present)
  unsigned page_level = 1;      // 1: 4 KiB, 2: 2 MiB, 3: 1 GiB
  std::uint8_t perms = 0;       // accumulated permissions of the leaf
  unsigned reads = 0;           // entries read from memory
  unsigned n_steps = 0;
  std::array<WalkStep, 5> steps{};
};

// Walks iova from start. `need` holds the permissions the request needs (kPermR for a read,
// kPermW for a write, 0 for a translation request, which never faults on permissions).
WalkResult walk_second_stage(const model::PhysicalMemory& memory, const UnitConfig& config,
                             const WalkStart& start, std::uint64_t iova, std::uint8_t need);

// The permission fault of a request needing `need` when `have` is granted (§7.1.3: write
// without W 0x05, read without R 0x06), or kNone.
constexpr FaultReason permission_fault(std::uint8_t have, std::uint8_t need) {
  if ((need & kPermW) != 0 && (have & kPermW) == 0) return FaultReason::kWriteDenied;
  if ((need & kPermR) != 0 && (have & kPermR) == 0) return FaultReason::kReadDenied;
  return FaultReason::kNone;
}

}  // namespace vtdsim::iommu
