#include <benchmark/benchmark.h>

#include "model/physical_memory.h"

static void BM_Placeholder(benchmark::State& state) {
  vtdsim::model::PhysicalMemory mem(40);
  (void)mem.write<std::uint64_t>(0x1000, 1);
  std::uint64_t v = 0;
  for (auto _ : state) {
    mem.read_into(0x1000, v);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_Placeholder);
