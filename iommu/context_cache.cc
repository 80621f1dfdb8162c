#include "iommu/context_cache.h"

namespace vtdsim::iommu {

namespace {
constexpr auto kAll = [](std::uint16_t, const ContextCacheEntry&) { return true; };
}  // namespace

// A sparse flush by predicate visits only valid entries; skipped entirely when empty.
std::size_t ContextCache::invalidate_all() {
  memo_ = nullptr;
  if (empty_) return 0;
  empty_ = true;
  return cache_.invalidate_if(kAll);
}

std::size_t ContextCache::invalidate_domain(std::uint16_t did) {
  memo_ = nullptr;
  return cache_.invalidate_if(
      [did](std::uint16_t, const ContextCacheEntry& e) { return e.info.did == did; });
}

std::size_t ContextCache::invalidate_device(model::SourceId sid, unsigned function_mask) {
  memo_ = nullptr;
  // FM = n ignores the low n bits of the function number (§6.5.1.1; facts §2.1).
  const unsigned fm = function_mask & 3u;
  const auto ignore = static_cast<std::uint16_t>(fm == 0 ? 0 : (0b111u >> (3 - fm)) << (3 - fm));
  const auto keep = static_cast<std::uint16_t>(~ignore);
  const auto want = static_cast<std::uint16_t>(sid.raw & keep);
  return cache_.invalidate_if([=](std::uint16_t key, const ContextCacheEntry&) {
    return static_cast<std::uint16_t>(key & keep) == want;
  });
}

}  // namespace vtdsim::iommu
