// The DMA-remapping translation pipeline of one unit (spec ch. 3, 6): root/context lookup,
// second-stage walk, context cache, IOTLB and paging-structure caches, walker timing.
// It returns faults as values and records nothing; the RemappingUnit records them.
// Contract: never throws, asserts or crashes on table contents.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "iommu/fault_reason.h"
#include "iommu/unit_config.h"
#include "model/dma_translator.h"
#include "model/physical_memory.h"
#include "model/stats.h"

namespace vtdsim::iommu {

// State latched by the register file that translation depends on.
struct RootState {
  std::uint64_t root_table = 0;         // RTADDR.RTA latched by SRTP (4 KiB aligned)
  std::uint8_t ttm = 0;                 // RTADDR.TTM latched by SRTP: 0 legacy, 1 scalable
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

// Counters of the translation pipeline, named after the VT-d performance-monitoring events
// where one exists (spec 4.x ch. 12 / perfmon event list).
struct DmaRemapStats {
  std::uint64_t translations = 0;
  std::uint64_t passthrough = 0;
  std::uint64_t interrupt_window = 0;
  std::uint64_t faults = 0;
  std::uint64_t ctxt_cache_lookup = 0;
  std::uint64_t ctxt_cache_hit = 0;
  std::uint64_t ctxt_cache_miss = 0;
  std::uint64_t ctxt_fetch_reads = 0;
  std::uint64_t iotlb_lookup = 0;
  std::uint64_t iotlb_hit = 0;
  std::uint64_t iotlb_miss = 0;
  std::uint64_t iotlb_hit_2m = 0;
  std::uint64_t iotlb_hit_1g = 0;
  std::uint64_t slpwc_lookup = 0;
  std::uint64_t slpwc_l2_hit = 0;
  std::uint64_t slpwc_l3_hit = 0;
  std::uint64_t slpwc_l4_hit = 0;
  std::uint64_t slpwc_l5_hit = 0;
  std::uint64_t pw_walks = 0;
  std::uint64_t pw_mem_reads = 0;
  std::uint64_t pw_shared = 0;
  std::uint64_t pw_occupancy = 0;
  std::uint64_t pw_wait_cycles = 0;
  std::uint64_t ctxt_inval_global = 0;
  std::uint64_t ctxt_inval_domain = 0;
  std::uint64_t ctxt_inval_device = 0;
  std::uint64_t iotlb_inval_global = 0;
  std::uint64_t iotlb_inval_domain = 0;
  std::uint64_t iotlb_inval_page = 0;
  std::uint64_t iotlb_inval_entries = 0;
  std::uint64_t fault_01 = 0;
  std::uint64_t fault_02 = 0;
  std::uint64_t fault_03 = 0;
  std::uint64_t fault_04 = 0;
  std::uint64_t fault_05 = 0;
  std::uint64_t fault_06 = 0;
  std::uint64_t fault_07 = 0;
  std::uint64_t fault_08 = 0;
  std::uint64_t fault_09 = 0;
  std::uint64_t fault_0a = 0;
  std::uint64_t fault_0b = 0;
  std::uint64_t fault_0c = 0;
  std::uint64_t fault_0d = 0;
  std::uint64_t fault_0e = 0;
  std::uint64_t fault_other = 0;
  // Scalable mode (TTM = 01).
  std::uint64_t sm_translations = 0;
  std::uint64_t pasid_cache_lookup = 0;
  std::uint64_t pasid_cache_hit = 0;
  std::uint64_t pasid_cache_miss = 0;
  std::uint64_t pasid_fetch_reads = 0;
  std::uint64_t fs_walks = 0;
  std::uint64_t nested_walks = 0;
  std::uint64_t ss_translations = 0;
  std::uint64_t ss_mem_reads = 0;
  std::uint64_t flpwc_hit = 0;
  std::uint64_t ad_writes = 0;
  std::uint64_t ats_translation_requests = 0;
  std::uint64_t pasid_cache_inval = 0;
  std::uint64_t p_iotlb_inval = 0;
  std::uint64_t fault_sm = 0;

