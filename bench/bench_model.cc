// model/ hot paths. Targets (issue 2): SetAssocCache lookup hit with 16 ways <= 5 ns;
// PhysicalMemory::read<uint64_t> / read_into on a resident frame <= 5 ns.
// Run: bench_model --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "model/physical_memory.h"
#include "model/set_assoc_cache.h"

namespace {

using vtdsim::model::CacheGeometry;
using vtdsim::model::PhysicalMemory;
using vtdsim::model::ReplacementPolicy;
using Cache = vtdsim::model::SetAssocCache<std::uint64_t, std::uint64_t>;

constexpr std::size_t kPattern = 4096;  // power of two: the loop index wraps with a mask

// A fixed pseudo-random sequence (so the branch predictor cannot learn the way order).
std::vector<std::uint64_t> pattern(std::uint64_t range, std::uint64_t seed) {
  std::vector<std::uint64_t> out(kPattern);
  std::uint64_t x = seed;
  for (auto& v : out) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    v = (x >> 33) % range;
  }
  return out;
}

// Args: sets, ways, policy. The cache is full; every lookup hits a random resident key.
void BM_CacheLookupHit(benchmark::State& state) {
  const auto sets = static_cast<std::uint32_t>(state.range(0));
  const auto ways = static_cast<std::uint32_t>(state.range(1));
  const auto policy = static_cast<ReplacementPolicy>(state.range(2));
  Cache cache(CacheGeometry{sets, ways, policy, 1});
  const std::uint64_t entries = std::uint64_t{sets} * ways;
  for (std::uint64_t k = 0; k < entries; ++k) cache.insert(k, k * 3);
  const std::vector<std::uint64_t> keys = pattern(entries, 7);
  std::size_t i = 0;
  for (auto _ : state) {
    std::uint64_t* v = cache.lookup(keys[i++ & (kPattern - 1)]);
    benchmark::DoNotOptimize(v);
  }
  if (cache.stats().hits != cache.stats().lookups) state.SkipWithError("a lookup missed");
  state.SetLabel(std::string(vtdsim::model::to_string(policy)));
}

// Args: sets, ways. Every lookup misses (all ways of the set are compared).
void BM_CacheLookupMiss(benchmark::State& state) {
  const auto sets = static_cast<std::uint32_t>(state.range(0));
  const auto ways = static_cast<std::uint32_t>(state.range(1));
  Cache cache(CacheGeometry{sets, ways, ReplacementPolicy::kLru, 1});
  const std::uint64_t entries = std::uint64_t{sets} * ways;
  for (std::uint64_t k = 0; k < entries; ++k) cache.insert(k, k);
  std::vector<std::uint64_t> keys = pattern(entries, 11);
  for (auto& k : keys) k += entries;  // never resident
  std::size_t i = 0;
  for (auto _ : state) {
    std::uint64_t* v = cache.lookup(keys[i++ & (kPattern - 1)]);
    benchmark::DoNotOptimize(v);
  }
  if (cache.stats().hits != 0) state.SkipWithError("a lookup hit");
}

// Args: sets, ways, policy. The cache is full; every insert is a new key and evicts one.
void BM_CacheInsertEvict(benchmark::State& state) {
  const auto sets = static_cast<std::uint32_t>(state.range(0));
  const auto ways = static_cast<std::uint32_t>(state.range(1));
  const auto policy = static_cast<ReplacementPolicy>(state.range(2));
  Cache cache(CacheGeometry{sets, ways, policy, 1});
  const std::uint64_t entries = std::uint64_t{sets} * ways;
  for (std::uint64_t k = 0; k < entries; ++k) cache.insert(k, k);
  std::uint64_t next = entries;
  for (auto _ : state) {
    const bool evicted = cache.insert(next, next);
    ++next;
    benchmark::DoNotOptimize(evicted);
  }
  if (cache.stats().evictions != next - entries) state.SkipWithError("an insert did not evict");
  state.SetLabel(std::string(vtdsim::model::to_string(policy)));
}

