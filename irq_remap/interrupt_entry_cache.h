// Interrupt entry cache (VT-d spec §5.1.3 and ch. 6; IEC invalidate descriptor, facts §6.6):
// IRTEs cached by interrupt index, on model::SetAssocCache with a configurable geometry. Only
// present, well-formed entries are cached (CAP.CM = 0 behaviour). Invalidation is global or
// index-selective over a 2^IM aligned block of indices.
// Not modelled: per-unit sharing of one table, tagging by IRTA (software must invalidate
// globally after GCMD.SIRTP).
#pragma once

#include <cstdint>

#include "model/field.h"
#include "model/set_assoc_cache.h"

namespace vtdsim::irq_remap {

class InterruptEntryCache {
 public:
  // Throws std::invalid_argument when geometry.validate() fails (API misuse).
  explicit InterruptEntryCache(const model::CacheGeometry& geometry) : cache_(geometry) {}

  // Counts a lookup; nullptr on a miss.
  const model::Entry128* lookup(std::uint16_t index) { return cache_.lookup(index); }
  void fill(std::uint16_t index, const model::Entry128& irte) { cache_.insert(index, irte); }

  std::size_t invalidate_all() { return cache_.invalidate_all(); }
  // Entries whose index agrees with `index` outside its low `index_mask` bits (IM ≥ 16:
  // everything).
  std::size_t invalidate_index(std::uint16_t index, unsigned index_mask) {
    if (index_mask >= 16) return cache_.invalidate_all();
    const std::uint32_t block = std::uint32_t{1} << index_mask;
    const std::uint32_t base = index & ~(block - 1);
    if (block <= cache_.capacity()) {
      std::size_t n = 0;
      for (std::uint32_t i = 0; i < block; ++i) {
        if (cache_.erase(static_cast<std::uint16_t>(base + i))) ++n;
      }
      return n;
    }
    return cache_.invalidate_if([base, block](std::uint16_t key, const model::Entry128&) {
      return key >= base && key < base + block;
    });
  }

  const model::Entry128* probe(std::uint16_t index) const { return cache_.probe(index); }
  std::size_t size() const { return cache_.size(); }
  const model::CacheStats& stats() const { return cache_.stats(); }
  void reset_stats() { cache_.reset_stats(); }

 private:
  model::SetAssocCache<std::uint16_t, model::Entry128> cache_;
};

}  // namespace vtdsim::irq_remap
