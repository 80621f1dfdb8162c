// Context cache (spec 4.x §6.2.1, §6.5.1.1; facts §2.1): decoded legacy context entries keyed
// by source-id, with global, domain-selective and device-selective (function mask)
// invalidation. With CAP.CM=1 a not-present context is cached as a negative entry tagged DID 0.
// Scalable mode uses a second instance for scalable context entries (scalable_remapper.h);
// PASID entries are cached by PasidCache (pasid_cache.h).
#pragma once

#include <cstdint>

#include "iommu/context_lookup.h"
#include "model/set_assoc_cache.h"
#include "model/types.h"

namespace vtdsim::iommu {

struct ContextCacheEntry {
  ContextInfo info;
  model::Cycle ready = 0;  // completion of the fetch that filled it (in-flight sharing)
};

class ContextCache {
 public:
  explicit ContextCache(const model::CacheGeometry& geometry) : cache_(geometry) {}

  // Simulation shortcut, not a model feature: a repeated lookup of the key that the previous
  // cache operation looked up and hit returns the same entry without searching again. That
  // previous lookup left the entry most recently used, so skipping its second replacement
  // update changes no later victim choice (LRU, tree-PLRU, FIFO, random alike): the cache
  // behaves exactly as without the shortcut. Any other operation drops the memo.
  ContextCacheEntry* lookup(model::SourceId sid) {
    if (memo_ != nullptr && sid.raw == memo_sid_) [[likely]] {
      ++memo_hits_;
      return memo_;
    }
    if (empty_) return nullptr;  // a miss in an empty cache changes no state
    memo_ = cache_.lookup(sid.raw);
    memo_sid_ = sid.raw;
    return memo_;
  }
  const ContextCacheEntry* probe(model::SourceId sid) const { return cache_.probe(sid.raw); }
  void insert(model::SourceId sid, const ContextCacheEntry& e) {
    memo_ = nullptr;
    empty_ = false;
    cache_.insert(sid.raw, e);
  }

  std::size_t invalidate_all();
  std::size_t invalidate_domain(std::uint16_t did);
  // Entries whose source-id matches sid with the low SID bits ignored per CCMD.FM
  // (0: none, 1: bit 2, 2: bits 2:1, 3: bits 2:0).
  std::size_t invalidate_device(model::SourceId sid, unsigned function_mask);

  std::size_t size() const { return cache_.size(); }
  // The array's counters, with the shortcut's hits added to lookups and hits.
  model::CacheStats cache_stats() const {
    model::CacheStats s = cache_.stats();
    s.lookups += memo_hits_;
    s.hits += memo_hits_;
    return s;
  }

 private:
  model::SetAssocCache<std::uint16_t, ContextCacheEntry> cache_;
  ContextCacheEntry* memo_ = nullptr;
  std::uint16_t memo_sid_ = 0;
  std::uint64_t memo_hits_ = 0;
  bool empty_ = true;  // known to hold no entry (lets flushes and lookups skip the arrays)
};

}  // namespace vtdsim::iommu
