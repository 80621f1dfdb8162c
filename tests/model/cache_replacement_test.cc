// SetAssocCache replacement: for each policy a scripted sequence on a small geometry that names
// exactly which key each insert evicts.
#include <cstdint>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "model/set_assoc_cache.h"

namespace vtdsim::model {
namespace {

using Cache = SetAssocCache<std::uint64_t, int>;

std::set<std::uint64_t> keys_of(const Cache& c) {
  std::set<std::uint64_t> keys;
  c.for_each([&](std::uint64_t k, const int&) { keys.insert(k); });
  return keys;
}

// Inserts key and returns the key it displaced (0 when nothing was evicted).
std::uint64_t insert_evicting(Cache& c, std::uint64_t key) {
  const auto before = keys_of(c);
  const bool evicted = c.insert(key, static_cast<int>(key) * 10);
  const auto after = keys_of(c);
  std::vector<std::uint64_t> gone;
  for (auto k : before) {
    if (after.count(k) == 0) gone.push_back(k);
  }
  EXPECT_EQ(after.count(key), 1u) << key;
  EXPECT_LE(gone.size(), 1u);
  EXPECT_EQ(evicted, !gone.empty()) << key;
  return gone.empty() ? 0 : gone.front();
}

Cache make(ReplacementPolicy policy, std::uint32_t ways, std::uint64_t seed = 1) {
  return Cache(CacheGeometry{1, ways, policy, seed});
}

TEST(CacheReplacement, Lru) {
  Cache c = make(ReplacementPolicy::kLru, 4);
  for (std::uint64_t k = 1; k <= 4; ++k) EXPECT_EQ(insert_evicting(c, k), 0u);
  ASSERT_NE(c.lookup(1), nullptr);       // order, oldest first: 2 3 4 1
  EXPECT_EQ(insert_evicting(c, 5), 2u);  // 3 4 1 5
  ASSERT_NE(c.lookup(3), nullptr);       // 4 1 5 3
  EXPECT_EQ(insert_evicting(c, 6), 4u);  // 1 5 3 6
  EXPECT_EQ(c.lookup(99), nullptr);      // a miss changes nothing
  EXPECT_EQ(insert_evicting(c, 1), 0u);  // re-insert refreshes: 5 3 6 1
  EXPECT_EQ(insert_evicting(c, 7), 5u);  // 3 6 1 7
  ASSERT_NE(c.probe(3), nullptr);        // probe does not refresh
  EXPECT_EQ(insert_evicting(c, 8), 3u);  // 6 1 7 8
  EXPECT_EQ(keys_of(c), (std::set<std::uint64_t>{1, 6, 7, 8}));
  EXPECT_EQ(*c.probe(1), 10);
}

TEST(CacheReplacement, LruAfterErase) {
  Cache c = make(ReplacementPolicy::kLru, 2);
  EXPECT_EQ(insert_evicting(c, 1), 0u);
  EXPECT_EQ(insert_evicting(c, 2), 0u);
  EXPECT_TRUE(c.erase(1));
  EXPECT_EQ(insert_evicting(c, 3), 0u);  // takes the free way
  EXPECT_EQ(insert_evicting(c, 4), 2u);  // 2 is now the least recently used
  EXPECT_EQ(insert_evicting(c, 5), 3u);
}

TEST(CacheReplacement, TreePlruFourWays) {
  Cache c = make(ReplacementPolicy::kTreePlru, 4);
  for (std::uint64_t k = 1; k <= 4; ++k) EXPECT_EQ(insert_evicting(c, k), 0u);  // ways 0..3
  ASSERT_NE(c.lookup(3), nullptr);  // way 2: root points left, right pair points at way 3
  ASSERT_NE(c.lookup(2), nullptr);  // way 1: root points right, left pair points at way 0
  // True LRU would evict 1 (way 0); tree-PLRU follows the root to the right pair: way 3.
  EXPECT_EQ(insert_evicting(c, 5), 4u);
  EXPECT_EQ(insert_evicting(c, 6), 1u);  // root left, left pair at way 0
  EXPECT_EQ(insert_evicting(c, 7), 3u);  // root right, right pair at way 2
  EXPECT_EQ(insert_evicting(c, 8), 2u);  // root left, left pair at way 1
  EXPECT_EQ(insert_evicting(c, 9), 5u);  // root right, right pair at way 3
  EXPECT_EQ(keys_of(c), (std::set<std::uint64_t>{6, 7, 8, 9}));
}

TEST(CacheReplacement, TreePlruEightWays) {
  Cache c = make(ReplacementPolicy::kTreePlru, 8);
  for (std::uint64_t k = 1; k <= 8; ++k) EXPECT_EQ(insert_evicting(c, k), 0u);  // ways 0..7
  EXPECT_EQ(insert_evicting(c, 9), 1u);   // every node points away from way 7: way 0
  EXPECT_EQ(insert_evicting(c, 10), 5u);  // root right, then left (from 7), left (from 5)
  EXPECT_EQ(insert_evicting(c, 11), 3u);  // root left, then right (from 0), left (from 3)
  ASSERT_NE(c.lookup(4), nullptr);        // way 3: the root now points right
  EXPECT_EQ(insert_evicting(c, 12), 7u);  // root right, then right (from 10 at way 4), way 6
}

TEST(CacheReplacement, TreePlruOneWay) {
  Cache c = make(ReplacementPolicy::kTreePlru, 1);
  EXPECT_EQ(insert_evicting(c, 1), 0u);
  EXPECT_EQ(insert_evicting(c, 2), 1u);
  EXPECT_EQ(insert_evicting(c, 3), 2u);
}

TEST(CacheReplacement, Fifo) {
  Cache c = make(ReplacementPolicy::kFifo, 4);
  for (std::uint64_t k = 1; k <= 4; ++k) EXPECT_EQ(insert_evicting(c, k), 0u);
  ASSERT_NE(c.lookup(1), nullptr);       // use does not matter to FIFO
  EXPECT_EQ(insert_evicting(c, 5), 1u);  // queue: 2 3 4 5
  EXPECT_EQ(insert_evicting(c, 2), 0u);  // replacing a value keeps its place
  EXPECT_EQ(*c.probe(2), 20);
  EXPECT_EQ(insert_evicting(c, 6), 2u);  // 3 4 5 6
  EXPECT_TRUE(c.erase(3));               // 4 5 6
  EXPECT_EQ(insert_evicting(c, 7), 0u);  // 4 5 6 7
  EXPECT_EQ(insert_evicting(c, 8), 4u);
  EXPECT_EQ(insert_evicting(c, 9), 5u);
  EXPECT_EQ(keys_of(c), (std::set<std::uint64_t>{6, 7, 8, 9}));
}

// Expected victims computed independently from the documented generator (xorshift64*, output
// bits 63:32 modulo ways) for seeds 42 and 7.
TEST(CacheReplacement, RandomIsDeterministicForASeed) {
  Cache c = make(ReplacementPolicy::kRandom, 4, 42);
  for (std::uint64_t k = 1; k <= 4; ++k) EXPECT_EQ(insert_evicting(c, k), 0u);
  const std::vector<std::uint64_t> expected{4, 5, 1, 6, 8, 3, 10, 9};
  for (std::uint64_t i = 0; i < expected.size(); ++i) {
    (void)c.lookup(2);  // lookups do not draw from the generator
    EXPECT_EQ(insert_evicting(c, 5 + i), expected[i]) << "insert " << 5 + i;
  }
  EXPECT_EQ(keys_of(c), (std::set<std::uint64_t>{2, 7, 11, 12}));

  Cache d = make(ReplacementPolicy::kRandom, 4, 7);
  for (std::uint64_t k = 1; k <= 4; ++k) EXPECT_EQ(insert_evicting(d, k), 0u);
  const std::vector<std::uint64_t> expected7{4, 5, 3, 2, 8, 7, 9, 1};
  for (std::uint64_t i = 0; i < expected7.size(); ++i) {
    EXPECT_EQ(insert_evicting(d, 5 + i), expected7[i]) << "insert " << 5 + i;
  }
}

TEST(CacheReplacement, RandomSeedZeroIsUsable) {
  // Seed 0 would lock xorshift at zero; it is replaced by a fixed non-zero constant.
  Cache a = make(ReplacementPolicy::kRandom, 8, 0);
  Cache b = make(ReplacementPolicy::kRandom, 8, 0x9E3779B97F4A7C15ull);
  int not_the_previous_insert = 0;  // a generator stuck at 0 always picks way 0
  for (std::uint64_t k = 1; k <= 200; ++k) {
    const std::uint64_t va = insert_evicting(a, k);
    EXPECT_EQ(va, insert_evicting(b, k)) << k;
    if (k >= 10 && va != k - 1) ++not_the_previous_insert;
  }
  EXPECT_GT(not_the_previous_insert, 100);
}

TEST(CacheReplacement, SixtyFourWays) {
  for (auto policy :
       {ReplacementPolicy::kLru, ReplacementPolicy::kTreePlru, ReplacementPolicy::kFifo}) {
    Cache c = make(policy, 64);
    for (std::uint64_t k = 1; k <= 64; ++k) ASSERT_EQ(insert_evicting(c, k), 0u) << k;
    EXPECT_EQ(c.size(), 64u);
    EXPECT_EQ(insert_evicting(c, 65), 1u) << to_string(policy);
    EXPECT_EQ(c.size(), 64u);
  }
}

}  // namespace
}  // namespace vtdsim::model
