// host/ costs per operation: IOVA alloc+free through the per-CPU rcache and through the tree;
// dma_map_single + unmap with strict invalidation vs the deferred flush queue (each includes
// the page-table update and, for strict, one queued invalidation with its wait descriptor).
// Run: bench_host --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <cstdint>
#include <memory>

#include <benchmark/benchmark.h>

#include "host/dma_api.h"
#include "host/iova_allocator.h"
#include "host/vtd_driver.h"
#include "iommu/remapping_unit.h"
#include "model/frame_allocator.h"
#include "model/physical_memory.h"

namespace {

using namespace vtdsim;

constexpr std::uint64_t kLimit = host::IovaAllocator::limit_pfn_for_bits(32);

// Alloc + free of one page, always served by the CPU's magazines after warm-up.
void BM_IovaAllocFreeCached(benchmark::State& state) {
  host::IovaAllocator a(host::IovaConfig{});
  for (auto _ : state) {
    const std::uint64_t pfn = a.alloc(0, 1, kLimit).value();
    benchmark::DoNotOptimize(pfn);
    (void)a.free(0, pfn, 1);
  }
}
BENCHMARK(BM_IovaAllocFreeCached);

// Alloc + free with the caches off: every operation searches and updates the tree, with
// `range(0)` other ranges live.
void BM_IovaAllocFreeTree(benchmark::State& state) {
  host::IovaConfig c;
  c.cached_orders = 0;
  host::IovaAllocator a(c);
  for (std::int64_t i = 0; i < state.range(0); ++i) (void)a.alloc(0, 1, kLimit);
  for (auto _ : state) {
    const std::uint64_t pfn = a.alloc(0, 4, kLimit).value();
    benchmark::DoNotOptimize(pfn);
    (void)a.free(0, pfn, 4);
  }
}
BENCHMARK(BM_IovaAllocFreeTree)->Arg(16)->Arg(4096);

struct Machine {
  explicit Machine(host::UnmapPolicy policy)
      : memory(46),
        frames(memory, 0x1000'0000, 64ull << 20),
        unit(memory, iommu::UnitConfig{}),
        driver(unit, memory, frames) {
    (void)driver.init();
    (void)driver.enable_translation();
    const std::uint16_t did = driver.create_domain().value();
    (void)driver.attach(did, model::SourceId::make(0, 3, 0));
    host::DmaApiConfig cfg;
    cfg.policy = policy;
    api = std::make_unique<host::DmaApi>(driver, did, cfg);
  }
  model::PhysicalMemory memory;
  model::FrameAllocator frames;
  iommu::RemappingUnit unit;
  host::VtdDriver driver;
  std::unique_ptr<host::DmaApi> api;
};

void map_unmap(benchmark::State& state, host::UnmapPolicy policy) {
  Machine m(policy);
  model::Cycle now = 0;
  for (auto _ : state) {
    now += 1000;  // 0.5 us per packet at 2 GHz: the 10 ms timer fires every 20000 ops
    const std::uint64_t bus =
        m.api->map_single(0, 0x4000'0000, 1500, host::DmaDirection::kFromDevice, now).value();
    benchmark::DoNotOptimize(bus);
    (void)m.api->unmap_single(0, bus, 1500, now);
  }
  state.counters["invalidations"] = benchmark::Counter(
      static_cast<double>(m.unit.stats().iotlb_inv_page + m.unit.stats().iotlb_inv_domain),
      benchmark::Counter::kAvgIterations);
}
void BM_MapUnmapStrict(benchmark::State& state) {
  map_unmap(state, host::UnmapPolicy::kStrict);
}
void BM_MapUnmapDeferred(benchmark::State& state) {
  map_unmap(state, host::UnmapPolicy::kDeferred);
}
BENCHMARK(BM_MapUnmapStrict);
BENCHMARK(BM_MapUnmapDeferred);

}  // namespace
