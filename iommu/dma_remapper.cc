// The legacy-mode DMA-remapping pipeline of one unit with its timing (spec 4.x ch. 3, 6, 7;
// facts §3–§5, §8): interrupt window → TE → context cache / root+context fetch → TT and
// address-type checks → address width → IOTLB → paging-structure caches → second-stage walk
// on a bounded pool of page walkers → cache fills.
// Scalable mode (TTM = 01) is handed to ScalableRemapper (scalable_remapper.h), which shares
// the stats, the second-stage paging-structure caches and the walkers.
// Not modelled: device-TLB (ATS) caching in the unit, atomics, max_outstanding_misses (only the
// walker count bounds misses).
#include "iommu/dma_remapper.h"

#include <algorithm>

#include "iommu/context_cache.h"
#include "iommu/context_lookup.h"
#include "iommu/iotlb.h"
#include "iommu/legacy_formats.h"
#include "iommu/paging_structure_cache.h"
#include "iommu/scalable_remapper.h"
#include "iommu/second_stage_walk.h"
#include "model/timing.h"

namespace vtdsim::iommu {

using model::Cycle;

// MODEL: walk sharing. The in-flight table of (DID, page) → completion is folded into the
// caches: every IOTLB and context-cache entry carries the completion cycle (`ready`) of the
// walk or fetch that filled it, so a request that finds an entry before that cycle completes
// with it (pw_shared) instead of starting its own walk, at the cost of one compare on the hit
// path. Hit/miss counters stay functional (a shared request counts as an IOTLB hit). Walks
// that end in a fault fill nothing and are not shared; paging-structure-cache entries are
// usable at once.

namespace {

// Per-reason fault counters, indexed by legacy fault code (0x01..0x0E).
constexpr std::array<std::uint64_t DmaRemapStats::*, 15> kFaultCounter = {
    &DmaRemapStats::fault_other, &DmaRemapStats::fault_01, &DmaRemapStats::fault_02,
    &DmaRemapStats::fault_03,    &DmaRemapStats::fault_04, &DmaRemapStats::fault_05,
    &DmaRemapStats::fault_06,    &DmaRemapStats::fault_07, &DmaRemapStats::fault_08,
    &DmaRemapStats::fault_09,    &DmaRemapStats::fault_0a, &DmaRemapStats::fault_0b,
    &DmaRemapStats::fault_0c,    &DmaRemapStats::fault_0d, &DmaRemapStats::fault_0e,
};

void set_completion(model::Translation& t, Cycle arrival, Cycle completion) {
  t.completion = completion;
  t.latency = completion - arrival;
}

void set_ok(model::Translation& t, std::uint64_t hpa, std::uint64_t page_size, std::uint8_t perms) {
  t.status = model::TranslationStatus::kOk;
  t.hpa = hpa;
  t.page_size = page_size;
  t.permissions = model::Permissions{
      .read = (perms & kPermR) != 0, .write = (perms & kPermW) != 0, .execute = false};
}

}  // namespace

struct DmaRemapper::Impl {
  Impl(model::PhysicalMemory& m, const UnitConfig& c)
      : memory(m),
        config(c),
        timing(c.timing),
        table_read(c.timing.table_read()),
        hit_cycles(c.timing.context_cache_lookup + c.timing.iotlb_lookup),
        contexts(c.context_cache),
        iotlb(c),
        pwc(c),
        walkers(std::max(1u, c.timing.page_walkers)),
        sm(m, c, stats, pwc, walkers) {}

  model::PhysicalMemory& memory;
  UnitConfig config;
  model::TimingParams timing;
  Cycle table_read;
  Cycle hit_cycles;  // context-cache + IOTLB lookup
  DmaRemapStats stats;
  ContextCache contexts;
  Iotlb iotlb;
  PagingStructureCache pwc;
  model::ServerPool walkers;
  ScalableRemapper sm;

