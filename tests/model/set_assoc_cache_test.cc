// SetAssocCache: set indexing (custom index functions, struct keys), lookup/probe/insert/erase,
// invalidation by predicate and of everything, exact counters, geometry validation.
#include "model/set_assoc_cache.h"

#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace vtdsim::model {
namespace {

// IOTLB-style index: the page number selects the set.
struct PageIndex {
  std::uint64_t operator()(std::uint64_t address) const { return address >> 12; }
};

std::vector<std::pair<std::uint64_t, int>> contents(
    const SetAssocCache<std::uint64_t, int, PageIndex>& c) {
  std::vector<std::pair<std::uint64_t, int>> out;
  c.for_each([&](std::uint64_t k, int v) { out.emplace_back(k, v); });
  return out;
}

TEST(SetAssocCache, CustomIndexSelectsTheSet) {
  SetAssocCache<std::uint64_t, int, PageIndex> c(CacheGeometry{4, 2, ReplacementPolicy::kLru});
  EXPECT_EQ(c.capacity(), 8u);
  EXPECT_FALSE(c.insert(0x0000, 1));  // set 0
  EXPECT_FALSE(c.insert(0x1000, 2));  // set 1
  EXPECT_FALSE(c.insert(0x4000, 3));  // set 0
  EXPECT_FALSE(c.insert(0x2FFF, 4));  // set 2
  EXPECT_TRUE(c.insert(0x8000, 5));   // set 0 is full: evicts 0x0000 (LRU)
  EXPECT_FALSE(c.insert(0x5000, 6));  // set 1 still has room
  EXPECT_EQ(c.probe(0x0000), nullptr);
  ASSERT_NE(c.probe(0x1000), nullptr);
  EXPECT_EQ(*c.probe(0x1000), 2);
  EXPECT_EQ(c.size(), 5u);
  // for_each walks set by set, way by way: 0x8000 took way 0 of set 0.
  using P = std::pair<std::uint64_t, int>;
  EXPECT_EQ(contents(c),
            (std::vector<P>{{0x8000, 5}, {0x4000, 3}, {0x1000, 2}, {0x5000, 6}, {0x2FFF, 4}}));
  EXPECT_EQ(c.stats().evictions, 1u);
}

TEST(SetAssocCache, IndexUsesOnlyTheLowBitsOfTheHash) {
  // A hash with high bits set: sets = 2 means only bit 0 matters.
  auto index = [](std::uint64_t k) { return (k << 32) | (k & 1); };
  SetAssocCache<std::uint64_t, int, decltype(index)> c(CacheGeometry{2, 1}, index);
  EXPECT_FALSE(c.insert(2, 20));
  EXPECT_FALSE(c.insert(3, 30));
  EXPECT_TRUE(c.insert(4, 40));  // same set as 2
  EXPECT_EQ(c.probe(2), nullptr);
  EXPECT_EQ(*c.probe(3), 30);
  EXPECT_EQ(*c.probe(4), 40);
}

struct DomainPage {
  std::uint16_t did = 0;
  std::uint64_t page = 0;
  std::uint64_t index_hash() const { return page; }
  friend bool operator==(const DomainPage&, const DomainPage&) = default;
};

TEST(SetAssocCache, StructKeyWithIndexHash) {
  SetAssocCache<DomainPage, std::uint64_t> c(CacheGeometry{8, 2, ReplacementPolicy::kFifo});
  EXPECT_FALSE(c.insert({1, 0x10}, 0xA));
  EXPECT_FALSE(c.insert({2, 0x10}, 0xB));  // same page, other domain: same set, other entry
  EXPECT_TRUE(c.insert({3, 0x18}, 0xC));   // 0x18 & 7 == 0x10 & 7: evicts {1, 0x10}
  EXPECT_EQ(c.probe({1, 0x10}), nullptr);
  EXPECT_EQ(*c.lookup({2, 0x10}), 0xBu);
  EXPECT_EQ(*c.lookup({3, 0x18}), 0xCu);
  EXPECT_EQ(c.lookup({3, 0x10}), nullptr);
}

TEST(SetAssocCache, KeysWithEqualHashesAreStillToldApart) {
  // A constant index function: every key has the same set and the same internal tag, so every
  // lookup must fall back to comparing keys.
  auto same = [](std::uint64_t) { return std::uint64_t{0}; };
  SetAssocCache<std::uint64_t, std::uint64_t, decltype(same)> c(CacheGeometry{4, 64}, same);
  for (std::uint64_t k = 0; k < 64; ++k) ASSERT_FALSE(c.insert(k * 1000, k));
  for (std::uint64_t k = 0; k < 64; ++k) {
    const std::uint64_t* v = c.lookup(k * 1000);
    ASSERT_NE(v, nullptr) << k;
    EXPECT_EQ(*v, k);
  }
  EXPECT_EQ(c.lookup(1), nullptr);
  EXPECT_EQ(c.stats().hits, 64u);
  EXPECT_EQ(c.stats().misses, 1u);
  EXPECT_TRUE(c.insert(7, 7));  // set 0 is full: evicts the least recently used, key 0
  EXPECT_EQ(c.probe(0), nullptr);
  EXPECT_EQ(c.size(), 64u);
}

TEST(SetAssocCache, LookupReturnsAWritableValue) {
  SetAssocCache<std::uint64_t, int> c(CacheGeometry{1, 4});
  c.insert(7, 70);
  int* v = c.lookup(7);
  ASSERT_NE(v, nullptr);
  *v = 71;
  EXPECT_EQ(*c.probe(7), 71);
  EXPECT_FALSE(c.insert(7, 72));  // replacing a present key never evicts
  EXPECT_EQ(*c.probe(7), 72);
  EXPECT_EQ(c.size(), 1u);
}

TEST(SetAssocCache, InvalidateIfByKeyAndByValue) {
  SetAssocCache<std::uint64_t, int> c(CacheGeometry{4, 4, ReplacementPolicy::kLru});
  for (std::uint64_t k = 0; k < 16; ++k) ASSERT_FALSE(c.insert(k, static_cast<int>(k % 4)));
  EXPECT_EQ(c.size(), 16u);

  EXPECT_EQ(c.invalidate_if([](std::uint64_t k, int) { return k % 3 == 0; }), 6u);  // 0 3 .. 15
  EXPECT_EQ(c.size(), 10u);
  for (std::uint64_t k = 0; k < 16; ++k) {
    EXPECT_EQ(c.probe(k) == nullptr, k % 3 == 0) << k;
  }
  // By value: entries whose value is 1 (keys 1 5 13; 9 is already gone).
  EXPECT_EQ(c.invalidate_if([](std::uint64_t, int v) { return v == 1; }), 3u);
  EXPECT_EQ(c.size(), 7u);
  EXPECT_EQ(c.invalidate_if([](std::uint64_t, int) { return false; }), 0u);
  EXPECT_EQ(c.stats().invalidations, 9u);

  // Freed ways are reused before anything is evicted.
  EXPECT_FALSE(c.insert(100, 0));  // set 0: keys 4 8 left, two free ways
  EXPECT_FALSE(c.insert(104, 0));
  EXPECT_TRUE(c.insert(108, 0));

  EXPECT_EQ(c.invalidate_all(), 9u);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.invalidate_all(), 0u);
  EXPECT_EQ(c.stats().invalidations, 18u);
  for (std::uint64_t k = 0; k < 16; ++k) EXPECT_EQ(c.probe(k), nullptr);
}

