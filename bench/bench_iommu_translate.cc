// DmaRemapper::translate speed with stats and timing on: IOTLB hits on 4 KiB and 2 MiB entries
// and hits rotating over 64 pages (target ≤ 8 ns each), and a miss with a cold 4-level walk
// with every cache invalidated each iteration (target ≤ 150 ns). Scalable mode: PASID-tagged
// IOTLB hits (same 8 ns budget), cold first-stage and nested (4 over 4 levels) misses. Tables
// are real, in PhysicalMemory.
#include <benchmark/benchmark.h>

#include "iommu/dma_remapper.h"
#include "tests/iommu/sm_table_builder.h"
#include "tests/iommu/table_builder.h"

namespace {

using namespace vtdsim;
using iommu::test_support::ContextSpec;
using iommu::test_support::kRW;
using iommu::test_support::TranslationRig;

constexpr model::SourceId kSid = model::SourceId::make(2, 0, 0);
constexpr std::uint64_t kPages = 64;

struct Setup {
  Setup() {
    pt = rig.tables.alloc_table();
    rig.tables.set_context(kSid, ContextSpec{.aw = 2, .did = 3, .slptptr = pt});
    rig.build();
    for (std::uint64_t i = 0; i < kPages; ++i) {
      rig.tables.map(pt, 4, 0x1000'0000 + i * 0x1000, 0x2000'0000 + i * 0x1000, 0x1000, kRW);
    }
    rig.tables.map(pt, 4, 0x4000'0000, 0x8000'0000, 0x20'0000, kRW);
  }
  iommu::RemapResult translate(std::uint64_t iova, model::Cycle arrival) {
    model::DmaRequest req;
    req.source_id = kSid;
    req.address = iova;
    req.arrival = arrival;
    return rig.remapper->translate(req, rig.root);
  }
  TranslationRig rig;
  std::uint64_t pt = 0;
};

void run_hits(benchmark::State& state, std::uint64_t iova) {
  Setup s;
  (void)s.translate(iova, 0);  // warm
  model::DmaRequest req;
  req.source_id = kSid;
  req.address = iova;
  model::Cycle t = 10'000;
  for (auto _ : state) {
    req.arrival = t++;
    const iommu::RemapResult r = s.rig.remapper->translate(req, s.rig.root);
    benchmark::DoNotOptimize(r.translation.hpa);
  }
  if (s.rig.stats().iotlb_hit != static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("not every iteration hit the IOTLB");
  }
}

void BM_TranslateIotlbHit4K(benchmark::State& state) {
  run_hits(state, 0x1000'0123);
}
BENCHMARK(BM_TranslateIotlbHit4K);

void BM_TranslateIotlbHit2M(benchmark::State& state) {
  run_hits(state, 0x4012'3456);
}
BENCHMARK(BM_TranslateIotlbHit2M);

// Hits rotating over 64 cached 4 KiB pages: every request is to another page than the one
// before, so each one searches the IOTLB arrays (no repeated-page shortcut).
void BM_TranslateIotlbHitRotating(benchmark::State& state) {
  Setup s;
  for (std::uint64_t i = 0; i < kPages; ++i) (void)s.translate(0x1000'0000 + i * 0x1000, 0);
  model::DmaRequest req;
  req.source_id = kSid;
  model::Cycle t = 10'000;
  std::uint64_t i = 0;
  for (auto _ : state) {
    req.address = 0x1000'0000 + (i++ % kPages) * 0x1000;
    req.arrival = t++;
    const iommu::RemapResult r = s.rig.remapper->translate(req, s.rig.root);
    benchmark::DoNotOptimize(r.translation.hpa);
  }
  if (s.rig.stats().iotlb_hit != static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("not every iteration hit the IOTLB");
  }
}
BENCHMARK(BM_TranslateIotlbHitRotating);

void BM_TranslateColdWalk4Level(benchmark::State& state) {
  Setup s;
  model::DmaRequest req;
  req.source_id = kSid;
  req.address = 0x1000'0040;
  model::Cycle t = 0;
  for (auto _ : state) {
    s.rig.remapper->invalidate_all();
    req.arrival = t;
    t += 1000;
    const iommu::RemapResult r = s.rig.remapper->translate(req, s.rig.root);
    benchmark::DoNotOptimize(r.translation.hpa);
  }
  const auto n = static_cast<std::uint64_t>(state.iterations());
  if (s.rig.stats().pw_mem_reads != 4 * n || s.rig.stats().ctxt_fetch_reads != 2 * n) {
    state.SkipWithError("not every iteration fetched the context and walked 4 levels");
  }
}
BENCHMARK(BM_TranslateColdWalk4Level);

// --- scalable mode ---

constexpr std::uint32_t kPasid = 9;

struct SmSetup {
  explicit SmSetup(unsigned pgtt) {
    using namespace iommu::test_support;
    const std::uint64_t dir = rig.tables.alloc_table();
    rig.sm.set_context(kSid, SmContextSpec{.pasid_dir = dir});
    const std::uint64_t fs = rig.tables.alloc_table();
    const std::uint64_t ss = rig.tables.alloc_table();
    const std::uint64_t first = fs;
    for (std::uint64_t i = 0; i < kPages; ++i) {
      rig.sm.map_fs(fs, 4, 0x1000'0000 + i * 0x1000, 0x2000'0000 + i * 0x1000, 0x1000, kFsUser);
    }
    const std::uint64_t last = rig.tables.alloc_table();
    if (pgtt == 3) {  // nested: first-stage tables identity-mapped, output GPAs mapped
      for (std::uint64_t p = first; p < last; p += 0x1000) rig.tables.map(ss, 4, p, p, 0x1000, kRW);
      for (std::uint64_t i = 0; i < kPages; ++i) {
        rig.tables.map(ss, 4, 0x2000'0000 + i * 0x1000, 0x3000'0000 + i * 0x1000, 0x1000, kRW);
      }
    }
    rig.sm.set_pasid(dir, kPasid,
                     PasidSpec{.pgtt = pgtt, .aw = 2, .ssptptr = ss, .did = 5, .fsptptr = fs});
    rig.build();
  }
  iommu::RemapResult translate(std::uint64_t iova, model::Cycle arrival) {
    model::DmaRequest req = iommu::test_support::SmRig::with_pasid(kSid, kPasid, iova);
    req.arrival = arrival;
    return rig.remapper->translate(req, rig.root);
  }
  iommu::test_support::SmRig rig;
};

void BM_TranslatePasidIotlbHit(benchmark::State& state) {
  SmSetup s(1);
  (void)s.translate(0x1000'0123, 0);
  model::DmaRequest req = iommu::test_support::SmRig::with_pasid(kSid, kPasid, 0x1000'0123);
  model::Cycle t = 10'000;
  for (auto _ : state) {
    req.arrival = t++;
    const iommu::RemapResult r = s.rig.remapper->translate(req, s.rig.root);
    benchmark::DoNotOptimize(r.translation.hpa);
  }
  if (s.rig.stats().iotlb_hit != static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("not every iteration hit the IOTLB");
  }
}
BENCHMARK(BM_TranslatePasidIotlbHit);

void BM_TranslatePasidIotlbHitRotating(benchmark::State& state) {
  SmSetup s(1);
  for (std::uint64_t i = 0; i < kPages; ++i) (void)s.translate(0x1000'0000 + i * 0x1000, 0);
  model::DmaRequest req = iommu::test_support::SmRig::with_pasid(kSid, kPasid, 0);
  model::Cycle t = 10'000;
  std::uint64_t i = 0;
  for (auto _ : state) {
    req.address = 0x1000'0000 + (i++ % kPages) * 0x1000;
    req.arrival = t++;
    const iommu::RemapResult r = s.rig.remapper->translate(req, s.rig.root);
    benchmark::DoNotOptimize(r.translation.hpa);
  }
  if (s.rig.stats().iotlb_hit != static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("not every iteration hit the IOTLB");
  }
}
BENCHMARK(BM_TranslatePasidIotlbHitRotating);

// Cold miss: every cache dropped each iteration (root, context, PASID directory and entry,
// then the walk; A bits are already set after the first iteration).
void run_sm_cold(benchmark::State& state, unsigned pgtt, std::uint64_t reads) {
  SmSetup s(pgtt);
  model::Cycle t = 0;
  for (auto _ : state) {
    s.rig.remapper->invalidate_all();
    const iommu::RemapResult r = s.translate(0x1000'0040, t);
    t += 10'000;
    benchmark::DoNotOptimize(r.translation.hpa);
  }
  const auto n = static_cast<std::uint64_t>(state.iterations());
  if (s.rig.stats().pw_mem_reads != reads * n || s.rig.stats().faults != 0) {
    state.SkipWithError("unexpected walk length or fault");
  }
}

void BM_TranslateFirstStageColdWalk(benchmark::State& state) {
  run_sm_cold(state, 1, 4);
}
BENCHMARK(BM_TranslateFirstStageColdWalk);

// Nested 4-over-4: 4 first-stage reads + the second-stage walks of the table and output GPAs
// (13 reads: the second-stage paging-structure caches fill during the walk).
void BM_TranslateNestedColdWalk(benchmark::State& state) {
  run_sm_cold(state, 3, 13);
}
BENCHMARK(BM_TranslateNestedColdWalk);

}  // namespace
