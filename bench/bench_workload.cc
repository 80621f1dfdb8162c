// workload/ throughput: binary trace replay through Runner::replay when the IOTLB mostly hits
// (target: at least 20 million DMA records/s), the same replay with the IOTLB thrashing, and
// generator-driven runs (requests per second including the host map/unmap work).
// Run: bench_workload --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <cstdint>
#include <cstdio>
#include <string>

#include <benchmark/benchmark.h>

#include "workload/runner.h"
#include "workload/scenario.h"
#include "workload/trace.h"

namespace {

using namespace vtdsim;
using namespace vtdsim::workload;

constexpr std::uint64_t kRecords = 2'000'000;

// A binary trace: `pages` pages mapped for 03:00.0, then kRecords 64-byte reads cycling over
// them. 64 pages fit the default 128-entry IOTLB (hits); 4096 pages do not.
std::string make_trace(std::uint64_t pages) {
  const std::string path = "/tmp/vtdsim_bench_replay_" + std::to_string(pages) + ".bin";
  auto w = TraceWriter::create(path, TraceFormat::kBinary).value();
  TraceRecord m;
  m.kind = TraceKind::kMap;
  m.source_id = model::SourceId::make(3, 0, 0);
  m.address = 0x100000;
  m.size = pages * model::kPageSize;
  m.hpa = 0x2000000;
  m.permissions = {true, true, false};
  (void)w->write(m);
  TraceRecord d;
  d.kind = TraceKind::kDma;
  d.source_id = m.source_id;
  d.size = 64;
  for (std::uint64_t i = 0; i < kRecords; ++i) {
    d.time = i;
    d.address = 0x100000 + (i % pages) * model::kPageSize + (i / pages % 64) * 64;
    (void)w->write(d);
  }
  (void)w->close();
  return path;
}

Scenario scenario() {
  return parse_scenario("[run]\nrecords = 100000000\noffered_gbps = 0\n", "bench.toml").value();
}

void replay_bench(benchmark::State& state, std::uint64_t pages) {
  static std::string paths[2];
  std::string& path = paths[pages == 64 ? 0 : 1];
  if (path.empty()) path = make_trace(pages);
  const Scenario s = scenario();
  std::uint64_t records = 0;
  double hit_rate = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto runner = Runner::create(s).value();
    state.ResumeTiming();
    auto r = runner->replay(path);
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      return;
    }
    records += r->events.dma;
    hit_rate = static_cast<double>(r->counters.remap.iotlb_hit) /
               static_cast<double>(r->counters.remap.iotlb_lookup);
    state.PauseTiming();
    runner.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(records));
  state.counters["iotlb_hit_rate"] = hit_rate;
}

void BM_ReplayBinaryIotlbHits(benchmark::State& state) {
  replay_bench(state, 64);
}
BENCHMARK(BM_ReplayBinaryIotlbHits)->Unit(benchmark::kMillisecond);

void BM_ReplayBinaryIotlbMisses(benchmark::State& state) {
  replay_bench(state, 4096);
}
BENCHMARK(BM_ReplayBinaryIotlbMisses)->Unit(benchmark::kMillisecond);

void generator_bench(benchmark::State& state, const char* text) {
  const Scenario s = parse_scenario(text, "bench.toml").value();
  std::uint64_t records = 0;
  for (auto _ : state) {
    auto runner = Runner::create(s).value();
    auto r = runner->run();
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      return;
    }
    records += r->events.dma;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(records));
}

void BM_GenerateNicRxDeferred(benchmark::State& state) {
  generator_bench(state,
                  "[host]\npolicy = \"deferred\"\n[workload]\nkind = \"nic_rx\"\n"
                  "[run]\nrecords = 500000\n");
}
BENCHMARK(BM_GenerateNicRxDeferred)->Unit(benchmark::kMillisecond);

void BM_GenerateNicRxStrict(benchmark::State& state) {
  generator_bench(state,
                  "[host]\npolicy = \"strict\"\n[workload]\nkind = \"nic_rx\"\n"
                  "[run]\nrecords = 500000\n");
}
BENCHMARK(BM_GenerateNicRxStrict)->Unit(benchmark::kMillisecond);

void BM_GenerateZipf(benchmark::State& state) {
  generator_bench(state,
                  "[workload]\nkind = \"random\"\ndistribution = \"zipf\"\n"
                  "[run]\nrecords = 1000000\n");
}
BENCHMARK(BM_GenerateZipf)->Unit(benchmark::kMillisecond);

}  // namespace