TEST(SetAssocCache, CountersAreExact) {
  SetAssocCache<std::uint64_t, int> c(CacheGeometry{1, 2, ReplacementPolicy::kLru});
  auto expect = [&](std::uint64_t lookups, std::uint64_t hits, std::uint64_t misses,
                    std::uint64_t insertions, std::uint64_t evictions,
                    std::uint64_t invalidations) {
    const CacheStats& s = c.stats();
    EXPECT_EQ(s.lookups, lookups);
    EXPECT_EQ(s.hits, hits);
    EXPECT_EQ(s.misses, misses);
    EXPECT_EQ(s.insertions, insertions);
    EXPECT_EQ(s.evictions, evictions);
    EXPECT_EQ(s.invalidations, invalidations);
  };
  expect(0, 0, 0, 0, 0, 0);
  EXPECT_EQ(c.lookup(1), nullptr);
  expect(1, 0, 1, 0, 0, 0);
  c.insert(1, 10);
  c.insert(2, 20);
  expect(1, 0, 1, 2, 0, 0);
  EXPECT_NE(c.lookup(1), nullptr);
  EXPECT_NE(c.lookup(2), nullptr);
  EXPECT_EQ(c.lookup(3), nullptr);
  expect(4, 2, 2, 2, 0, 0);
  EXPECT_TRUE(c.insert(3, 30));  // evicts 1
  expect(4, 2, 2, 3, 1, 0);
  EXPECT_FALSE(c.insert(3, 31));  // replace: an insertion, no eviction
  expect(4, 2, 2, 4, 1, 0);
  EXPECT_NE(c.probe(3), nullptr);  // probe counts nothing
  EXPECT_EQ(c.probe(1), nullptr);
  expect(4, 2, 2, 4, 1, 0);
  EXPECT_TRUE(c.erase(3));
  EXPECT_FALSE(c.erase(3));
  EXPECT_FALSE(c.erase(99));
  expect(4, 2, 2, 4, 1, 1);
  EXPECT_EQ(c.invalidate_all(), 1u);  // key 2
  expect(4, 2, 2, 4, 1, 2);
  c.reset_stats();
  expect(0, 0, 0, 0, 0, 0);
  EXPECT_EQ(c.lookup(2), nullptr);  // invalidated entries stay gone
  expect(1, 0, 1, 0, 0, 0);
}

