#include "iommu/paging_structure_cache.h"

namespace vtdsim::iommu {

PagingStructureCache::PagingStructureCache(const UnitConfig& config) {
  for (unsigned i = 0; i < caches_.size(); ++i) {
    if (config.pwc[i].ways != 0) caches_[i] = std::make_unique<Cache>(config.pwc[i]);
  }
}

std::size_t PagingStructureCache::invalidate_all() {
  std::size_t n = 0;
  for (unsigned i = 0; i < caches_.size(); ++i) {
    if ((filled_ & (1u << (i + kMinLevel))) == 0) continue;
    n += caches_[i]->invalidate_if([](std::uint64_t, const PwcEntry&) { return true; });
  }
  filled_ = 0;
  return n;
}

std::size_t PagingStructureCache::invalidate_domain(std::uint16_t did) {
  std::size_t n = 0;
  for (auto& c : caches_) {
    if (c == nullptr) continue;
    n += c->invalidate_if([did](std::uint64_t k, const PwcEntry&) { return (k & 0xFFFF) == did; });
  }
  return n;
}

std::size_t PagingStructureCache::invalidate_range(std::uint16_t did, std::uint64_t base,
                                                   std::uint64_t size) {
  std::size_t n = 0;
  const std::uint64_t last = base + (size - 1);
  for (unsigned i = 0; i < caches_.size(); ++i) {
    if (caches_[i] == nullptr) continue;
    const unsigned shift = level_shift(i + kMinLevel);
    n += caches_[i]->invalidate_if([=](std::uint64_t k, const PwcEntry&) {
      if ((k & 0xFFFF) != did) return false;
      const std::uint64_t first = (k >> 16) << shift;
      const std::uint64_t covered_last = first + ((std::uint64_t{1} << shift) - 1);
      return first <= last && covered_last >= base;
    });
  }
  return n;
}

std::size_t PagingStructureCache::size(unsigned level) const {
  const auto& c = caches_[level - kMinLevel];
  return c == nullptr ? 0 : c->size();
}

const model::CacheStats* PagingStructureCache::cache_stats(unsigned level) const {
  const auto& c = caches_[level - kMinLevel];
  return c == nullptr ? nullptr : &c->stats();
}

}  // namespace vtdsim::iommu
