// The bridge between a remapping unit's device-TLB invalidations (VT-d spec §6.5.2.5, an
// iommu::DeviceTlbSink) and the ATS devices in its scope (pci::DeviceTlbInvalidationTarget):
// each descriptor becomes a PCIe ATS Invalidate Request (PCIe 4.0 §10.3.1) for the function
// whose requester id the descriptor names. Only the platform sees both layers.
// Not modelled: invalidation completion timing (the unit treats it as synchronous), MIP/QDEP
// flow control, PASID-based (type 8) descriptors (the unit does not implement them).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "iommu/descriptors.h"
#include "model/stats.h"
#include "model/types.h"
#include "pci/device_tlb_invalidation.h"

namespace vtdsim::platform {

struct DeviceTlbRouterStats {
  std::uint64_t forwarded = 0;
  std::uint64_t unclaimed = 0;

  static constexpr auto kFields = std::to_array<model::StatField<DeviceTlbRouterStats>>({
      {"forwarded", "requests", "device-TLB invalidations delivered to an ATS device",
       &DeviceTlbRouterStats::forwarded},
      {"unclaimed", "requests",
       "device-TLB invalidations naming a source-id with no ATS device behind this unit",
       &DeviceTlbRouterStats::unclaimed},
  });
};

// The ATS Invalidate Request for a decoded descriptor: S = 0 for one 4 KiB page, else the
// size encoded in the low address bits (the inverse of pci::decode_ats_range).
pci::DeviceTlbInvalidation to_ats_invalidation(const iommu::DeviceTlbInvalidation& request);

class DeviceTlbRouter final : public iommu::DeviceTlbSink {
 public:
  void add(model::SourceId sid, pci::DeviceTlbInvalidationTarget* target) {
    targets_.emplace_back(sid, target);
  }
  void invalidate_device_tlb(const iommu::DeviceTlbInvalidation& request) override;
  const DeviceTlbRouterStats& stats() const { return stats_; }
  void reset_stats() { stats_ = DeviceTlbRouterStats{}; }

 private:
  std::vector<std::pair<model::SourceId, pci::DeviceTlbInvalidationTarget*>> targets_;
  DeviceTlbRouterStats stats_;
};

}  // namespace vtdsim::platform