  // What the pipeline knows once the context is resolved.
  struct Ctx {
    const ContextInfo& info;
    Cycle base;   // cycle the lookups so far complete
    Cycle ready;  // completion of an in-flight fill this request relies on
    Cycle fetch;  // walker cycles of a root/context fetch still to run (context miss)
    bool fill;    // the context was fetched: fill the context cache
  };

  void fault(RemapResult& r, FaultReason reason, bool fpd) {
    r.translation.status = model::TranslationStatus::kFault;
    r.translation.fault_reason = code(reason);
    r.reason = reason;
    r.fpd = fpd;
    ++stats.faults;
    const std::uint8_t c = code(reason);
    ++(stats.*kFaultCounter[c < kFaultCounter.size() ? c : 0]);
  }

  // Runs a walker job of `cycles` that may start at `start`.
  // MODEL: a context fetch and the page walk that follows it are one job on one walker; the
  // cache lookups before it are pipelined and never wait for a walker.
  model::ServerPool::Grant run_job(Cycle start, Cycle cycles) {
    const model::ServerPool::Grant g = walkers.acquire(start, cycles);
    stats.pw_occupancy += cycles;
    stats.pw_wait_cycles += g.start - start;
    return g;
  }

  [[gnu::always_inline]] void translate(const model::DmaRequest& req, const RootState& root,
                                        RemapResult& r);
  // The cases the hot path leaves out, each out of line.
  [[gnu::noinline]] void special(const model::DmaRequest& req, const RootState& root,
                                 RemapResult& r);
  [[gnu::noinline]] void context_miss(const model::DmaRequest& req, const RootState& root,
                                      RemapResult& r);
  [[gnu::noinline]] void after_context(const model::DmaRequest& req, const Ctx& ctx,
                                       RemapResult& r);
  [[gnu::noinline]] void walk(const model::DmaRequest& req, const Ctx& ctx, RemapResult& r);
  [[gnu::noinline]] void finish(const model::DmaRequest& req, const Ctx& ctx, Cycle at,
                                model::Translation& t);
  [[gnu::noinline]] void iotlb_stage(const model::DmaRequest& req, const Ctx& ctx, RemapResult& r);
  [[gnu::noinline]] void general(const model::DmaRequest& req, const RootState& root,
                                 RemapResult& r);
  Ctx context_hit(const model::DmaRequest& req, const ContextCacheEntry& ce) const;
  void count_context_hit() {
    ++stats.translations;
    ++stats.ctxt_cache_lookup;
    ++stats.ctxt_cache_hit;
  }

