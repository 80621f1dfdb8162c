// Scalable-mode pipeline: lookups, PGTT dispatch, walks, fills, invalidation.
#include "iommu/scalable_remapper.h"

#include <algorithm>

#include "iommu/legacy_formats.h"
#include "iommu/scalable_formats.h"

namespace vtdsim::iommu {

using model::Cycle;

// MODEL: the context cache, PASID cache and IOTLB are probed one after the other: a hit costs
// context_cache_lookup + pasid_cache_lookup + iotlb_lookup. A miss runs the root/context and
// PASID fetches and the walk (every paging-entry read of both stages, and every A/D write) as
// one job on one page walker. In-flight sharing works as in legacy mode (entries carry the
// cycle their fill completes).

struct ScalableRemapper::Ctx {
  ContextInfo info;
  Cycle base = 0;   // cycle the lookups so far complete
  Cycle ready = 0;  // completion of in-flight fills this request relies on
  Cycle fetch = 0;  // walker cycles of context/PASID fetches still to run
  bool fill_context = false;
  bool fill_pasid = false;
  PasidInfo pasid_info;
  std::uint32_t pasid = 0;
  bool user = true;
  std::uint8_t need = 0;  // kPermR / kPermW / kPermX; 0 for a translation request
};

ScalableRemapper::ScalableRemapper(model::PhysicalMemory& memory, const UnitConfig& config,
                                   DmaRemapStats& stats, PagingStructureCache& ss_pwc,
                                   model::ServerPool& walkers)
    : memory_(memory),
      config_(config),
      timing_(config.timing),
      table_read_(config.timing.table_read()),
      hit_cycles_(config.timing.context_cache_lookup + config.timing.pasid_cache_lookup +
                  config.timing.iotlb_lookup),
      stats_(stats),
      ss_pwc_(ss_pwc),
      walkers_(walkers),
      contexts_(config.context_cache),
      pasids_(config.pasid_cache),
      iotlb_(config),
      fs_pwc_(config) {}

void ScalableRemapper::fault(RemapResult& r, FaultReason reason, bool fpd) {
  r.translation.status = model::TranslationStatus::kFault;
  r.translation.fault_reason = code(reason);
  r.reason = reason;
  r.fpd = fpd;
  ++stats_.faults;
  ++stats_.fault_sm;
}

Cycle ScalableRemapper::finish(const model::DmaRequest& req, Ctx& ctx, Cycle at, Cycle walk_cycles,
                               RemapResult& r) {
  Cycle done = std::max(at, ctx.ready);
  if (ctx.ready > at) ++stats_.pw_shared;
  const Cycle cycles = ctx.fetch + walk_cycles;
  if (cycles != 0) {
    const model::ServerPool::Grant g = walkers_.acquire(done, cycles);
    stats_.pw_occupancy += cycles;
    stats_.pw_wait_cycles += g.start - done;
    done = g.end;
    const Cycle fetched = g.start + ctx.fetch;
    if (ctx.fill_context) {
      contexts_.insert(req.source_id, ContextCacheEntry{.info = ctx.info, .ready = fetched});
    }
    if (ctx.fill_pasid) {
      pasids_.insert(req.source_id, ctx.pasid,
                     PasidCacheEntry{.info = ctx.pasid_info, .ready = fetched});
    }
  }
  ctx.fetch = 0;
  ctx.fill_context = ctx.fill_pasid = false;
  r.translation.completion = done;
  r.translation.latency = done - req.arrival;
  return done;
}

void ScalableRemapper::slow(const model::DmaRequest& req, const RootState& root,
                            const ContextCacheEntry* ce, RemapResult& r) {
  Ctx ctx;
  ctx.base = req.arrival + timing_.context_cache_lookup;
  if (ce == nullptr) {
    ++stats_.ctxt_cache_miss;
    const ContextFetch f = fetch_sm_context(memory_, config_, root.root_table, req.source_id);
    stats_.ctxt_fetch_reads += f.reads;
    ctx.fetch = f.reads * table_read_;
    if (f.reason != FaultReason::kNone) {
      finish(req, ctx, ctx.base, 0, r);
      return fault(r, f.reason, f.info.fpd);
    }
    ctx.info = f.info;
    ctx.fill_context = true;
  } else {
    ++stats_.ctxt_cache_hit;
    ctx.info = ce->info;
    ctx.ready = ce->ready;
  }
  from_context(req, ctx, r);
}

void ScalableRemapper::after_context(const model::DmaRequest& req, const ContextCacheEntry* ce,
                                     const PasidCacheEntry* pe, RemapResult& r) {
  Ctx ctx;
  ctx.base = req.arrival + timing_.context_cache_lookup;
  ctx.info = ce->info;
  ctx.ready = ce->ready;
  ctx.pasid = req.has_pasid ? req.pasid : ctx.info.rid_pasid;
  ctx.user = !(req.has_pasid && req.privileged);
  ctx.need = req.access == model::AccessType::kWrite ? kPermW : kPermR;
  if (req.has_pasid && req.execute) {
    if (!config_.execute_requests) {
      finish(req, ctx, ctx.base, 0, r);
      return fault(r, FaultReason::kSmEreClear, ctx.info.fpd);
    }
    ctx.need |= kPermX;
  }
  from_pasid_cache(req, ctx, pe, r);
}

void ScalableRemapper::after_pasid(const model::DmaRequest& req, const ContextCacheEntry* ce,
                                   const PasidCacheEntry& pe, std::uint32_t pasid,
                                   const PasidIotlbEntry* e, unsigned cls, RemapResult& r) {
  Ctx ctx;
  ctx.info = ce->info;
  ctx.ready = std::max(ce->ready, pe.ready);
  ctx.base = req.arrival + timing_.context_cache_lookup + timing_.pasid_cache_lookup;
  ctx.pasid_info = pe.info;
  ctx.pasid = pasid;
  ctx.need = req.access == model::AccessType::kWrite ? kPermW : kPermR;
  from_iotlb(req, ctx, e, cls, r);
}

void ScalableRemapper::from_context(const model::DmaRequest& req, Ctx& ctx, RemapResult& r) {
  const ContextInfo& info = ctx.info;
  // Requests with PASID need PASIDE (0x45).
  if (req.has_pasid && !info.paside) {
    finish(req, ctx, ctx.base, 0, r);
    return fault(r, FaultReason::kSmPasidDisabled, info.fpd);
  }
  // ATS (§4.2.3): translation and translated requests need DTE (0x44). A translated request
  // already carries a host address.
  if (req.address_type != model::AddressType::kUntranslated) {
    if (!info.dte) {
      finish(req, ctx, ctx.base, 0, r);
      return fault(r, FaultReason::kSmDteClear, info.fpd);
    }
    if (req.address_type == model::AddressType::kTranslated) {
      finish(req, ctx, ctx.base, 0, r);
      ++stats_.passthrough;
      r.fpd = info.fpd;
      r.translation.status = model::TranslationStatus::kOk;
      r.translation.hpa = req.address;
      r.translation.page_size = model::kPageSize;
      r.translation.permissions = {.read = true, .write = true, .execute = false};
      return;
    }
    ++stats_.ats_translation_requests;
  }
  ctx.pasid = req.has_pasid ? req.pasid : info.rid_pasid;
  ctx.user = !(req.has_pasid && req.privileged);
  const bool tr = req.address_type == model::AddressType::kTranslationRequest;
  ctx.need = tr ? 0 : (req.access == model::AccessType::kWrite ? kPermW : kPermR);
  // Execute requests (ER = 1 in the PASID prefix) need ECAP.ERS.
  // Decision: the 4.x PASID entry has no ERE bit in the facts sheet; without ECAP.ERS an
  // execute request faults 0x5C ("ERE clear"), with it execute permission is checked.
  if (req.has_pasid && req.execute) {
    if (!config_.execute_requests) {
      finish(req, ctx, ctx.base, 0, r);
      return fault(r, FaultReason::kSmEreClear, info.fpd);
    }
    if (!tr) ctx.need |= kPermX;
  }
  ++stats_.pasid_cache_lookup;
  from_pasid_cache(req, ctx, pasids_.lookup(req.source_id, ctx.pasid), r);
}

void ScalableRemapper::from_pasid_cache(const model::DmaRequest& req, Ctx& ctx,
                                        const PasidCacheEntry* pe, RemapResult& r) {
  ctx.base += timing_.pasid_cache_lookup;
  if (pe != nullptr) {
    ++stats_.pasid_cache_hit;
    ctx.pasid_info = pe->info;
    ctx.ready = std::max(ctx.ready, pe->ready);
  } else {
    ++stats_.pasid_cache_miss;
    const PasidFetch f = fetch_pasid(memory_, config_, ctx.info, ctx.pasid);
    stats_.pasid_fetch_reads += f.reads;
    ctx.fetch += f.reads * table_read_;
    if (f.reason != FaultReason::kNone) {
      finish(req, ctx, ctx.base, 0, r);
      return fault(r, f.reason, f.info.fpd);
    }
    ctx.pasid_info = f.info;
    ctx.fill_pasid = true;
  }
  from_pasid(req, ctx, r);
}

void ScalableRemapper::from_pasid(const model::DmaRequest& req, Ctx& ctx, RemapResult& r) {
  const PasidInfo& p = ctx.pasid_info;
  r.fpd = p.fpd;
  // Supervisor requests need SRE (0x5D).
  if (!ctx.user && !p.sre) {
    finish(req, ctx, ctx.base, 0, r);
    return fault(r, FaultReason::kSmSreClear, p.fpd);
  }
  if (p.pgtt == pasid_entry::kPgttPassThrough) {
    finish(req, ctx, ctx.base, 0, r);
    // A request with PASID to the interrupt window under pass-through is blocked (facts §8).
    if (overlaps_interrupt_window(req.address & ~(model::kPageSize - 1), model::kPageSize)) {
      return fault(r, FaultReason::kSmOutputInInterruptRange, p.fpd);
    }
    ++stats_.passthrough;
    r.translation.status = model::TranslationStatus::kOk;
    r.translation.hpa = req.address;
    r.translation.page_size = model::kPageSize;
    r.translation.permissions = {.read = true, .write = true, .execute = true};
    return;
  }
  // Second-stage-only input width (0x83, "address beyond the DMA hardware max").
  if (p.pgtt == pasid_entry::kPgttSecondStage && (req.address >> p.ss_width) != 0) {
    finish(req, ctx, ctx.base, 0, r);
    return fault(r, FaultReason::kSmAddressBeyondMax, p.fpd);
  }
  ++stats_.iotlb_lookup;
  unsigned cls = 0;
  const PasidIotlbEntry* e = iotlb_.lookup(p.did, ctx.pasid, req.address, cls);
  from_iotlb(req, ctx, e, cls, r);
}

void ScalableRemapper::from_iotlb(const model::DmaRequest& req, Ctx& ctx, const PasidIotlbEntry* e,
                                  unsigned cls, RemapResult& r) {
  if (e == nullptr) return walk(req, ctx, r);
  const std::uint8_t have = e->perms[ctx.user ? 0 : 1];
  const bool write = (ctx.need & kPermW) != 0;
  if ((have & ctx.need) != ctx.need && write && e->dirty_pending) return walk(req, ctx, r);
  ++stats_.iotlb_hit;
  stats_.iotlb_hit_2m += cls == 1;
  stats_.iotlb_hit_1g += cls == 2;
  ctx.ready = std::max(ctx.ready, e->ready);
  finish(req, ctx, ctx.base + timing_.iotlb_lookup, 0, r);
  const bool fs = e->kind != SmEntryKind::kSecondStage;
  FaultReason f = FaultReason::kNone;
  if ((have & ctx.need) != ctx.need) {
    // The fault the cached rights give (U/S 0x81, W 0x85, R 0x86, XD 0x82).
    if (fs && ctx.user && (e->rights & kFsUser) == 0) {
      f = FaultReason::kSmFsUserDenied;
    } else if (write && (have & kPermW) == 0) {
      f = FaultReason::kSmWriteDenied;
    } else if ((ctx.need & kPermR) != 0 && (have & kPermR) == 0) {
      f = FaultReason::kSmReadDenied;
    } else {
      f = FaultReason::kSmExecuteDenied;
    }
    return fault(r, f, ctx.pasid_info.fpd);
  }
  model::Translation& t = r.translation;
  t.status = model::TranslationStatus::kOk;
  t.hpa = have == 0 ? 0 : e->page_base | (req.address & e->offset_mask);
  t.page_size = e->offset_mask + 1;
  t.permissions = {.read = (have & kPermR) != 0,
                   .write = (have & kPermW) != 0 && !e->dirty_pending,
                   .execute = (have & kPermX) != 0};
}

void ScalableRemapper::walk(const model::DmaRequest& req, Ctx& ctx, RemapResult& r) {
  ++stats_.iotlb_miss;
  ++stats_.pw_walks;
  const PasidInfo& p = ctx.pasid_info;
  const bool tr = req.address_type == model::AddressType::kTranslationRequest;
  const bool write = (ctx.need & kPermW) != 0;
  SmWalkCounters n;
  FaultReason reason = FaultReason::kNone;
  bool not_present = false;
  std::uint64_t page_base = 0;
  unsigned page_level = 1;
  std::array<std::uint8_t, 2> perms{};
  std::uint8_t rights = kFsAll;
  std::uint8_t ss_perms = kPermRW;
  bool dirty_pending = false;
  SmEntryKind kind = SmEntryKind::kSecondStage;

  if (p.pgtt == pasid_entry::kPgttSecondStage) {
    const SsTranslation s =
        translate_second_stage(memory_, config_, ss_pwc_, p, req.address, ctx.need & kPermRW, n);
    reason = s.reason;
    not_present = s.not_present;
    page_base = s.page_base;
    page_level = s.page_level;
    ss_perms = s.perms;
    // Second-stage entries carry no execute permission (bit 2 ignored): execute goes with R.
    const auto x = static_cast<std::uint8_t>((s.perms & kPermR) != 0 ? kPermX : 0);
    perms = {static_cast<std::uint8_t>(s.perms | x), static_cast<std::uint8_t>(s.perms | x)};
    dirty_pending = p.ssade && !write;
  } else {
    const bool nested = p.pgtt == pasid_entry::kPgttNested;
    kind = nested ? SmEntryKind::kNested : SmEntryKind::kFirstStage;
    ++stats_.fs_walks;
    stats_.nested_walks += nested;
    const FsRequest fr{.address = req.address,
                       .pasid = ctx.pasid,
                       .write = write,
                       .user = ctx.user,
                       .execute = (ctx.need & kPermX) != 0,
                       .translation_request = tr};
    const FsWalk w = walk_first_stage(memory_, config_, fs_pwc_, ss_pwc_, p, fr, n);
    reason = w.reason;
    not_present = w.not_present;
    rights = w.rights;
    page_base = w.page_base;
    page_level = w.page_level;
    perms = {fs_grant(rights, true, p), fs_grant(rights, false, p)};
    dirty_pending = !write;
    if (nested && reason == FaultReason::kNone) {
      // The output GPA through the second stage (0x74 when beyond its width).
      const std::uint64_t gpa = page_base | (req.address & (level_page_size(page_level) - 1));
      const SsTranslation s =
          translate_second_stage(memory_, config_, ss_pwc_, p, gpa, ctx.need & kPermRW, n);
      reason = s.reason == FaultReason::kSmAddressBeyondMax ? FaultReason::kSmFsEntryBeyondMgaw
                                                            : s.reason;
      not_present = s.not_present;
      ss_perms = s.perms;
      const unsigned level = std::min(page_level, s.page_level);
      page_level = level;
      page_base = (s.page_base | (gpa & (level_page_size(s.page_level) - 1))) &
                  ~(level_page_size(level) - 1);
      const auto ss_x = static_cast<std::uint8_t>(ss_perms | ((ss_perms & kPermR) ? kPermX : 0));
      perms = {static_cast<std::uint8_t>(perms[0] & ss_x),
               static_cast<std::uint8_t>(perms[1] & ss_x)};
    }
  }
  stats_.pw_mem_reads += n.reads;
  stats_.ss_mem_reads += n.ss_reads;
  stats_.ss_translations += n.ss_walks;
  stats_.flpwc_hit += n.fs_pwc_hits;
  stats_.slpwc_lookup += n.ss_walks;
  stats_.ad_writes += n.writes;
  const Cycle walk_cycles =
      timing_.pwc_lookup + n.reads * table_read_ + n.writes * timing_.memory_write;
  const Cycle done = finish(req, ctx, ctx.base + timing_.iotlb_lookup, walk_cycles, r);

  if (reason != FaultReason::kNone) {
    if (tr && not_present) {
      // A translation request gets a successful completion without permissions (§4.2.3).
      r.translation.status = model::TranslationStatus::kOk;
      r.translation.page_size = model::kPageSize;
      return;
    }
    return fault(r, reason, p.fpd);
  }
  const std::uint64_t size = level_page_size(page_level);
  if (overlaps_interrupt_window(page_base, size)) {
    return fault(r, FaultReason::kSmOutputInInterruptRange, p.fpd);
  }
  PasidIotlbEntry e{.page_base = page_base,
                    .offset_mask = size - 1,
                    .ready = done,
                    .perms = perms,
                    .rights = rights,
                    .ss_perms = ss_perms,
                    .kind = kind,
                    .dirty_pending = dirty_pending};
  if (dirty_pending) {
    e.perms[0] &= static_cast<std::uint8_t>(~kPermW);
    e.perms[1] &= static_cast<std::uint8_t>(~kPermW);
  }
  iotlb_.insert(p.did, ctx.pasid, req.address, page_level - 1, e);
  const std::uint8_t have = perms[ctx.user ? 0 : 1];
  model::Translation& t = r.translation;
  t.status = model::TranslationStatus::kOk;
  t.hpa = page_base | (req.address & (size - 1));
  t.page_size = size;
  t.permissions = {
      .read = (have & kPermR) != 0, .write = (have & kPermW) != 0, .execute = (have & kPermX) != 0};
}

void ScalableRemapper::invalidate_context_all() {
  contexts_.invalidate_all();
}

void ScalableRemapper::invalidate_context_device(model::SourceId sid, unsigned function_mask) {
  contexts_.invalidate_device(sid, function_mask);
}

std::size_t ScalableRemapper::invalidate_iotlb_all() {
  fs_pwc_.invalidate_all();
  return iotlb_.invalidate_all();
}

std::size_t ScalableRemapper::invalidate_iotlb_domain(std::uint16_t did) {
  fs_pwc_.invalidate_domain(did);
  return iotlb_.invalidate_domain(did);
}

std::size_t ScalableRemapper::invalidate_iotlb_domain_range(std::uint16_t did, std::uint64_t base,
                                                            std::uint64_t size, bool ih) {
  // A type-2 page-selective request drops every first-stage/nested entry of the DID (facts
  // §6.4); with IH = 0 the first-stage paging-structure caches of the DID go too.
  if (!ih) fs_pwc_.invalidate_domain(did);
  return iotlb_.invalidate_domain_range(did, base, size);
}

Granularity ScalableRemapper::invalidate_pasid_cache(Granularity g, std::uint16_t did,
                                                     std::uint32_t pasid) {
  ++stats_.pasid_cache_inval;
  switch (g) {
    case Granularity::kGlobal:
      pasids_.invalidate_all();
      return g;
    case Granularity::kDomain:
      pasids_.invalidate_domain(did);
      return g;
    case Granularity::kSelective:
      pasids_.invalidate_pasid(did, pasid);
      return g;
    case Granularity::kNone:
      break;
  }
  return Granularity::kNone;
}

Granularity ScalableRemapper::invalidate_pasid_iotlb(Granularity g, std::uint16_t did,
                                                     std::uint32_t pasid, std::uint64_t address,
                                                     unsigned am, bool ih) {
  ++stats_.p_iotlb_inval;
  if (g == Granularity::kSelective && am <= 51) {
    const std::uint64_t size = std::uint64_t{1} << (12 + am);
    const std::uint64_t base = address & ~(size - 1);
    stats_.iotlb_inval_entries += iotlb_.invalidate_pasid_range(did, pasid, base, size);
    if (!ih) fs_pwc_.invalidate_pasid_range(did, pasid, base, size);
    return g;
  }
  // MODEL: AM beyond 51 is performed as the whole PASID.
  stats_.iotlb_inval_entries += iotlb_.invalidate_pasid(did, pasid);
  fs_pwc_.invalidate_pasid(did, pasid);
  return Granularity::kDomain;
}

void ScalableRemapper::invalidate_all() {
  contexts_.invalidate_all();
  pasids_.invalidate_all();
  iotlb_.invalidate_all();
  fs_pwc_.invalidate_all();
}

std::size_t ScalableRemapper::fs_pwc_entries(unsigned level) const {
  if (level < FsPwc::kMinLevel || level > FsPwc::kMaxLevel) return 0;
  return fs_pwc_.size(level);
}

}  // namespace vtdsim::iommu
