// The DMA-remapping translation pipeline of one unit (spec ch. 3, 6): root/context lookup,
// second-stage walk, context cache, IOTLB and paging-structure caches, walker timing.
// It returns faults as values and records nothing; the RemappingUnit records them.
// Contract: never throws, asserts or crashes on table contents.
#pragma once

#include <cstdint>
#include <memory>

#include "iommu/fault_reason.h"
#include "iommu/unit_config.h"
#include "model/dma_translator.h"
#include "model/physical_memory.h"

namespace vtdsim::iommu {

// State latched by the register file that translation depends on.
struct RootState {
  std::uint64_t root_table = 0;      // RTADDR.RTA latched by SRTP (4 KiB aligned)
  std::uint8_t ttm = 0;              // RTADDR.TTM latched by SRTP: 0 legacy, 1 scalable
  bool root_table_pointer_set = false;  // GSTS.RTPS
  bool translation_enabled = false;     // GSTS.TES
};

// One translation's outcome with what fault recording needs.
struct RemapResult {
  model::Translation translation;
  FaultReason reason = FaultReason::kNone;
  bool fpd = false;  // effective fault-processing-disable for this request
};

// Granularity actually performed by an invalidation (CCMD.CAIG / IOTLB.IAIG encodings).
enum class Granularity : std::uint8_t { kNone = 0, kGlobal = 1, kDomain = 2, kSelective = 3 };

struct DmaRemapStats;  // counters named after VT-d perfmon events; defined with the pipeline

class DmaRemapper {
 public:
  DmaRemapper(model::PhysicalMemory& memory, const UnitConfig& config);
  ~DmaRemapper();
  DmaRemapper(const DmaRemapper&) = delete;
  DmaRemapper& operator=(const DmaRemapper&) = delete;

  // Translates one request. With translation disabled the address passes through untouched.
  RemapResult translate(const model::DmaRequest& request, const RootState& root);

  // Context-cache invalidation (CCMD, QI type 1). function_mask is CCMD.FM.
  Granularity invalidate_context_global();
  Granularity invalidate_context_domain(std::uint16_t did);
  Granularity invalidate_context_device(std::uint16_t did, model::SourceId sid,
                                        unsigned function_mask);
  // IOTLB invalidation (IOTLB register + IVA, QI type 2), with the paging-structure caches as
  // the spec requires (IH=1 keeps non-leaf entries).
  Granularity invalidate_iotlb_global();
  Granularity invalidate_iotlb_domain(std::uint16_t did);
  Granularity invalidate_iotlb_page(std::uint16_t did, std::uint64_t address, unsigned am,
                                    bool ih);
  // Drops every cached structure (SRTP, TE transitions).
  void invalidate_all();

  const DmaRemapStats& stats() const;
  void reset_stats();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vtdsim::iommu
