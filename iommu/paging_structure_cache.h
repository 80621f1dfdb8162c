// Second-stage paging-structure caches (spec 4.x §6.2.4, §6.5.1.2): one set-associative cache
// per level 2..5 holding non-leaf entries: DID + the address bits above the level → next-table
// pointer and the permissions accumulated down to the entry. A hit lets a walk skip the levels
// above. A level whose geometry has ways = 0 is not built.
// First-stage paging-structure caches (DID + PASID tagged) are FsPwc in pasid_iotlb.h; in
// scalable mode this cache serves second-stage walks (also those inside nested walks).
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "iommu/legacy_formats.h"
#include "iommu/unit_config.h"
#include "model/set_assoc_cache.h"

namespace vtdsim::iommu {

struct PwcEntry {
  std::uint64_t next_table = 0;
  std::uint8_t perms = 0;
};

class PagingStructureCache {
 public:
  static constexpr unsigned kMinLevel = 2;
  static constexpr unsigned kMaxLevel = 5;

  explicit PagingStructureCache(const UnitConfig& config);

  bool built(unsigned level) const { return caches_[level - kMinLevel] != nullptr; }
  // MODEL: entries are tagged by DID and address only, not by the table depth: a domain's
  // contexts are expected to share one page-table hierarchy (as the spec requires of software).
  PwcEntry* lookup(unsigned level, std::uint16_t did, std::uint64_t iova) {
    if ((filled_ & (1u << level)) == 0) return nullptr;  // a miss in an empty cache: no state
    return caches_[level - kMinLevel]->lookup(key(level, did, iova));
  }
  void insert(unsigned level, std::uint16_t did, std::uint64_t iova, const PwcEntry& e) {
    if (!built(level)) return;
    filled_ |= 1u << level;
    caches_[level - kMinLevel]->insert(key(level, did, iova), e);
  }

  std::size_t invalidate_all();
  std::size_t invalidate_domain(std::uint16_t did);
  // Entries of did whose covered address range overlaps [base, base + size).
  std::size_t invalidate_range(std::uint16_t did, std::uint64_t base, std::uint64_t size);

  std::size_t size(unsigned level) const;
  const model::CacheStats* cache_stats(unsigned level) const;

 private:
  static std::uint64_t key(unsigned level, std::uint16_t did, std::uint64_t iova) {
    return ((iova >> level_shift(level)) << 16) | did;
  }
  struct Index {
    std::uint64_t operator()(std::uint64_t k) const { return (k >> 16) ^ (k & 0xFFFF); }
  };
  using Cache = model::SetAssocCache<std::uint64_t, PwcEntry, Index>;
  std::array<std::unique_ptr<Cache>, kMaxLevel - kMinLevel + 1> caches_;
  unsigned filled_ = 0;  // bit L: the level-L cache may hold entries
};

}  // namespace vtdsim::iommu
