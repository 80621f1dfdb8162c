// A generic set-associative cache: sets × ways (fully associative when sets = 1), a pluggable
// index function, replacement LRU / tree-PLRU / FIFO / random (seeded, deterministic), lookup,
// insert, invalidate-by-predicate and invalidate-all, with per-cache counters. It serves the
// IOTLB, context cache, PASID cache, paging-structure caches and interrupt entry cache.
//
// Contract: Key is equality-comparable; IndexFn(key) returns a 64-bit hash whose low bits
// select the set (sets is a power of two). A key is held at most once.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "model/error.h"
#include "model/stats.h"

namespace vtdsim::model {

enum class ReplacementPolicy : std::uint8_t { kLru, kTreePlru, kFifo, kRandom };

std::string_view to_string(ReplacementPolicy policy);
// "lru", "plru" (or "tree-plru"), "fifo", "random".
Expected<ReplacementPolicy> parse_replacement_policy(std::string_view text);

struct CacheGeometry {
  std::uint32_t sets = 1;
  std::uint32_t ways = 16;
  ReplacementPolicy policy = ReplacementPolicy::kLru;
  std::uint64_t seed = 1;  // random replacement only

  static constexpr std::uint32_t kMaxWays = 64;
  std::uint32_t entries() const { return sets * ways; }
  // sets a power of two ≥ 1, ways in [1, 64], tree-PLRU needs a power-of-two way count.
  Status validate() const;
};

struct CacheStats {
  std::uint64_t lookups = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t insertions = 0;
  std::uint64_t evictions = 0;
  std::uint64_t invalidations = 0;  // entries removed by invalidate_if / invalidate_all / erase

  static constexpr auto kFields = std::to_array<StatField<CacheStats>>({
      {"lookups", "lookups", "lookups that updated replacement state", &CacheStats::lookups},
      {"hits", "lookups", "lookups that found the key", &CacheStats::hits},
      {"misses", "lookups", "lookups that did not find the key", &CacheStats::misses},
      {"insertions", "entries", "entries written by insert", &CacheStats::insertions},
      {"evictions", "entries", "valid entries displaced by an insert", &CacheStats::evictions},
      {"invalidations", "entries", "entries removed by invalidation", &CacheStats::invalidations},
  });
};

template <class Key>
struct DefaultIndex {
  std::uint64_t operator()(const Key& key) const {
    if constexpr (std::is_integral_v<Key>) {
      return static_cast<std::uint64_t>(key);
    } else {
      return key.index_hash();
    }
  }
};

template <class Key, class Value, class IndexFn = DefaultIndex<Key>>
class SetAssocCache {
 public:
  // Throws std::invalid_argument when geometry.validate() fails (API misuse).
  explicit SetAssocCache(CacheGeometry geometry, IndexFn index = IndexFn{})
      : geometry_(geometry), index_(index) {
    if (auto ok = geometry.validate(); !ok) throw std::invalid_argument(ok.error().message);
    set_mask_ = geometry.sets - 1;
    ways_ = geometry.ways;
    set_bits_ = static_cast<unsigned>(std::countr_zero(geometry.sets));
    const std::size_t n = std::size_t{geometry.sets} * geometry.ways;
    keys_.resize(n);
    values_.resize(n);
    stamps_.assign(n, 0);
    valid_.assign(geometry.sets, 0);
    plru_.assign(geometry.sets, 0);
    tag_stride_ = (ways_ + 15) & ~std::uint32_t{15};
    tags_.assign(std::size_t{geometry.sets} * tag_stride_, 0);
    if (geometry.policy == ReplacementPolicy::kTreePlru) init_plru_paths();
    rng_ = geometry.seed == 0 ? 0x9E3779B97F4A7C15ull : geometry.seed;
  }

  const CacheGeometry& geometry() const { return geometry_; }
  // hits is derived (lookups - misses) so that a hit updates one counter fewer.
  const CacheStats& stats() const {
    stats_.hits = stats_.lookups - stats_.misses;
    return stats_;
  }
  void reset_stats() { stats_ = CacheStats{}; }

  // Finds key; counts a lookup and a hit or miss and updates replacement state on a hit.
  Value* lookup(const Key& key) {
    ++stats_.lookups;
    const Where at = locate(key);
    const std::uint32_t set = at.set;
    const int way = find(set, key, at.tag);
    if (way < 0) {
      ++stats_.misses;
      return nullptr;
    }
    touch(set, static_cast<std::uint32_t>(way));
    return &values_[slot(set, static_cast<std::uint32_t>(way))];
  }

