// The scalable-mode (RTADDR.TTM = 01) translation pipeline (spec 4.x ch. 3, §6.2, §9.2–9.7;
// facts §3.1, §3.3–3.5, §4.3, §5.1, §8): context cache → PASID (request's, or RID_PASID) →
// PASID cache → PGTT: pass-through, second-stage only, first-stage only or nested → PASID-tagged
// IOTLB → paging-structure caches per stage → walks with A/D updates → cache fills; ATS
// translation and translated requests (context DTE). Owned by DmaRemapper, which shares its
// stats, second-stage paging-structure cache and page walkers with it.
// Not modelled: page requests (PRE), RID_PRIV, execute permission in second-stage entries.
#pragma once

#include <cstdint>

#include "iommu/context_cache.h"
#include "iommu/dma_remapper.h"
#include "iommu/first_stage_walk.h"
#include "iommu/paging_structure_cache.h"
#include "iommu/pasid_cache.h"
#include "iommu/pasid_iotlb.h"
#include "iommu/scalable_formats.h"
#include "model/timing.h"

namespace vtdsim::iommu {

class ScalableRemapper {
 public:
  ScalableRemapper(model::PhysicalMemory& memory, const UnitConfig& config, DmaRemapStats& stats,
                   PagingStructureCache& ss_pwc, model::ServerPool& walkers);

  // A request with TE = 1, RTPS = 1 and TTM = 01 that is not an interrupt request.
  // Hot path: context-cache, PASID-cache and IOTLB hits, inline.
  // Counters are bumped stage by stage on the way out of the hot path; a full hit bumps one
  // counter (hot_hits) that DmaRemapper::stats() folds into the per-structure counts.
  void translate(const model::DmaRequest& req, const RootState& root, RemapResult& r) {
    const ContextCacheEntry* ce = contexts_.lookup(req.source_id);
    if (ce == nullptr || req.address_type != model::AddressType::kUntranslated ||
        (req.has_pasid && !ce->info.paside)) [[unlikely]] {
      count_to_context();
      return slow(req, root, ce, r);
    }
    const ContextInfo& ctx = ce->info;
    const std::uint32_t pasid = req.has_pasid ? req.pasid : ctx.rid_pasid;
    const PasidCacheEntry* pe = pasids_.lookup(req.source_id, pasid);
    if (pe == nullptr || pe->info.pgtt == pasid_entry::kPgttPassThrough ||
        (req.privileged && req.has_pasid) || req.execute) [[unlikely]] {
      count_to_context();
      ++stats_.ctxt_cache_hit;
      ++stats_.pasid_cache_lookup;
      return after_context(req, ce, pe, r);
    }
    unsigned cls = 0;
    const PasidIotlbEntry* e = iotlb_.lookup(pe->info.did, pasid, req.address, cls);
    const std::uint8_t need = req.access == model::AccessType::kWrite ? kPermW : kPermR;
    if (e == nullptr || (e->perms[0] & need) == 0) [[unlikely]] {
      count_to_context();
      ++stats_.ctxt_cache_hit;
      ++stats_.pasid_cache_lookup;
      ++stats_.pasid_cache_hit;
      ++stats_.iotlb_lookup;
      return after_pasid(req, ce, *pe, pasid, e, cls, r);
    }
    ++hot_hits_;
    if (cls != 0) [[unlikely]] {
      stats_.iotlb_hit_2m += cls == 1;
      stats_.iotlb_hit_1g += cls == 2;
    }
    r.fpd = pe->info.fpd;
    const model::Cycle at = req.arrival + hit_cycles_;
    const model::Cycle ready = std::max({ce->ready, pe->ready, e->ready});
    if (ready > at) ++stats_.pw_shared;
    model::Translation& t = r.translation;
    t.completion = std::max(at, ready);
    t.latency = t.completion - req.arrival;
    t.status = model::TranslationStatus::kOk;
    t.hpa = e->page_base | (req.address & e->offset_mask);
    t.page_size = e->offset_mask + 1;
    t.permissions = model::Permissions{.read = (e->perms[0] & kPermR) != 0,
                                       .write = (e->perms[0] & kPermW) != 0,
                                       .execute = (e->perms[0] & kPermX) != 0};
  }

