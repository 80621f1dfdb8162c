// First-stage (IA-32e) page walk for scalable mode (spec 4.x §3.6, §9.7; facts §4.3, §5.1):
// 4 and 5 levels (PASID FSPM, CAP.FL5LP), 2 MiB and 1 GiB leaves (CAP.FL1GP), present and
// reserved-bit checks, U/S, R/W (WPE for supervisor writes) and XD (with NXE) accumulated down
// the walk, Accessed on every walked entry and Dirty on the leaf of a write written back to
// memory (EA with EAFE), and the first-stage paging-structure cache (tag: DID + PASID).
// Nested (PGTT 011): every table address is a GPA translated through the second stage, and an
// A/D update needs second-stage write permission (faults 0x74–0x77 for the nested cases).
// Not modelled: SMEP/SMAP-like supervisor checks on user pages, PAT/PWT/PCD/G, the
// extended-accessed semantics beyond setting EA with A.
#pragma once

#include <cstdint>

#include "iommu/fault_reason.h"
#include "iommu/paging_structure_cache.h"
#include "iommu/pasid_iotlb.h"
#include "iommu/pasid_lookup.h"
#include "iommu/sm_second_stage.h"
#include "iommu/unit_config.h"
#include "model/physical_memory.h"

namespace vtdsim::iommu {

// First-stage rights accumulated down a walk.
inline constexpr std::uint8_t kFsWritable = 1;  // R/W = 1 at every level
inline constexpr std::uint8_t kFsUser = 2;      // U/S = 1 at every level
inline constexpr std::uint8_t kFsExec = 4;      // XD = 0 at every level (or NXE = 0)
inline constexpr std::uint8_t kFsAll = kFsWritable | kFsUser | kFsExec;

struct FsRequest {
  std::uint64_t address = 0;
  std::uint32_t pasid = 0;
  bool write = false;
  bool user = true;  // not a privileged (supervisor) request
  bool execute = false;
  bool translation_request = false;  // ATS: never faults on permissions, sets no D
};

struct FsWalk {
  FaultReason reason = FaultReason::kNone;
  bool not_present = false;     // stopped at an entry with P = 0 (fault 0x71)
  std::uint64_t page_base = 0;  // output page: HPA, or GPA when nested
  unsigned page_level = 1;      // 1: 4 KiB, 2: 2 MiB, 3: 1 GiB
  std::uint8_t rights = 0;      // kFs* accumulated
  std::uint8_t perms = 0;       // kPermR/kPermW the request's privilege is granted
  bool executable = false;      // execute granted to the request's privilege
};

// The permissions (kPermR | kPermW | kPermX) first-stage rights give a user or supervisor
// request (§3.6.2): user requests need U/S = 1 everywhere; writes need R/W = 1 (supervisor
// writes only with WPE); execute needs XD = 0.
std::uint8_t fs_grant(std::uint8_t rights, bool user, const PasidInfo& pasid);

// Walks req.address under `pasid` (PGTT 001 or 011). For nested walks `ss_pwc` is the
// second-stage paging-structure cache used for the table addresses.
FsWalk walk_first_stage(model::PhysicalMemory& memory, const UnitConfig& config, FsPwc& fs_pwc,
                        PagingStructureCache& ss_pwc, const PasidInfo& pasid, const FsRequest& req,
                        SmWalkCounters& counters);

}  // namespace vtdsim::iommu
