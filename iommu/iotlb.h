// IOTLB of one remapping unit (spec 4.x §6.2.3, §6.5.1.2): second-stage translations tagged by
// domain id, page number and page size, in one set-associative array per page size (4 KiB,
// 2 MiB, 1 GiB) probed smallest first, so a superpage entry is found for any address inside it.
// Scalable-mode (PASID-tagged, first-stage/nested) entries live in pasid_iotlb.h.
// Not modelled: device-TLB (ATS) entries inside the unit.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "iommu/unit_config.h"
#include "model/set_assoc_cache.h"
#include "model/types.h"

namespace vtdsim::iommu {

struct IotlbEntry {
  std::uint64_t page_base = 0;     // output page address
  std::uint64_t offset_mask = 0;   // page size - 1
  model::Cycle ready = 0;          // completion of the walk that filled it (in-flight sharing)
  std::uint8_t perms = 0;          // kPermR | kPermW; 0 is a caching-mode not-present entry
  model::Permissions permissions;  // perms as the translation reports them
};

class Iotlb {
 public:
  static constexpr unsigned kSizes = 3;  // page-size classes: 4 KiB, 2 MiB, 1 GiB

  explicit Iotlb(const UnitConfig& config);

  static constexpr unsigned shift_of(unsigned size_class) { return 12 + 9 * size_class; }

  // Finds the entry of (did, iova) in any page-size class; size_class receives its class.
  // MODEL: the page-size arrays are probed in parallel as one IOTLB lookup (one latency).
  // Simulation shortcut, not a model feature: a repeated lookup that the previous IOTLB
  // operation already answered with a hit returns that entry without searching (it is the most
  // recently used entry, so replacement state evolves exactly as without the shortcut; see
  // ContextCache::lookup). Any insert or invalidation drops the memo.
  IotlbEntry* lookup(std::uint16_t did, std::uint64_t iova, unsigned& size_class) {
    // The memo is keyed by the 4 KiB page: another page inside a cached superpage could have a
    // (stale) 4 KiB entry of its own that a full lookup would find first.
    if (memo_ != nullptr && key(did, iova, 0) == memo_page_) [[likely]] {
      ++memo_hits_;
      size_class = memo_class_;
      return memo_;
    }
    // 4 KiB entries first, inline; the superpage arrays out of line.
    memo_ = nullptr;
    if ((filled_ & 1u) != 0) {
      const std::uint64_t k = key(did, iova, 0);
      std::uint64_t& hint = hints_[((k >> 16) ^ k) & (kHints - 1)];
      if (IotlbEntry* e = arrays_[0]->lookup_hinted(k, hint)) [[likely]] {
        size_class = 0;
        memo_ = e;
        memo_page_ = k;
        memo_class_ = 0;
        return e;
      }
    }
    return lookup_superpages(did, iova, size_class);
  }
  // Finds without counting or touching replacement state.
  const IotlbEntry* probe(std::uint16_t did, std::uint64_t iova, unsigned& size_class) const;
  // Inserts the translation of page class size_class (ignored when that class is not built).
  void insert(std::uint16_t did, std::uint64_t iova, unsigned size_class, const IotlbEntry& e);

  std::size_t invalidate_all();
  std::size_t invalidate_domain(std::uint16_t did);
  // Entries of did whose page overlaps [base, base + size).
  std::size_t invalidate_range(std::uint16_t did, std::uint64_t base, std::uint64_t size);

  std::size_t size() const;
  bool built(unsigned size_class) const { return arrays_[size_class] != nullptr; }
  // Counters of the arrays summed (insertions, evictions, invalidations). Lookup counts are
  // per array probe and exclude shortcut hits (memo and slot hints): DmaRemapStats holds the
  // IOTLB lookup counts.
  model::CacheStats cache_stats() const;

 private:
  // Key: page number of the class in bits 63:16, DID in 15:0 (page numbers fit: ≤ 45 bits).
  static std::uint64_t key(std::uint16_t did, std::uint64_t iova, unsigned c) {
    return ((iova >> shift_of(c)) << 16) | did;
  }
  struct Index {
    std::uint64_t operator()(std::uint64_t k) const { return (k >> 16) ^ (k & 0xFFFF); }
  };
  using Array = model::SetAssocCache<std::uint64_t, IotlbEntry, Index>;
  IotlbEntry* lookup_superpages(std::uint16_t did, std::uint64_t iova, unsigned& size_class);
  void refresh_filled();

  // Simulation shortcut, not a model feature: where each recently found 4 KiB key sat in its
  // array (direct-mapped by page ^ DID), so a hit checks one slot instead of searching the
  // set. A hint is checked against the slot's key and valid bit, so a stale hint only costs
  // the search; counting and replacement are those of a plain lookup.
  static constexpr std::size_t kHints = 256;
  std::array<std::uint64_t, kHints> hints_{};
  std::array<std::unique_ptr<Array>, kSizes> arrays_;
  unsigned filled_ = 0;  // bit c: array c may hold entries (skip empty arrays on lookup)
  IotlbEntry* memo_ = nullptr;
  std::uint64_t memo_page_ = 0;  // key(did, iova, 0) of the memoised lookup
  unsigned memo_class_ = 0;
  std::uint64_t memo_hits_ = 0;
};

}  // namespace vtdsim::iommu