// Reads of 8-byte values at varying offsets of one resident frame.
void BM_MemoryRead64(benchmark::State& state) {
  PhysicalMemory mem(46);
  constexpr std::uint64_t kBase = 0x12345000;
  for (std::uint64_t off = 0; off < 4096; off += 8)
    (void)mem.write<std::uint64_t>(kBase + off, off);
  std::vector<std::uint64_t> addrs = pattern(512, 3);
  for (auto& a : addrs) a = kBase + a * 8;
  std::size_t i = 0;
  for (auto _ : state) {
    auto v = mem.read<std::uint64_t>(addrs[i++ & (kPattern - 1)]);
    benchmark::DoNotOptimize(v);
  }
}

void BM_MemoryReadInto64(benchmark::State& state) {
  PhysicalMemory mem(46);
  constexpr std::uint64_t kBase = 0x12345000;
  for (std::uint64_t off = 0; off < 4096; off += 8)
    (void)mem.write<std::uint64_t>(kBase + off, off);
  std::vector<std::uint64_t> addrs = pattern(512, 3);
  for (auto& a : addrs) a = kBase + a * 8;
  std::size_t i = 0;
  std::uint64_t v = 0;
  for (auto _ : state) {
    const bool ok = mem.read_into(addrs[i++ & (kPattern - 1)], v);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(v);
  }
}

// Reads spread over many resident frames (a page walk touching scattered tables): the
// recent-frame cache misses often and the radix index is walked.
void BM_MemoryRead64ManyFrames(benchmark::State& state) {
  PhysicalMemory mem(46);
  const auto frames = static_cast<std::uint64_t>(state.range(0));
  for (std::uint64_t f = 0; f < frames; ++f) (void)mem.write<std::uint64_t>(f << 21, f);
  std::vector<std::uint64_t> addrs = pattern(frames, 5);
  for (auto& a : addrs) a <<= 21;  // one frame every 2 MiB
  std::size_t i = 0;
  for (auto _ : state) {
    auto v = mem.read<std::uint64_t>(addrs[i++ & (kPattern - 1)]);
    benchmark::DoNotOptimize(v);
  }
}

void BM_MemoryWrite64(benchmark::State& state) {
  PhysicalMemory mem(46);
  constexpr std::uint64_t kBase = 0x12345000;
  (void)mem.frame(kBase);
  std::vector<std::uint64_t> addrs = pattern(512, 3);
  for (auto& a : addrs) a = kBase + a * 8;
  std::size_t i = 0;
  for (auto _ : state) {
    auto ok = mem.write<std::uint64_t>(addrs[i & (kPattern - 1)], i);
    ++i;
    benchmark::DoNotOptimize(ok);
  }
}

constexpr auto kLru = static_cast<std::int64_t>(ReplacementPolicy::kLru);
constexpr auto kPlru = static_cast<std::int64_t>(ReplacementPolicy::kTreePlru);
constexpr auto kFifo = static_cast<std::int64_t>(ReplacementPolicy::kFifo);
constexpr auto kRandom = static_cast<std::int64_t>(ReplacementPolicy::kRandom);

BENCHMARK(BM_CacheLookupHit)
    ->ArgNames({"sets", "ways", "policy"})
    ->Args({1, 16, kLru})
    ->Args({64, 16, kLru})
    ->Args({1, 16, kPlru})
    ->Args({64, 16, kPlru})
    ->Args({64, 16, kFifo})
    ->Args({64, 16, kRandom})
    ->Args({1, 64, kLru});
BENCHMARK(BM_CacheLookupMiss)->ArgNames({"sets", "ways"})->Args({1, 16})->Args({64, 16});
BENCHMARK(BM_CacheInsertEvict)
    ->ArgNames({"sets", "ways", "policy"})
    ->Args({1, 16, kLru})
    ->Args({64, 16, kLru})
    ->Args({64, 16, kPlru})
    ->Args({64, 16, kFifo})
    ->Args({64, 16, kRandom});
BENCHMARK(BM_MemoryRead64);
BENCHMARK(BM_MemoryReadInto64);
BENCHMARK(BM_MemoryRead64ManyFrames)->Arg(256)->Arg(4096);
BENCHMARK(BM_MemoryWrite64);

}  // namespace
