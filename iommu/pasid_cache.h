// PASID cache (spec 4.x §6.2.2, §6.5.2.3; facts §6.9): decoded PASID table entries, with
// domain-selective (DID), PASID-selective (DID + PASID) and global invalidation.
// MODEL: entries are keyed by source-id and PASID (the lookup key the unit has before reading
// the PASID entry) and carry the entry's DID for invalidation; a PASID shared by two devices
// is cached once per device.
#pragma once

#include <cstdint>

#include "iommu/pasid_lookup.h"
#include "model/set_assoc_cache.h"
#include "model/types.h"

namespace vtdsim::iommu {

struct PasidCacheEntry {
  PasidInfo info;
  model::Cycle ready = 0;  // completion of the fetch that filled it
};

class PasidCache {
 public:
  explicit PasidCache(const model::CacheGeometry& geometry) : cache_(geometry) {}

  static constexpr std::uint64_t key(model::SourceId sid, std::uint32_t pasid) {
    return (std::uint64_t{sid.raw} << 20) | (pasid & 0xFFFFFu);
  }
  // Simulation shortcut as in ContextCache: a repeat of the previous hit returns it directly.
  PasidCacheEntry* lookup(model::SourceId sid, std::uint32_t pasid) {
    const std::uint64_t k = key(sid, pasid);
    if (memo_ != nullptr && k == memo_key_) [[likely]] {
      ++memo_hits_;
      return memo_;
    }
    memo_ = cache_.lookup(k);
    memo_key_ = k;
    return memo_;
  }
  void insert(model::SourceId sid, std::uint32_t pasid, const PasidCacheEntry& e) {
    memo_ = nullptr;
    cache_.insert(key(sid, pasid), e);
  }
  std::size_t invalidate_all() {
    memo_ = nullptr;
    return cache_.invalidate_all();
  }
  std::size_t invalidate_domain(std::uint16_t did) {
    memo_ = nullptr;
    return cache_.invalidate_if(
        [did](std::uint64_t, const PasidCacheEntry& e) { return e.info.did == did; });
  }
  std::size_t invalidate_pasid(std::uint16_t did, std::uint32_t pasid) {
    memo_ = nullptr;
    return cache_.invalidate_if([=](std::uint64_t k, const PasidCacheEntry& e) {
      return e.info.did == did && (k & 0xFFFFFu) == pasid;
    });
  }
  // Entries of one device (a device-selective context-cache invalidation drops them too).
  std::size_t invalidate_device(model::SourceId sid) {
    memo_ = nullptr;
    return cache_.invalidate_if(
        [=](std::uint64_t k, const PasidCacheEntry&) { return (k >> 20) == sid.raw; });
  }
  std::size_t size() const { return cache_.size(); }
  model::CacheStats cache_stats() const {
    model::CacheStats s = cache_.stats();
    s.lookups += memo_hits_;
    s.hits += memo_hits_;
    return s;
  }

 private:
  model::SetAssocCache<std::uint64_t, PasidCacheEntry> cache_;
  PasidCacheEntry* memo_ = nullptr;
  std::uint64_t memo_key_ = 0;
  std::uint64_t memo_hits_ = 0;
};

}  // namespace vtdsim::iommu
