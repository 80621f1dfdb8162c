// Scalable-mode translation caches tagged by DID and PASID (spec 4.x §6.2.3–6.2.4, §6.5.2.4;
// facts §6.4, §6.8): the PASID-tagged IOTLB (one array per page size, entries marked
// second-stage-only, first-stage or nested so that invalidations can select them) and the
// first-stage paging-structure caches (one per level 2..5).
// MODEL: second-stage-only entries are tagged with the PASID too (never shared between PASIDs of
// one domain): less sharing than hardware may do, never a wrong translation. Pass-through
// PASIDs put nothing in the IOTLB (the PASID cache answers them).
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "iommu/unit_config.h"
#include "model/set_assoc_cache.h"
#include "model/types.h"

namespace vtdsim::iommu {

// Key of a DID + PASID tagged entry: (address >> shift) << 16 | DID, and the PASID.
struct PasidKey {
  std::uint64_t page_did = 0;
  std::uint32_t pasid = 0;
  friend constexpr bool operator==(const PasidKey&, const PasidKey&) = default;
  std::uint64_t index_hash() const {
    return (page_did >> 16) ^ ((page_did & 0xFFFF) << 5) ^ (std::uint64_t{pasid} * 0x9E3779B1u);
  }
  std::uint16_t did() const { return static_cast<std::uint16_t>(page_did & 0xFFFF); }
  std::uint64_t page() const { return page_did >> 16; }
};

constexpr PasidKey pasid_key(std::uint16_t did, std::uint32_t pasid, std::uint64_t address,
                             unsigned shift) {
  return PasidKey{((address >> shift) << 16) | did, pasid};
}

// What produced a scalable IOTLB entry (PGTT of the PASID entry).
enum class SmEntryKind : std::uint8_t { kSecondStage, kFirstStage, kNested };

// Execute permission bit next to kPermR / kPermW (second_stage_walk.h) in scalable entries.
inline constexpr std::uint8_t kPermX = 4;

struct PasidIotlbEntry {
  std::uint64_t page_base = 0;
  std::uint64_t offset_mask = 0;
  model::Cycle ready = 0;  // completion of the walk that filled it
  // kPermR | kPermW | kPermX granted to a user ([0]) and a supervisor ([1]) request: a
  // first-stage entry serves both privileges (the rights below are the cached U/S, R/W, XD).
  std::array<std::uint8_t, 2> perms{};
  std::uint8_t rights = 0;    // first-stage rights (kFs* of first_stage_walk.h)
  std::uint8_t ss_perms = 0;  // second-stage R/W (kPermRW for first-stage-only)
  SmEntryKind kind = SmEntryKind::kSecondStage;
  // Filled by a request that set no Dirty bit where A/D are tracked: W is left out of perms
  // and a write re-walks to set D (as a CPU TLB entry with D = 0 does).
  bool dirty_pending = false;
};

class PasidIotlb {
 public:
  static constexpr unsigned kSizes = 3;
  explicit PasidIotlb(const UnitConfig& config);

  static constexpr unsigned shift_of(unsigned c) { return 12 + 9 * c; }

  // Finds (did, pasid, iova) in any page-size class. Simulation shortcut as in Iotlb: a repeat
  // of the previous hit's 4 KiB page returns the same entry without searching.
  PasidIotlbEntry* lookup(std::uint16_t did, std::uint32_t pasid, std::uint64_t iova,
                          unsigned& size_class) {
    const PasidKey k = pasid_key(did, pasid, iova, 12);
    if (memo_ != nullptr && k == memo_key_) [[likely]] {
      size_class = memo_class_;
      return memo_;
    }
    return lookup_arrays(k, did, pasid, iova, size_class);
  }
  void insert(std::uint16_t did, std::uint32_t pasid, std::uint64_t iova, unsigned size_class,
              const PasidIotlbEntry& e);

  std::size_t invalidate_all();
  // Every entry of did (type 2 domain-selective).
  std::size_t invalidate_domain(std::uint16_t did);
  // Type 2 page-selective in scalable mode: second-stage-only entries of did in the range and
  // every first-stage/nested entry of did (facts §6.4).
  std::size_t invalidate_domain_range(std::uint16_t did, std::uint64_t base, std::uint64_t size);
  // Type 6: first-stage/nested entries of (did, pasid), all or those overlapping the range.
  std::size_t invalidate_pasid(std::uint16_t did, std::uint32_t pasid);
  std::size_t invalidate_pasid_range(std::uint16_t did, std::uint32_t pasid, std::uint64_t base,
                                     std::uint64_t size);
  std::size_t size() const;

 private:
  struct Index {
    std::uint64_t operator()(const PasidKey& k) const { return k.index_hash(); }
  };
  using Array = model::SetAssocCache<PasidKey, PasidIotlbEntry, Index>;
  PasidIotlbEntry* lookup_arrays(const PasidKey& k4, std::uint16_t did, std::uint32_t pasid,
                                 std::uint64_t iova, unsigned& size_class);
  template <class Pred>
  std::size_t invalidate(Pred&& pred);

  // Slot hints for the 4 KiB array, as in Iotlb (checked against the slot: never stale).
  static constexpr std::size_t kHints = 256;
  std::array<std::uint64_t, kHints> hints_{};
  std::array<std::unique_ptr<Array>, kSizes> arrays_;
  unsigned filled_ = 0;
  PasidIotlbEntry* memo_ = nullptr;
  PasidKey memo_key_{};
  unsigned memo_class_ = 0;
};

// First-stage paging-structure cache entry: the next table's host address and the rights
// accumulated down to and including the cached entry.
struct FsPwcEntry {
  std::uint64_t next_table = 0;
  std::uint8_t rights = 0;
};

class FsPwc {
 public:
  static constexpr unsigned kMinLevel = 2;
  static constexpr unsigned kMaxLevel = 5;
  // MODEL: built with the same geometries as the second-stage caches (UnitConfig::pwc).
  explicit FsPwc(const UnitConfig& config);

  bool built(unsigned level) const { return caches_[level - kMinLevel] != nullptr; }
  FsPwcEntry* lookup(unsigned level, std::uint16_t did, std::uint32_t pasid, std::uint64_t va);
  void insert(unsigned level, std::uint16_t did, std::uint32_t pasid, std::uint64_t va,
              const FsPwcEntry& e);
  std::size_t invalidate_all();
  std::size_t invalidate_domain(std::uint16_t did);
  std::size_t invalidate_pasid(std::uint16_t did, std::uint32_t pasid);
  std::size_t invalidate_pasid_range(std::uint16_t did, std::uint32_t pasid, std::uint64_t base,
                                     std::uint64_t size);
  std::size_t size(unsigned level) const;

 private:
  struct Index {
    std::uint64_t operator()(const PasidKey& k) const { return k.index_hash(); }
  };
  using Cache = model::SetAssocCache<PasidKey, FsPwcEntry, Index>;
  std::array<std::unique_ptr<Cache>, kMaxLevel - kMinLevel + 1> caches_;
  unsigned filled_ = 0;
};

}  // namespace vtdsim::iommu