  // lookup() with a slot hint kept by the caller (from a previous lookup_hinted of this cache,
  // or 0): when the hint names a valid slot holding key the set search is skipped (replacement
  // state updated as by lookup(), no counter: the caller counts its own hits); otherwise the
  // set is searched and counted as lookup() does, and hint receives the slot found.
  // Needs sets < 2^24 (else it is a plain lookup).
  Value* lookup_hinted(const Key& key, std::uint64_t& hint) {
    if (geometry_.sets >= (1u << 24)) [[unlikely]]
      return lookup(key);
    const auto hslot = static_cast<std::uint32_t>(hint);
    const auto hset = static_cast<std::uint32_t>(hint >> 32) & 0xFFFFFFu;
    const auto hway = static_cast<std::uint32_t>(hint >> 56);
    if (((valid_[hset] >> hway) & 1u) != 0 && keys_[hslot] == key) [[likely]] {
      touch_slot(hset, hway, hslot);
      return &values_[hslot];
    }
    ++stats_.lookups;
    const Where at = locate(key);
    const int way = find(at.set, key, at.tag);
    if (way < 0) {
      ++stats_.misses;
      return nullptr;
    }
    const std::size_t s = slot(at.set, uway(way));
    hint = (std::uint64_t{uway(way)} << 56) | (std::uint64_t{at.set} << 32) | s;
    touch_slot(at.set, uway(way), s);
    return &values_[s];
  }

  // Finds key without counting or touching replacement state.
  const Value* probe(const Key& key) const {
    const Where at = locate(key);
    const std::uint32_t set = at.set;
    const int way = find(set, key, at.tag);
    return way < 0 ? nullptr : &values_[slot(set, static_cast<std::uint32_t>(way))];
  }

  // Inserts or replaces key. Returns true when a valid entry of another key was evicted.
  bool insert(const Key& key, const Value& value) {
    ++stats_.insertions;
    const Where at = locate(key);
    const std::uint32_t set = at.set;
    int way = find(set, key, at.tag);
    bool evicted = false;
    if (way < 0) {
      const std::uint64_t free = ~valid_[set] & way_mask();
      if (free != 0) {
        way = std::countr_zero(free);
      } else {
        way = static_cast<int>(victim(set));
        evicted = true;
        ++stats_.evictions;
      }
      valid_[set] |= std::uint64_t{1} << way;
      tags_[std::size_t{set} * tag_stride_ + uway(way)] = at.tag;
      if (geometry_.policy == ReplacementPolicy::kFifo) stamps_[slot(set, uway(way))] = ++clock_;
    }
    keys_[slot(set, uway(way))] = key;
    values_[slot(set, uway(way))] = value;
    touch(set, uway(way));
    return evicted;
  }

  // Removes key if present.
  bool erase(const Key& key) {
    const Where at = locate(key);
    const std::uint32_t set = at.set;
    const int way = find(set, key, at.tag);
    if (way < 0) return false;
    valid_[set] &= ~(std::uint64_t{1} << way);
    ++stats_.invalidations;
    return true;
  }

  // Removes every entry for which pred(key, value) is true; returns how many.
  template <class Pred>
  std::size_t invalidate_if(Pred&& pred) {
    std::size_t removed = 0;
    for (std::uint32_t set = 0; set < geometry_.sets; ++set) {
      std::uint64_t v = valid_[set];
      while (v != 0) {
        const auto way = static_cast<std::uint32_t>(std::countr_zero(v));
        v &= v - 1;
        const std::size_t s = slot(set, way);
        if (pred(static_cast<const Key&>(keys_[s]), static_cast<const Value&>(values_[s]))) {
          valid_[set] &= ~(std::uint64_t{1} << way);
          ++removed;
        }
      }
    }
    stats_.invalidations += removed;
    return removed;
  }

  std::size_t invalidate_all() {
    std::size_t removed = 0;
    for (auto& v : valid_) {
      removed += static_cast<std::size_t>(std::popcount(v));
      v = 0;
    }
    stats_.invalidations += removed;
    return removed;
  }

  // Calls fn(key, value) for every valid entry, set by set, way by way.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (std::uint32_t set = 0; set < geometry_.sets; ++set) {
      std::uint64_t v = valid_[set];
      while (v != 0) {
        const auto way = static_cast<std::uint32_t>(std::countr_zero(v));
        v &= v - 1;
        fn(keys_[slot(set, way)], values_[slot(set, way)]);
      }
    }
  }

  std::size_t size() const {
    std::size_t n = 0;
    for (auto v : valid_) n += static_cast<std::size_t>(std::popcount(v));
    return n;
  }
  std::size_t capacity() const { return keys_.size(); }

 private:
  static std::uint32_t uway(int way) { return static_cast<std::uint32_t>(way); }
  std::uint64_t way_mask() const {
    return ways_ == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << ways_) - 1;
  }
  // The set of a key and its 8-bit tag: a filter over the set's ways so that a lookup compares
  // (usually) one key instead of all of them. The tag mixes the hash bits above the set index.
  struct Where {
    std::uint32_t set;
    std::uint8_t tag;
  };
  Where locate(const Key& key) const {
    const std::uint64_t h = index_(key);
    return Where{static_cast<std::uint32_t>(h) & set_mask_,
                 static_cast<std::uint8_t>(((h >> set_bits_) * 0x9E3779B97F4A7C15ull) >> 56)};
  }
  // Ways of `set` whose tag equals t (valid or not).
  std::uint64_t tag_matches(std::uint32_t set, std::uint8_t t) const {
    const std::uint8_t* p = &tags_[std::size_t{set} * tag_stride_];
    std::uint64_t m = 0;
#if defined(__SSE2__)
    const __m128i needle = _mm_set1_epi8(static_cast<char>(t));
    if (tag_stride_ == 16) {  // up to 16 ways: one compare, no loop
      const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      return static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, needle)));
    }
    for (std::uint32_t c = 0; c < tag_stride_; c += 16) {
      const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + c));
      const auto bits =
          static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, needle)));
      m |= std::uint64_t{bits} << c;
    }