  // Invalidations (called by DmaRemapper for the shared commands, and for types 6–7).
  void invalidate_context_all();
  void invalidate_context_device(model::SourceId sid, unsigned function_mask);
  std::size_t invalidate_iotlb_all();
  std::size_t invalidate_iotlb_domain(std::uint16_t did);
  std::size_t invalidate_iotlb_domain_range(std::uint16_t did, std::uint64_t base,
                                            std::uint64_t size, bool ih);
  // PASID cache (type 7): G 00 domain, 01 PASID-selective, 11 global.
  Granularity invalidate_pasid_cache(Granularity g, std::uint16_t did, std::uint32_t pasid);
  // PASID-based IOTLB (type 6): kDomain = all of the PASID, kSelective = 2^am pages at address.
  Granularity invalidate_pasid_iotlb(Granularity g, std::uint16_t did, std::uint32_t pasid,
                                     std::uint64_t address, unsigned am, bool ih);
  void invalidate_all();

  std::uint64_t hot_hits() const { return hot_hits_; }
  void reset_hot_hits() { hot_hits_ = 0; }

  std::size_t context_cache_entries() const { return contexts_.size(); }
  std::size_t pasid_cache_entries() const { return pasids_.size(); }
  std::size_t iotlb_entries() const { return iotlb_.size(); }
  std::size_t fs_pwc_entries(unsigned level) const;

 private:
  struct Ctx;
  void count_to_context() {
    ++stats_.translations;
    ++stats_.sm_translations;
    ++stats_.ctxt_cache_lookup;
  }
  [[gnu::noinline]] void slow(const model::DmaRequest& req, const RootState& root,
                              const ContextCacheEntry* ce, RemapResult& r);
  [[gnu::noinline]] void after_context(const model::DmaRequest& req, const ContextCacheEntry* ce,
                                       const PasidCacheEntry* pe, RemapResult& r);
  [[gnu::noinline]] void after_pasid(const model::DmaRequest& req, const ContextCacheEntry* ce,
                                     const PasidCacheEntry& pe, std::uint32_t pasid,
                                     const PasidIotlbEntry* e, unsigned cls, RemapResult& r);
  void from_context(const model::DmaRequest& req, Ctx& ctx, RemapResult& r);
  void from_pasid_cache(const model::DmaRequest& req, Ctx& ctx, const PasidCacheEntry* pe,
                        RemapResult& r);
  void from_pasid(const model::DmaRequest& req, Ctx& ctx, RemapResult& r);
  void from_iotlb(const model::DmaRequest& req, Ctx& ctx, const PasidIotlbEntry* e, unsigned cls,
                  RemapResult& r);
  void walk(const model::DmaRequest& req, Ctx& ctx, RemapResult& r);
  void fault(RemapResult& r, FaultReason reason, bool fpd);
  // Completes at `at` (after in-flight fills it relies on), first running the context/PASID
  // fetches the request still owes (and filling those caches). Returns the completion cycle.
  model::Cycle finish(const model::DmaRequest& req, Ctx& ctx, model::Cycle at,
                      model::Cycle walk_cycles, RemapResult& r);

  model::PhysicalMemory& memory_;
  UnitConfig config_;
  model::TimingParams timing_;
  model::Cycle table_read_;
  model::Cycle hit_cycles_;
  DmaRemapStats& stats_;
  PagingStructureCache& ss_pwc_;
  model::ServerPool& walkers_;
  ContextCache contexts_;
  PasidCache pasids_;
  PasidIotlb iotlb_;
  FsPwc fs_pwc_;
  std::uint64_t hot_hits_ = 0;
};

}  // namespace vtdsim::iommu