  std::uint64_t hot_hits = 0;  // legacy hot-path hits (see translate)
  DmaRemapStats view;          // stats with the hot-path counts folded in (stats())
};

// Hot path: an untranslated request without PASID, a context-cache hit on a translating
// context and an IOTLB hit: a few loads and compares. Everything else branches out of line
// into the general pipeline, which counts and times exactly the same way.
// MODEL: every request looks up the context cache (it yields the DID that tags the IOTLB), then
// the IOTLB, one after the other: a hit costs context_cache_lookup + iotlb_lookup.
inline void DmaRemapper::Impl::translate(const model::DmaRequest& req, const RootState& root,
                                         RemapResult& r) {
  const bool plain = !req.has_pasid && !in_interrupt_window(req.address) &&
                     root.translation_enabled && root.root_table_pointer_set && root.ttm == 0 &&
                     req.address_type == model::AddressType::kUntranslated;
  if (!plain) [[unlikely]] {
    // Scalable mode: everything but interrupt requests (no PASID, 0xFEEx_xxxx) and TE = 0.
    if (root.ttm == 1 && root.translation_enabled && root.root_table_pointer_set &&
        (req.has_pasid || !in_interrupt_window(req.address))) {
      return sm.translate(req, root, r);
    }
    return general(req, root, r);
  }
  const ContextCacheEntry* ce = contexts.lookup(req.source_id);
  if (ce == nullptr) [[unlikely]] {
    ++stats.translations;
    ++stats.ctxt_cache_lookup;
    return context_miss(req, root, r);
  }
  const ContextInfo& info = ce->info;
  if (!info.translating || (req.address >> info.width) != 0) [[unlikely]] {
    count_context_hit();
    return after_context(req, context_hit(req, *ce), r);
  }
  unsigned cls = 0;
  const IotlbEntry* e = iotlb.lookup(info.did, req.address, cls);
  if (e == nullptr) [[unlikely]] {
    count_context_hit();
    ++stats.iotlb_lookup;
    return walk(req, context_hit(req, *ce), r);
  }
  // One counter for the whole hit (translation, context-cache lookup and hit, IOTLB lookup and
  // hit); stats() folds it into those counters.
  ++hot_hits;
  if (cls != 0) [[unlikely]] {
    stats.iotlb_hit_2m += cls == 1;
    stats.iotlb_hit_1g += cls == 2;
  }
  model::Translation& t = r.translation;
  r.fpd = info.fpd;
  const Cycle at = req.arrival + hit_cycles;
  const Cycle ready = std::max(ce->ready, e->ready);
  if (ready > at) ++stats.pw_shared;
  set_completion(t, req.arrival, std::max(at, ready));
  const std::uint8_t need = req.access == model::AccessType::kWrite ? kPermW : kPermR;
  if ((e->perms & need) == 0) [[unlikely]]
    return fault(r, permission_fault(e->perms, need), info.fpd);
  t.status = model::TranslationStatus::kOk;
  t.hpa = e->page_base | (req.address & e->offset_mask);
  t.page_size = e->offset_mask + 1;
  t.permissions = e->permissions;
}

DmaRemapper::Impl::Ctx DmaRemapper::Impl::context_hit(const model::DmaRequest& req,
                                                      const ContextCacheEntry& ce) const {
  return Ctx{.info = ce.info,
             .base = req.arrival + timing.context_cache_lookup,
             .ready = ce.ready,
             .fetch = 0,
             .fill = false};
}

void DmaRemapper::Impl::general(const model::DmaRequest& req, const RootState& root,
                                RemapResult& r) {
  ++stats.translations;
  if (req.has_pasid || in_interrupt_window(req.address) || !root.translation_enabled ||
      !root.root_table_pointer_set || root.ttm != 0) {
    return special(req, root, r);
  }
  // --- context cache (§6.2.1) ---
  ++stats.ctxt_cache_lookup;
  const ContextCacheEntry* ce = contexts.lookup(req.source_id);
  if (ce == nullptr) return context_miss(req, root, r);
  ++stats.ctxt_cache_hit;
  return after_context(req, context_hit(req, *ce), r);
}

void DmaRemapper::Impl::special(const model::DmaRequest& req, const RootState& root,
                                RemapResult& r) {
  model::Translation& t = r.translation;
  set_completion(t, req.arrival, req.arrival);
  // Requests without PASID to 0xFEEx_xxxx are interrupt requests, never DMA-remapped, whatever
  // TE says (§3.14; facts §8). A read there is handed back the same way: it is not a
  // remapping fault; the unit/platform treats it as an unsupported request (facts §8 [Q]).
  if (!req.has_pasid && in_interrupt_window(req.address)) {
    ++stats.interrupt_window;
    t.status = model::TranslationStatus::kInterruptWindow;
    return;
  }
  // TE=0: every request passes untranslated (§3.4 / GSTS.TES).
  if (!root.translation_enabled) {
    ++stats.passthrough;
    set_ok(t, req.address, model::kPageSize, kPermRW);
    return;
  }
  // Legacy mode has no PASID tables: a request with PASID is blocked (fault 0x31, "TTM=00 used
  // for a request with PASID", facts §5.1).
  if (req.has_pasid) return fault(r, FaultReason::kSmLegacyTtmWithPasid, false);
  // Decision: TE=1 without a latched root table (GSTS.RTPS=0), or a TTM this model does not
  // implement (scalable/reserved), has no root entry to read: reported as a root read error.
  return fault(r, FaultReason::kRootReadError, false);
}

void DmaRemapper::Impl::context_miss(const model::DmaRequest& req, const RootState& root,
                                     RemapResult& r) {
  ++stats.ctxt_cache_miss;
  const Cycle base = req.arrival + timing.context_cache_lookup;
  const ContextFetch f = fetch_context(memory, config, root.root_table, req.source_id);
  stats.ctxt_fetch_reads += f.reads;
  const Cycle fetch_cycles = f.reads * table_read;
  if (f.reason != FaultReason::kNone) {
    const model::ServerPool::Grant g = run_job(base, fetch_cycles);
    set_completion(r.translation, req.arrival, g.end);
    // CM=1: a not-present context may be cached, tagged with DID 0 (facts §1.2 CAP.CM).
    if (f.reason == FaultReason::kContextNotPresent && config.caching_mode) {
      ContextInfo neg;
      neg.fpd = f.info.fpd;
      contexts.insert(req.source_id, ContextCacheEntry{.info = neg, .ready = g.end});
    }
    return fault(r, f.reason, f.info.fpd);
  }
  const Ctx ctx{.info = f.info, .base = base, .ready = 0, .fetch = fetch_cycles, .fill = true};
  return after_context(req, ctx, r);
}

// Completes a request that needs no IOTLB or walk: after any in-flight fill it relies on and
// after its own context fetch, which then fills the context cache.
void DmaRemapper::Impl::finish(const model::DmaRequest& req, const Ctx& ctx, Cycle at,
                               model::Translation& t) {
  Cycle done = std::max(at, ctx.ready);
  if (ctx.ready > at) ++stats.pw_shared;
  if (ctx.fill) {
    const model::ServerPool::Grant g = run_job(done, ctx.fetch);
    done = g.end;
    contexts.insert(req.source_id, ContextCacheEntry{.info = ctx.info, .ready = g.end});
  }
  set_completion(t, req.arrival, done);
}

void DmaRemapper::Impl::after_context(const model::DmaRequest& req, const Ctx& ctx,
                                      RemapResult& r) {
  model::Translation& t = r.translation;
  const ContextInfo& info = ctx.info;
  r.fpd = info.fpd;
  if (!info.present) {  // caching-mode negative context entry
    finish(req, ctx, ctx.base, t);
    return fault(r, FaultReason::kContextNotPresent, info.fpd);
  }
  // --- translation type vs address type (§9.3 TT; facts §3.2) ---
  const model::AddressType at = req.address_type;
  if (info.tt == context_entry::kTtPassThrough) {
    finish(req, ctx, ctx.base, t);
    if (at != model::AddressType::kUntranslated) {
      return fault(r, FaultReason::kTranslationTypeBlocked, info.fpd);
    }
    ++stats.passthrough;
    set_ok(t, req.address, model::kPageSize, kPermRW);
    return;
  }
  if (at != model::AddressType::kUntranslated && info.tt == context_entry::kTtUntranslatedOnly) {
    finish(req, ctx, ctx.base, t);
    return fault(r, FaultReason::kTranslationTypeBlocked, info.fpd);
  }
  if (at == model::AddressType::kTranslated) {
    // TT=01: a translated request already carries a host address (§4.1, ATS).
    finish(req, ctx, ctx.base, t);
    ++stats.passthrough;
    set_ok(t, req.address, model::kPageSize, kPermRW);
    return;
  }
  // Input address beyond 2^min(AGAW, MGAW) (§3.6; fault 0x04).
  if ((req.address >> info.width) != 0) {
    finish(req, ctx, ctx.base, t);
    return fault(r, FaultReason::kAddressBeyondAw, info.fpd);
  }
  return iotlb_stage(req, ctx, r);
}

void DmaRemapper::Impl::iotlb_stage(const model::DmaRequest& req, const Ctx& ctx, RemapResult& r) {
  // --- IOTLB (§6.2.3) ---
  ++stats.iotlb_lookup;
  unsigned cls = 0;
  const IotlbEntry* e = iotlb.lookup(ctx.info.did, req.address, cls);
  if (e == nullptr) [[unlikely]]
    return walk(req, ctx, r);
  ++stats.iotlb_hit;
  if (cls != 0) [[unlikely]] {
    stats.iotlb_hit_2m += cls == 1;
    stats.iotlb_hit_1g += cls == 2;
  }
  model::Translation& t = r.translation;
  r.fpd = ctx.info.fpd;
  const Cycle at = ctx.base + timing.iotlb_lookup;
  const Cycle ready = std::max(ctx.ready, e->ready);
  if (!ctx.fill) [[likely]] {
    if (ready > at) ++stats.pw_shared;
    set_completion(t, req.arrival, std::max(at, ready));
  } else {
    finish(req, Ctx{ctx.info, ctx.base, ready, ctx.fetch, ctx.fill}, at, t);
  }
  const bool translation_request = req.address_type == model::AddressType::kTranslationRequest;
  const std::uint8_t need =
      translation_request ? 0 : (req.access == model::AccessType::kWrite ? kPermW : kPermR);
  if (const FaultReason f = permission_fault(e->perms, need); f != FaultReason::kNone)
      [[unlikely]] {
    return fault(r, f, ctx.info.fpd);
  }
  set_ok(t, e->perms == 0 ? 0 : e->page_base | (req.address & e->offset_mask), e->offset_mask + 1,
         e->perms);
}

void DmaRemapper::Impl::walk(const model::DmaRequest& req, const Ctx& ctx, RemapResult& r) {
  ++stats.iotlb_miss;
  const ContextInfo& info = ctx.info;
  model::Translation& t = r.translation;
  r.fpd = info.fpd;
  const bool translation_request = req.address_type == model::AddressType::kTranslationRequest;
  const std::uint8_t need =
      translation_request ? 0 : (req.access == model::AccessType::kWrite ? kPermW : kPermR);

  // --- paging-structure caches (§6.2.4): the deepest cached level wins ---
  // MODEL: all levels are probed in parallel: one pwc_lookup latency per walk.
  ++stats.slpwc_lookup;
  WalkStart start{.table = info.slptptr, .level = info.levels, .perms = kPermRW};
  for (unsigned level = 2; level <= info.levels; ++level) {
    if (!pwc.built(level)) continue;
    if (const PwcEntry* p = pwc.lookup(level, info.did, req.address)) {
      start = WalkStart{.table = p->next_table, .level = level - 1, .perms = p->perms};
      switch (level) {
        case 2:
          ++stats.slpwc_l2_hit;
          break;
        case 3:
          ++stats.slpwc_l3_hit;
          break;
        case 4:
          ++stats.slpwc_l4_hit;
          break;
        default:
          ++stats.slpwc_l5_hit;
          break;
      }
      break;
    }
  }

  // --- page walk (§3.6) on a walker ---
  const WalkResult w = walk_second_stage(memory, config, start, req.address, need);
  ++stats.pw_walks;
  stats.pw_mem_reads += w.reads;
  const Cycle job = ctx.fetch + timing.pwc_lookup + w.reads * table_read;
  const Cycle base = ctx.base + timing.iotlb_lookup;
  const Cycle job_start = std::max(base, ctx.ready);
  if (ctx.ready > base) ++stats.pw_shared;
  const model::ServerPool::Grant g = run_job(job_start, job);
  set_completion(t, req.arrival, g.end);

  // Fills: context (ready when its fetch ended), non-leaf entries, then the leaf.
  const std::uint16_t did = info.did;
  if (ctx.fill) {
    contexts.insert(req.source_id, ContextCacheEntry{.info = info, .ready = g.start + ctx.fetch});
  }
  for (unsigned i = 0; i < w.n_steps; ++i) {
    const WalkStep& s = w.steps[i];
    pwc.insert(s.level, did, req.address, PwcEntry{.next_table = s.next_table, .perms = s.perms});
  }
  if (w.not_present) {
    // CM=1: a not-present leaf may be cached (tagged with the DID); CM=0 caches successes only.
    if (config.caching_mode) {
      iotlb.insert(did, req.address, 0,
                   IotlbEntry{.page_base = 0,
                              .offset_mask = model::kPageSize - 1,
                              .ready = g.end,
                              .perms = 0,
                              .permissions = {}});
    }
    if (translation_request) {
      // A translation request gets a successful completion with no permission (§4.2.3).
      set_ok(t, 0, model::kPageSize, 0);
      return;
    }
    return fault(r, w.reason, info.fpd);
  }
  if (w.reason != FaultReason::kNone) return fault(r, w.reason, info.fpd);

  const std::uint64_t page_size = level_page_size(w.page_level);
  // An output page overlapping the interrupt range is blocked (fault 0x0E; facts §8).
  if (overlaps_interrupt_window(w.page_base, page_size)) {
    return fault(r, FaultReason::kOutputInInterruptRange, info.fpd);
  }
  set_ok(t, w.page_base | (req.address & (page_size - 1)), page_size, w.perms);
  iotlb.insert(did, req.address, w.page_level - 1,
               IotlbEntry{.page_base = w.page_base,
                          .offset_mask = page_size - 1,
                          .ready = g.end,
                          .perms = w.perms,
                          .permissions = t.permissions});
  return;
}

DmaRemapper::DmaRemapper(model::PhysicalMemory& memory, const UnitConfig& config)
    : impl_(std::make_unique<Impl>(memory, config)) {}

DmaRemapper::~DmaRemapper() = default;

RemapResult DmaRemapper::translate(const model::DmaRequest& request, const RootState& root) {
  RemapResult r;
  impl_->translate(request, root, r);
  return r;
}

Granularity DmaRemapper::invalidate_context_global() {
  ++impl_->stats.ctxt_inval_global;
  impl_->contexts.invalidate_all();
  impl_->sm.invalidate_context_all();
  return Granularity::kGlobal;
}

Granularity DmaRemapper::invalidate_context_domain(std::uint16_t did) {
  ++impl_->stats.ctxt_inval_domain;
  impl_->contexts.invalidate_domain(did);
  // MODEL: scalable context entries carry no DID: a domain-selective request drops them all.
  impl_->sm.invalidate_context_all();
  return Granularity::kDomain;
}

Granularity DmaRemapper::invalidate_context_device(std::uint16_t /*did*/, model::SourceId sid,
                                                   unsigned function_mask) {
  // MODEL: entries are selected by source-id and FM only (a superset of the DID+SID match the
  // spec describes), which also drops caching-mode negative entries tagged DID 0.
  ++impl_->stats.ctxt_inval_device;
  impl_->contexts.invalidate_device(sid, function_mask);
  impl_->sm.invalidate_context_device(sid, function_mask);
  return Granularity::kSelective;
}

Granularity DmaRemapper::invalidate_iotlb_global() {
  ++impl_->stats.iotlb_inval_global;
  impl_->stats.iotlb_inval_entries += impl_->iotlb.invalidate_all();
  impl_->stats.iotlb_inval_entries += impl_->sm.invalidate_iotlb_all();
  impl_->pwc.invalidate_all();
  return Granularity::kGlobal;
}

Granularity DmaRemapper::invalidate_iotlb_domain(std::uint16_t did) {
  ++impl_->stats.iotlb_inval_domain;
  impl_->stats.iotlb_inval_entries += impl_->iotlb.invalidate_domain(did);
  impl_->stats.iotlb_inval_entries += impl_->sm.invalidate_iotlb_domain(did);
  impl_->pwc.invalidate_domain(did);
  return Granularity::kDomain;
}

Granularity DmaRemapper::invalidate_iotlb_page(std::uint16_t did, std::uint64_t address,
                                               unsigned am, bool ih) {
  // Without CAP.PSI, or with AM beyond CAP.MAMV, the unit performs the coarser
  // domain-selective invalidation and reports it (hardware may invalidate more, §6.5.1.2).
  if (!impl_->config.psi || am > impl_->config.mamv || am > 51) {
    return invalidate_iotlb_domain(did);
  }
  ++impl_->stats.iotlb_inval_page;
  // 2^AM pages from ADDR aligned down to that size (software must align it; §10.4.8.1).
  const std::uint64_t size = std::uint64_t{1} << (12 + am);
  const std::uint64_t base = address & ~(size - 1);
  impl_->stats.iotlb_inval_entries += impl_->iotlb.invalidate_range(did, base, size);
  impl_->stats.iotlb_inval_entries += impl_->sm.invalidate_iotlb_domain_range(did, base, size, ih);
  // IH=1: only leaves changed, the paging-structure caches may keep their entries.
  if (!ih) impl_->pwc.invalidate_range(did, base, size);
  return Granularity::kSelective;
}

Granularity DmaRemapper::invalidate_pasid_cache(Granularity g, std::uint16_t did,
                                                std::uint32_t pasid) {
  return impl_->sm.invalidate_pasid_cache(g, did, pasid);
}

Granularity DmaRemapper::invalidate_pasid_iotlb(Granularity g, std::uint16_t did,
                                                std::uint32_t pasid, std::uint64_t address,
                                                unsigned am, bool ih) {
  return impl_->sm.invalidate_pasid_iotlb(g, did, pasid, address, am, ih);
}

std::size_t DmaRemapper::sm_context_cache_entries() const {
  return impl_->sm.context_cache_entries();
}
std::size_t DmaRemapper::pasid_cache_entries() const {
  return impl_->sm.pasid_cache_entries();
}
std::size_t DmaRemapper::sm_iotlb_entries() const {
  return impl_->sm.iotlb_entries();
}
std::size_t DmaRemapper::fs_pwc_entries(unsigned level) const {
  return impl_->sm.fs_pwc_entries(level);
}

void DmaRemapper::invalidate_all() {
  impl_->sm.invalidate_all();
  impl_->contexts.invalidate_all();
  impl_->iotlb.invalidate_all();
  impl_->pwc.invalidate_all();
}

// MODEL (simulation, not timing): the hit paths count one event per hit; the counters it
// stands for are derived here, so a report sees exactly the per-structure counts.
const DmaRemapStats& DmaRemapper::stats() const {
  Impl& u = *impl_;
  u.view = u.stats;
  const std::uint64_t hot = u.hot_hits + u.sm.hot_hits();
  u.view.translations += hot;
  u.view.ctxt_cache_lookup += hot;
  u.view.ctxt_cache_hit += hot;
  u.view.iotlb_lookup += hot;
  u.view.iotlb_hit += hot;
  const std::uint64_t sm = u.sm.hot_hits();
  u.view.sm_translations += sm;
  u.view.pasid_cache_lookup += sm;
  u.view.pasid_cache_hit += sm;
  return u.view;
}

void DmaRemapper::reset_stats() {
  impl_->stats = DmaRemapStats{};
  impl_->hot_hits = 0;
  impl_->sm.reset_hot_hits();
}

std::size_t DmaRemapper::context_cache_entries() const {
  return impl_->contexts.size();
}

std::size_t DmaRemapper::iotlb_entries() const {
  return impl_->iotlb.size();
}

std::size_t DmaRemapper::pwc_entries(unsigned level) const {
  if (level < PagingStructureCache::kMinLevel || level > PagingStructureCache::kMaxLevel) return 0;
  return impl_->pwc.size(level);
}

}  // namespace vtdsim::iommu
