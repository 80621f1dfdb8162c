// Scalable-mode structure lookup (spec 4.x §3.4.3, §9.2, §9.4–9.6; facts §3.1, §3.3–3.5, §5.1):
// the scalable root entry (lower/upper half by devfn), the 256-bit context entry, the PASID
// directory entry and the 512-bit PASID table entry, each checked for read errors, P, reserved
// bits and invalid programming against CAP/ECAP, with FPD ORed down the chain.
// Not modelled: page requests (PRE is accepted only as 0: ECAP.PRS is not advertised),
// RID_PRIV.
#pragma once

#include <cstdint>

#include "iommu/context_lookup.h"
#include "iommu/fault_reason.h"
#include "iommu/unit_config.h"
#include "model/physical_memory.h"
#include "model/types.h"

namespace vtdsim::iommu {

// A decoded PASID table entry, as the PASID cache holds it.
struct PasidInfo {
  std::uint64_t ssptptr = 0;  // second-stage root (PGTT 010, 011)
  std::uint64_t fsptptr = 0;  // first-stage root (PGTT 001, 011; a GPA when nested)
  std::uint16_t did = 0;
  std::uint8_t pgtt = 0;       // pasid_entry::kPgtt*
  std::uint8_t ss_levels = 0;  // 3..5 (PGTT 010, 011)
  std::uint8_t ss_width = 0;   // second-stage input width min(AGAW, MGAW)
  std::uint8_t fs_levels = 0;  // 4 or 5 (PGTT 001, 011)
  bool fpd = false;            // context FPD | directory FPD | entry FPD
  bool sre = false;
  bool wpe = false;
  bool nxe = false;
  bool ssade = false;  // second-stage A/D updates
  bool eafe = false;
  bool snooped = false;  // page walks snoop: PWSNP or ECAP.SMPWCS (A/D updates need it)
};

struct PasidFetch {
  FaultReason reason = FaultReason::kNone;
  unsigned reads = 0;  // directory and table entry reads
  PasidInfo info;      // valid when reason is kNone; .fpd valid once an entry was read
};

// Fetches and checks the scalable root and context entries of sid (TTM = 01). The result's
// ContextInfo has scalable = true. Faults 0x38–0x3A, 0x40–0x43, 0x48.
ContextFetch fetch_sm_context(const model::PhysicalMemory& memory, const UnitConfig& config,
                              std::uint64_t root_table, model::SourceId sid);

// Fetches and checks the PASID directory and table entries of pasid under a scalable context.
// Faults 0x46, 0x50–0x52, 0x58–0x5B.
PasidFetch fetch_pasid(const model::PhysicalMemory& memory, const UnitConfig& config,
                       const ContextInfo& context, std::uint32_t pasid);

}  // namespace vtdsim::iommu
