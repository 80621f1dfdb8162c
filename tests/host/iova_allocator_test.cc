// IovaAllocator: top-down size-aligned placement, Linux rounding, per-CPU magazines, depot,
// spill to the tree, retry after flushing the caches, reservations, API misuse.
#include "host/iova_allocator.h"

#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace vtdsim::host {
namespace {

using Extents = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
constexpr std::uint64_t kLimit32 = IovaAllocator::limit_pfn_for_bits(32);  // 0xFFFFF

IovaConfig two_cpus() {
  IovaConfig c;
  c.cpus = 2;
  return c;
}

TEST(IovaAllocator, LimitForBits) {
  EXPECT_EQ(IovaAllocator::limit_pfn_for_bits(32), 0xFFFFFu);
  EXPECT_EQ(IovaAllocator::limit_pfn_for_bits(48), 0xF'FFFF'FFFFu);
  EXPECT_EQ(IovaAllocator::limit_pfn_for_bits(64), 0xF'FFFF'FFFF'FFFFu);
}

TEST(IovaAllocator, RoundsBelowLargestCachedClassOnly) {
  IovaAllocator a(IovaConfig{});
  EXPECT_EQ(a.rounded_pages(1), 1u);
  EXPECT_EQ(a.rounded_pages(3), 4u);
  EXPECT_EQ(a.rounded_pages(17), 32u);
  EXPECT_EQ(a.rounded_pages(31), 32u);
  EXPECT_EQ(a.rounded_pages(32), 32u);
  EXPECT_EQ(a.rounded_pages(33), 33u);  // not rounded, but still aligned to 64
  EXPECT_EQ(a.rounded_pages(100), 100u);
}

TEST(IovaAllocator, AllocatesTopDownBelowLimitSizeAligned) {
  IovaAllocator a(IovaConfig{});
  EXPECT_EQ(a.alloc(0, 1, kLimit32).value(), 0xFFFFFu);
  EXPECT_EQ(a.alloc(0, 1, kLimit32).value(), 0xFFFFEu);
  // 3 pages → 4, aligned to 4 below 0xFFFFD: [0xFFFF8, 0xFFFFB], hole [0xFFFFC, 0xFFFFD].
  EXPECT_EQ(a.alloc(0, 3, kLimit32).value(), 0xFFFF8u);
  // 2 pages fit the hole exactly (aligned to 2).
  EXPECT_EQ(a.alloc(0, 2, kLimit32).value(), 0xFFFFCu);
  EXPECT_EQ(a.tree_stats().tree_searches, 4u);
  EXPECT_EQ(a.tree_stats().tree_allocs, 4u);
  EXPECT_EQ(a.live_ranges(), 4u);
  const Extents expected{{1, 0xFFFF7}, {0x100000, 0xF'FFFF'FFFF}};
  EXPECT_EQ(a.free_extents(), expected);
}

TEST(IovaAllocator, LargeRangeKeepsSizeButAlignsToPowerOfTwo) {
  IovaAllocator a(IovaConfig{});
  // 33 pages aligned to 64: (0x100000 - 33) & ~63 = 0xFFFC0.
  EXPECT_EQ(a.alloc(0, 33, kLimit32).value(), 0xFFFC0u);
  const Extents expected{{1, 0xFFFBF}, {0xFFFE1, 0xF'FFFF'FFFF}};
  EXPECT_EQ(a.free_extents(), expected);
  // Not a cached class: the free goes straight back to the tree and merges.
  ASSERT_TRUE(a.free(0, 0xFFFC0, 33));
  EXPECT_EQ(a.free_extents(), (Extents{{1, 0xF'FFFF'FFFF}}));
  EXPECT_EQ(a.cpu_stats(0).cache_inserts, 0u);
  EXPECT_EQ(a.tree_stats().tree_frees, 1u);
}

TEST(IovaAllocator, FullWidthLimitAllocatesAtTopOfDomain) {
  IovaConfig c;
  c.address_width = 39;
  IovaAllocator a(c);
  EXPECT_EQ(a.end_pfn(), 0x800'0000u);
  // A limit beyond the domain is clipped to it.
  EXPECT_EQ(a.alloc(0, 16, IovaAllocator::limit_pfn_for_bits(64)).value(), 0x7FF'FFF0u);
}

TEST(IovaAllocator, FreedRangeIsReusedFromTheSameCpuCacheWithoutTreeSearch) {
  IovaAllocator a(two_cpus());
  const std::uint64_t p = a.alloc(0, 4, kLimit32).value();
  EXPECT_EQ(p, 0xFFFFCu);
  ASSERT_TRUE(a.free(0, p, 4));
  EXPECT_TRUE(a.is_cached(p));
  EXPECT_FALSE(a.is_allocated(p));
  EXPECT_EQ(a.cached_ranges(), 1u);
  // Same CPU, same size class: cache hit, no search.
  EXPECT_EQ(a.alloc(0, 3, kLimit32).value(), p);
  EXPECT_EQ(a.cpu_stats(0).cache_hits, 1u);
  EXPECT_EQ(a.tree_stats().tree_searches, 1u);
  EXPECT_TRUE(a.is_allocated(p));
  ASSERT_TRUE(a.free(0, p, 4));
  // Another CPU does not see CPU 0's magazines: it searches the tree.
  EXPECT_EQ(a.alloc(1, 4, kLimit32).value(), 0xFFFF8u);
  EXPECT_EQ(a.cpu_stats(1).cache_hits, 0u);
  EXPECT_EQ(a.tree_stats().tree_searches, 2u);
  // A different size class on CPU 0 misses too.
  EXPECT_EQ(a.alloc(0, 2, kLimit32).value(), 0xFFFF6u);
  EXPECT_EQ(a.cpu_stats(0).cache_hits, 1u);
  EXPECT_EQ(a.total_cpu_stats().allocs, 4u);
}

TEST(IovaAllocator, CachedRangeAboveTheLimitIsNotHandedOut) {
  IovaAllocator a(IovaConfig{});
  const std::uint64_t p = a.alloc(0, 1, kLimit32).value();  // 0xFFFFF
  ASSERT_TRUE(a.free(0, p, 1));
  // Limit one page lower: the cached pfn does not fit; the tree serves it.
  EXPECT_EQ(a.alloc(0, 1, 0xFFFFE).value(), 0xFFFFEu);
  EXPECT_EQ(a.cpu_stats(0).cache_hits, 0u);
  EXPECT_TRUE(a.is_cached(p));
  // The right limit gets the cached one.
  EXPECT_EQ(a.alloc(0, 1, kLimit32).value(), p);
  EXPECT_EQ(a.cpu_stats(0).cache_hits, 1u);
}

TEST(IovaAllocator, MagazineSwapDepotPushAndSpill) {
  IovaConfig c;
  c.cpus = 2;
  c.magazine_size = 2;
  c.depot_size = 1;
  IovaAllocator a(c);
  std::vector<std::uint64_t> p;
  for (std::size_t i = 0; i < 7; ++i) p.push_back(a.alloc(0, 1, kLimit32).value());
  EXPECT_EQ(p[0], 0xFFFFFu);
  EXPECT_EQ(p[6], 0xFFFF9u);
  // 2 fill loaded, 2 fill prev (after a swap), the 5th pushes the full loaded to the depot.
  for (std::size_t i = 0; i < 5; ++i) ASSERT_TRUE(a.free(0, p[i], 1));
  EXPECT_EQ(a.cpu_stats(0).depot_puts, 1u);
  EXPECT_EQ(a.cpu_stats(0).magazine_spills, 0u);
  EXPECT_EQ(a.cached_ranges(), 5u);
  // 6th fills loaded again; 7th finds loaded and prev full and the depot full: the loaded
  // magazine (p[4], p[5]) goes back to the tree.
  ASSERT_TRUE(a.free(0, p[5], 1));
  ASSERT_TRUE(a.free(0, p[6], 1));
  EXPECT_EQ(a.cpu_stats(0).magazine_spills, 1u);
  EXPECT_EQ(a.cached_ranges(), 5u);
  EXPECT_FALSE(a.is_cached(p[4]));
  EXPECT_FALSE(a.is_cached(p[5]));
  EXPECT_TRUE(a.is_cached(p[6]));
  EXPECT_EQ(a.tree_stats().tree_frees, 2u);
  // CPU 1 has empty magazines: its allocation takes the full magazine from the depot, which
  // holds p[2], p[3]; the newest (p[3]) comes first.
  EXPECT_EQ(a.alloc(1, 1, kLimit32).value(), p[3]);
  EXPECT_EQ(a.cpu_stats(1).depot_gets, 1u);
  EXPECT_EQ(a.cpu_stats(1).cache_hits, 1u);
  EXPECT_EQ(a.alloc(1, 1, kLimit32).value(), p[2]);
  EXPECT_TRUE(a.is_cached(p[0]));  // still in CPU 0's prev magazine
  // Now CPU 1 is empty and the depot too: tree, top-down → the spilled p[4]/p[5] region.
  EXPECT_EQ(a.alloc(1, 1, kLimit32).value(), p[4]);
}

TEST(IovaAllocator, ExhaustionRetriesAfterFlushingCaches) {
  IovaConfig c;
  c.cpus = 2;
  c.address_width = 16;  // pfns 1..15
  IovaAllocator a(c);
  EXPECT_EQ(a.alloc(0, 8, 0xFFFF).value(), 8u);
  EXPECT_EQ(a.alloc(0, 4, 0xFFFF).value(), 4u);
  EXPECT_EQ(a.alloc(0, 2, 0xFFFF).value(), 2u);
  EXPECT_EQ(a.alloc(0, 1, 0xFFFF).value(), 1u);
  ASSERT_TRUE(a.free(0, 1, 1));  // cached on CPU 0
  // Two pages do not fit even after the flush returns pfn 1 to the tree.
  auto r = a.alloc(1, 2, 0xFFFF);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kExhausted);
  EXPECT_EQ(a.tree_stats().alloc_failures, 1u);
  EXPECT_EQ(a.tree_stats().rcache_flushes, 1u);
  EXPECT_EQ(a.cached_ranges(), 0u);
  EXPECT_EQ(a.free_extents(), (Extents{{1, 1}}));
  // Without flush_rcache the cached range stays cached and the allocation fails.
  ASSERT_TRUE(a.free(0, 2, 2));
  EXPECT_EQ(a.alloc(1, 1, 0xFFFF).value(), 1u);  // tree has pfn 1
  EXPECT_FALSE(a.alloc(1, 1, 0xFFFF, /*flush_rcache=*/false));
  EXPECT_TRUE(a.is_cached(2));
  // With it, pfn 2's range returns to the tree and the top page (3) is taken.
  EXPECT_EQ(a.alloc(1, 1, 0xFFFF).value(), 3u);
  EXPECT_EQ(a.tree_stats().rcache_flushes, 2u);
}

TEST(IovaAllocator, ReserveCarvesFreeSpaceIdempotently) {
  IovaAllocator a(IovaConfig{});
  ASSERT_TRUE(a.reserve(0xFEE00, 0xFEEFF));  // the interrupt window
  EXPECT_EQ(a.tree_stats().reserved_pages, 256u);
  EXPECT_EQ(a.alloc(0, 1, 0xFEEFF).value(), 0xFEDFFu);
  ASSERT_TRUE(a.reserve(0xFEE00, 0xFEEFF));
  EXPECT_EQ(a.tree_stats().reserved_pages, 256u);
  // A reservation overlapping an allocation takes only the free part.
  ASSERT_TRUE(a.reserve(0xFEDF0, 0xFEDFF));
  EXPECT_EQ(a.tree_stats().reserved_pages, 256u + 15u);
  const Extents expected{{1, 0xFEDEF}, {0xFEF00, 0xF'FFFF'FFFF}};
  EXPECT_EQ(a.free_extents(), expected);
  EXPECT_FALSE(a.free(0, 0xFEE00, 1));  // reserved, not allocated
  EXPECT_FALSE(a.reserve(5, 4));
}

TEST(IovaAllocator, FreeRejectsMisuse) {
  IovaAllocator a(IovaConfig{});
  const std::uint64_t p = a.alloc(0, 2, kLimit32).value();
  auto wrong_size = a.free(0, p, 4);
  ASSERT_FALSE(wrong_size);
  EXPECT_EQ(wrong_size.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(a.free(0, p + 1, 1));  // not the start
  EXPECT_FALSE(a.free(3, p, 2));      // no such CPU
  ASSERT_TRUE(a.free(0, p, 2));
  auto twice = a.free(0, p, 2);
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("already freed"), std::string::npos);
  EXPECT_FALSE(a.alloc(0, 0, kLimit32));
  EXPECT_FALSE(a.alloc(1, 1, kLimit32));
  EXPECT_EQ(a.cpu_stats(0).frees, 1u);
}

TEST(IovaAllocator, UncachedConfigurationReturnsEveryFreeToTheTree) {
  IovaConfig c;
  c.cached_orders = 0;
  IovaAllocator a(c);
  EXPECT_EQ(a.rounded_pages(3), 3u);
  const std::uint64_t x = a.alloc(0, 3, kLimit32).value();  // aligned to 4: 0xFFFFC
  const std::uint64_t y = a.alloc(0, 1, kLimit32).value();  // 0xFFFFF (above x's end)
  const std::uint64_t z = a.alloc(0, 5, kLimit32).value();  // aligned to 8 below 0xFFFFC
  EXPECT_EQ(x, 0xFFFFCu);
  EXPECT_EQ(y, 0xFFFFFu);
  EXPECT_EQ(z, 0xFFFF0u);
  ASSERT_TRUE(a.free(0, y, 1));
  ASSERT_TRUE(a.free(0, x, 3));
  ASSERT_TRUE(a.free(0, z, 5));
  EXPECT_EQ(a.free_extents(), (Extents{{1, 0xF'FFFF'FFFF}}));
  EXPECT_EQ(a.live_ranges(), 0u);
}

TEST(IovaAllocator, ConfigValidationNamesTheField) {
  IovaConfig c;
  c.cpus = 0;
  EXPECT_THROW(IovaAllocator{c}, std::invalid_argument);
  c = IovaConfig{};
  c.start_pfn = 0;
  auto v = c.validate();
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("start_pfn"), std::string::npos);
  c = IovaConfig{};
  c.address_width = 70;
  EXPECT_FALSE(c.validate());
  c = IovaConfig{};
  c.magazine_size = 0;
  EXPECT_FALSE(c.validate());
}

}  // namespace
}  // namespace vtdsim::host