  using S = DmaRemapStats;
  static constexpr auto kFields = std::to_array<model::StatField<S>>({
      {"translations", "requests", "requests presented to translate()", &S::translations},
      {"passthrough", "requests", "requests passed untranslated (TE=0, TT=10, translated AT)",
       &S::passthrough},
      {"interrupt_window", "requests", "requests without PASID to 0xFEEx_xxxx (not DMA)",
       &S::interrupt_window},
      {"faults", "requests", "requests that ended in a fault", &S::faults},
      {"ctxt_cache_lookup", "lookups", "context-cache lookups", &S::ctxt_cache_lookup},
      {"ctxt_cache_hit", "lookups", "context-cache hits", &S::ctxt_cache_hit},
      {"ctxt_cache_miss", "lookups", "context-cache misses (root/context fetched)",
       &S::ctxt_cache_miss},
      {"ctxt_fetch_reads", "reads", "root and context entry reads", &S::ctxt_fetch_reads},
      {"iotlb_lookup", "lookups", "IOTLB lookups", &S::iotlb_lookup},
      {"iotlb_hit", "lookups", "IOTLB hits (including those sharing an in-flight fill)",
       &S::iotlb_hit},
      {"iotlb_miss", "lookups", "IOTLB misses", &S::iotlb_miss},
      {"iotlb_hit_2m", "lookups", "IOTLB hits on 2 MiB entries", &S::iotlb_hit_2m},
      {"iotlb_hit_1g", "lookups", "IOTLB hits on 1 GiB entries", &S::iotlb_hit_1g},
      {"slpwc_lookup", "lookups", "second-stage paging-structure-cache probes (all levels)",
       &S::slpwc_lookup},
      {"slpwc_l2_hit", "lookups", "paging-structure-cache hits on a level-2 entry (PDE)",
       &S::slpwc_l2_hit},
      {"slpwc_l3_hit", "lookups", "paging-structure-cache hits on a level-3 entry (PDPE)",
       &S::slpwc_l3_hit},
      {"slpwc_l4_hit", "lookups", "paging-structure-cache hits on a level-4 entry (PML4E)",
       &S::slpwc_l4_hit},
      {"slpwc_l5_hit", "lookups", "paging-structure-cache hits on a level-5 entry (PML5E)",
       &S::slpwc_l5_hit},
      {"pw_walks", "walks", "second-stage page walks started", &S::pw_walks},
      {"pw_mem_reads", "reads", "second-stage paging-entry reads", &S::pw_mem_reads},
      {"pw_shared", "requests", "requests completed by another request's in-flight fill",
       &S::pw_shared},
      {"pw_occupancy", "cycles", "page-walker busy cycles (all walkers)", &S::pw_occupancy},
      {"pw_wait_cycles", "cycles", "cycles misses waited for a free walker", &S::pw_wait_cycles},
      {"ctxt_inval_global", "invalidations", "global context-cache invalidations",
       &S::ctxt_inval_global},
      {"ctxt_inval_domain", "invalidations", "domain-selective context-cache invalidations",
       &S::ctxt_inval_domain},
      {"ctxt_inval_device", "invalidations", "device-selective context-cache invalidations",
       &S::ctxt_inval_device},
      {"iotlb_inval_global", "invalidations", "global IOTLB invalidations", &S::iotlb_inval_global},
      {"iotlb_inval_domain", "invalidations", "domain-selective IOTLB invalidations",
       &S::iotlb_inval_domain},
      {"iotlb_inval_page", "invalidations", "page-selective IOTLB invalidations",
       &S::iotlb_inval_page},
      {"iotlb_inval_entries", "entries", "IOTLB entries removed by invalidations",
       &S::iotlb_inval_entries},
      {"fault_01", "faults", "root entry not present", &S::fault_01},
      {"fault_02", "faults", "context entry not present", &S::fault_02},
      {"fault_03", "faults", "invalid context entry (TT/AW)", &S::fault_03},
      {"fault_04", "faults", "input address beyond the address width", &S::fault_04},
      {"fault_05", "faults", "write without write permission", &S::fault_05},
      {"fault_06", "faults", "read without read permission", &S::fault_06},
      {"fault_07", "faults", "paging-entry read error", &S::fault_07},
      {"fault_08", "faults", "root entry read error", &S::fault_08},
      {"fault_09", "faults", "context entry read error", &S::fault_09},
      {"fault_0a", "faults", "reserved bit in root entry", &S::fault_0a},
      {"fault_0b", "faults", "reserved bit in context entry", &S::fault_0b},
      {"fault_0c", "faults", "reserved bit in paging entry", &S::fault_0c},
      {"fault_0d", "faults", "translation type blocked by context TT", &S::fault_0d},
      {"fault_0e", "faults", "output page in the interrupt address range", &S::fault_0e},
      {"fault_other", "faults", "faults with other reasons (e.g. PASID in legacy mode)",
       &S::fault_other},
      {"sm_translations", "requests", "requests translated in scalable mode (TTM = 01)",
       &S::sm_translations},
      {"pasid_cache_lookup", "lookups", "PASID-cache lookups", &S::pasid_cache_lookup},
      {"pasid_cache_hit", "lookups", "PASID-cache hits", &S::pasid_cache_hit},
      {"pasid_cache_miss", "lookups", "PASID-cache misses (directory and entry fetched)",
       &S::pasid_cache_miss},
      {"pasid_fetch_reads", "reads", "PASID directory and table entry reads",
       &S::pasid_fetch_reads},
      {"fs_walks", "walks", "first-stage walks (first-stage only and nested)", &S::fs_walks},
      {"nested_walks", "walks", "nested walks (first stage over second stage)", &S::nested_walks},
      {"ss_translations", "walks", "second-stage translations in scalable mode (incl. nested)",
       &S::ss_translations},
      {"ss_mem_reads", "reads", "second-stage entry reads in scalable mode", &S::ss_mem_reads},
      {"flpwc_hit", "lookups", "first-stage paging-structure-cache hits", &S::flpwc_hit},
      {"ad_writes", "writes", "Accessed/Dirty write-backs to paging entries", &S::ad_writes},
      {"ats_translation_requests", "requests", "ATS translation requests answered",
       &S::ats_translation_requests},
      {"pasid_cache_inval", "invalidations", "PASID-cache invalidations", &S::pasid_cache_inval},
      {"p_iotlb_inval", "invalidations", "PASID-based IOTLB invalidations", &S::p_iotlb_inval},
      {"fault_sm", "faults", "scalable-mode faults (codes 0x30 and above)", &S::fault_sm},
  });
};

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
  Granularity invalidate_iotlb_page(std::uint16_t did, std::uint64_t address, unsigned am, bool ih);
  // Scalable mode: PASID-cache invalidation (QI type 7; kDomain = all PASIDs of did,
  // kSelective = did + pasid, kGlobal) and PASID-based IOTLB invalidation (type 6; kDomain = all
  // of the PASID, kSelective = 2^am pages at address). Return the granularity performed.
  Granularity invalidate_pasid_cache(Granularity g, std::uint16_t did, std::uint32_t pasid);
  Granularity invalidate_pasid_iotlb(Granularity g, std::uint16_t did, std::uint32_t pasid,
                                     std::uint64_t address, unsigned am, bool ih);
  // Drops every cached structure (SRTP, TE transitions).
  void invalidate_all();

  const DmaRemapStats& stats() const;
  void reset_stats();

  // Occupancy of the caches (entries held), for tests and reports.
  std::size_t context_cache_entries() const;
  std::size_t iotlb_entries() const;
  std::size_t pwc_entries(unsigned level) const;  // level 2..5; 0 when not built
  // Scalable-mode caches.
  std::size_t sm_context_cache_entries() const;
  std::size_t pasid_cache_entries() const;
  std::size_t sm_iotlb_entries() const;
  std::size_t fs_pwc_entries(unsigned level) const;  // first-stage, level 2..5

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vtdsim::iommu