TEST(SetAssocCache, GeometryValidation) {
  auto code_of = [](CacheGeometry g) {
    auto s = g.validate();
    return s ? std::string("ok")
             : std::string(to_string(s.error().code)) + ": " + s.error().message;
  };
  EXPECT_EQ(code_of({1, 16, ReplacementPolicy::kLru}), "ok");
  EXPECT_EQ(code_of({64, 64, ReplacementPolicy::kTreePlru}), "ok");
  EXPECT_EQ(code_of({1, 3, ReplacementPolicy::kFifo}), "ok");
  EXPECT_EQ(code_of({1, 1, ReplacementPolicy::kTreePlru}), "ok");
  EXPECT_EQ(code_of({0, 4}), "invalid argument: cache sets must be a power of two >= 1, got 0");
  EXPECT_EQ(code_of({3, 4}), "invalid argument: cache sets must be a power of two >= 1, got 3");
  EXPECT_EQ(code_of({1, 0}), "invalid argument: cache ways must be in [1, 64], got 0");
  EXPECT_EQ(code_of({1, 65}), "invalid argument: cache ways must be in [1, 64], got 65");
  EXPECT_EQ(code_of({1, 6, ReplacementPolicy::kTreePlru}),
            "invalid argument: tree-PLRU needs a power-of-two way count, got 6");
  EXPECT_EQ((CacheGeometry{16, 8}.entries()), 128u);

  using C = SetAssocCache<std::uint64_t, int>;
  EXPECT_THROW(C(CacheGeometry{0, 4}), std::invalid_argument);
  EXPECT_THROW(C(CacheGeometry{1, 65}), std::invalid_argument);
  EXPECT_THROW(C(CacheGeometry{2, 12, ReplacementPolicy::kTreePlru}), std::invalid_argument);
  C ok(CacheGeometry{2, 12, ReplacementPolicy::kRandom, 5});
  EXPECT_EQ(ok.capacity(), 24u);
  EXPECT_EQ(ok.geometry().seed, 5u);
  EXPECT_EQ(ok.geometry().policy, ReplacementPolicy::kRandom);
}

TEST(SetAssocCache, PolicyNames) {
  EXPECT_EQ(to_string(ReplacementPolicy::kLru), "lru");
  EXPECT_EQ(to_string(ReplacementPolicy::kTreePlru), "plru");
  EXPECT_EQ(to_string(ReplacementPolicy::kFifo), "fifo");
  EXPECT_EQ(to_string(ReplacementPolicy::kRandom), "random");
  for (auto p : {ReplacementPolicy::kLru, ReplacementPolicy::kTreePlru, ReplacementPolicy::kFifo,
                 ReplacementPolicy::kRandom}) {
    EXPECT_EQ(parse_replacement_policy(to_string(p)).value(), p);
  }
  EXPECT_EQ(parse_replacement_policy("tree-plru").value(), ReplacementPolicy::kTreePlru);
  auto bad = parse_replacement_policy("LRU");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message,
            "unknown replacement policy 'LRU' (expected lru, plru, fifo or random)");
}

}  // namespace
}  // namespace vtdsim::model
