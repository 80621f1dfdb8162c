// Legacy root/context lookup (spec 4.x §3.4.2, §9.1, §9.3; facts §3.1, §3.2, §5.1): reads the
// root entry for the bus and the context entry for devfn, checks P, reserved bits, TT and AW
// against CAP/ECAP, and decodes what translation needs (FPD, TT, levels, DID, SLPTPTR).
// Scalable-mode root/context entries (TTM = 01) are fetched by pasid_lookup.h into the same
// ContextInfo (its scalable fields).
#pragma once

#include <cstdint>

#include "iommu/fault_reason.h"
#include "iommu/unit_config.h"
#include "model/physical_memory.h"
#include "model/types.h"

namespace vtdsim::iommu {

// A decoded legacy or scalable-mode context entry, as the context caches hold it.
struct ContextInfo {
  std::uint64_t slptptr = 0;  // second-stage root table (TT 00/01)
  std::uint16_t did = 0;
  std::uint8_t tt = 0;      // context_entry::kTt*
  std::uint8_t levels = 0;  // 3..5 for TT 00/01, 0 for pass-through
  std::uint8_t width = 0;   // input address width: min(AGAW, MGAW)
  bool present = false;     // false: a caching-mode negative entry (fault 0x02)
  bool fpd = false;
  bool translating = false;  // present with TT 00/01: requests walk the second stage
  // Scalable-mode context entry fields (facts §3.3); scalable = false for legacy entries.
  bool scalable = false;
  bool dte = false;     // device-TLB (ATS) allowed
  bool paside = false;  // requests with PASID allowed
  bool pre = false;
  std::uint8_t pdts = 0;
  std::uint32_t rid_pasid = 0;
  std::uint64_t pasid_dir = 0;  // PASIDDIRPTR
};

struct ContextFetch {
  FaultReason reason = FaultReason::kNone;
  unsigned reads = 0;  // memory reads performed (root entry, context entry)
  ContextInfo info;    // valid when reason is kNone; .fpd valid once the context was read
};

// Fetches and checks the context entry of sid under the legacy root table at root_table.
// Never fails on table contents: every problem is a fault reason in the result.
ContextFetch fetch_context(const model::PhysicalMemory& memory, const UnitConfig& config,
                           std::uint64_t root_table, model::SourceId sid);

}  // namespace vtdsim::iommu