#else
    for (std::uint32_t w = 0; w < ways_; ++w) m |= std::uint64_t{p[w] == t} << w;
#endif
    return m;
  }
  std::size_t slot(std::uint32_t set, std::uint32_t way) const {
    return std::size_t{set} * ways_ + way;
  }
  int find(std::uint32_t set, const Key& key, std::uint8_t tag) const {
    const Key* k = &keys_[std::size_t{set} * ways_];
    std::uint64_t v = valid_[set] & tag_matches(set, tag);
    while (v != 0) {
      const int way = std::countr_zero(v);
      if (k[way] == key) return way;
      v &= v - 1;
    }
    return -1;
  }
  void touch(std::uint32_t set, std::uint32_t way) {
    touch_slot(set, way, slot(set, way));
  }
  void touch_slot(std::uint32_t set, std::uint32_t way, std::size_t s) {
    switch (geometry_.policy) {
      case ReplacementPolicy::kLru:
        stamps_[s] = ++clock_;
        return;
      case ReplacementPolicy::kTreePlru:
        // Every node on the way's path points away from it (precomputed per way).
        plru_[set] = (plru_[set] & ~plru_path_[way]) | plru_away_[way];
        return;
      case ReplacementPolicy::kFifo:
      case ReplacementPolicy::kRandom:
        return;
    }
  }
  // Tree-PLRU: a heap-ordered tree of ways-1 bits per set; a bit names the half to evict from
  // next (0 = left). plru_path_[w] has the bits of w's path, plru_away_[w] those of them that
  // must be 1 to point away from w.
  void init_plru_paths() {
    const unsigned levels = static_cast<unsigned>(std::countr_zero(ways_));
    plru_path_.assign(ways_, 0);
    plru_away_.assign(ways_, 0);
    for (std::uint32_t way = 0; way < ways_; ++way) {
      std::uint32_t node = 1;
      for (unsigned l = 0; l < levels; ++l) {
        const std::uint32_t dir = (way >> (levels - 1 - l)) & 1u;
        plru_path_[way] |= std::uint64_t{1} << node;
        if (dir == 0) plru_away_[way] |= std::uint64_t{1} << node;  // evict right next
        node = 2 * node + dir;
      }
    }
  }
  std::uint32_t victim(std::uint32_t set) {
    switch (geometry_.policy) {
      case ReplacementPolicy::kLru:
      case ReplacementPolicy::kFifo: {
        std::uint32_t best = 0;
        for (std::uint32_t w = 1; w < ways_; ++w) {
          if (stamps_[slot(set, w)] < stamps_[slot(set, best)]) best = w;
        }
        return best;
      }
      case ReplacementPolicy::kTreePlru: {
        const unsigned levels = static_cast<unsigned>(std::countr_zero(ways_));
        std::uint32_t node = 1;
        std::uint32_t way = 0;
        for (unsigned l = 0; l < levels; ++l) {
          const std::uint32_t dir = static_cast<std::uint32_t>((plru_[set] >> node) & 1u);
          way = (way << 1) | dir;
          node = 2 * node + dir;
        }
        return way;
      }
      case ReplacementPolicy::kRandom: {
        // xorshift64*: deterministic for a given seed.
        rng_ ^= rng_ >> 12;
        rng_ ^= rng_ << 25;
        rng_ ^= rng_ >> 27;
        return static_cast<std::uint32_t>((rng_ * 0x2545F4914F6CDD1Dull) >> 32) % ways_;
      }
    }
    return 0;
  }

  CacheGeometry geometry_;
  IndexFn index_;
  std::uint32_t set_mask_ = 0;
  unsigned set_bits_ = 0;
  std::uint32_t ways_ = 1;
  std::uint32_t tag_stride_ = 16;  // bytes of tags per set (ways rounded up to 16)
  std::vector<Key> keys_;
  std::vector<Value> values_;
  std::vector<std::uint64_t> stamps_;  // LRU: last use; FIFO: insertion
  std::vector<std::uint64_t> valid_;   // one bit a way, per set
  std::vector<std::uint64_t> plru_;    // tree bits per set (bit i = heap node i)
  std::vector<std::uint64_t> plru_path_;
  std::vector<std::uint64_t> plru_away_;
  std::vector<std::uint8_t> tags_;  // per set, tag_stride_ bytes: the tag of each way
  std::uint64_t clock_ = 0;
  std::uint64_t rng_ = 1;
  mutable CacheStats stats_;  // hits filled in by stats()
};

}  // namespace vtdsim::model
