// Every example scenario under scenarios/ loads and runs briefly: the measured request count is
// exact, nothing faults, and each one shows the behaviour it was written to show.
#include <gtest/gtest.h>

#include <string>

#include "workload/report.h"
#include "workload/runner.h"
#include "workload/scenario.h"

namespace vtdsim::workload {
namespace {

RunResult run_file(const std::string& name, std::uint64_t records = 3000,
                   std::uint64_t warmup = 1000) {
  auto s = load_scenario(std::string(VTDSIM_SCENARIO_DIR) + "/" + name);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  if (!s) return {};
  s->run.records = records;
  s->run.warmup = warmup;
  auto runner = Runner::create(*s);
  EXPECT_TRUE(runner.has_value()) << (runner ? "" : runner.error().message);
  if (!runner) return {};
  auto r = (*runner)->run();
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  if (!r) return {};
  if (std::getenv("VTDSIM_PRINT") != nullptr) std::printf("%s\n", format_text(*r).c_str());
  EXPECT_EQ(r->events.dma, records);
  EXPECT_EQ(r->events.dma_faults, 0u);
  EXPECT_EQ(r->counters.remap.translations, records);
  return *r;
}

TEST(ScenarioFiles, NicRxStrictInvalidatesEveryUnmap) {
  const RunResult r = run_file("nic_rx_strict.toml");
  EXPECT_GT(r.events.unmaps, 0u);
  EXPECT_EQ(r.counters.remap.iotlb_inval_page, r.events.unmaps);
  EXPECT_EQ(r.counters.remap.iotlb_inval_domain, 0u);
}

TEST(ScenarioFiles, NicRxDeferredBatchesInvalidations) {
  const RunResult r = run_file("nic_rx_deferred.toml", 20000, 1000);
  EXPECT_GT(r.events.unmaps, 0u);
  EXPECT_EQ(r.counters.remap.iotlb_inval_page, 0u);
  EXPECT_LT(r.counters.remap.iotlb_inval_domain * 100, r.events.unmaps);
}

TEST(ScenarioFiles, NicRxPagePoolNeverUnmaps) {
  const RunResult r = run_file("nic_rx_pagepool.toml");
  EXPECT_EQ(r.events.unmaps, 0u);
  EXPECT_EQ(r.events.maps, 0u);
  EXPECT_EQ(r.counters.remap.iotlb_inval_page + r.counters.remap.iotlb_inval_domain, 0u);
}

TEST(ScenarioFiles, NicRx2MiBBuffersHitSuperpages) {
  const RunResult r = run_file("nic_rx_2m.toml");
  // Per packet: the frame lands in a 2 MiB page, the completion in a 4 KiB ring page.
  EXPECT_GE(r.counters.remap.iotlb_hit_2m * 2 + 64, r.events.dma);
  EXPECT_EQ(r.events.maps + r.events.unmaps, 0u);
}

TEST(ScenarioFiles, NicTxTsoMapsHeaderAndFragments) {
  const RunResult r = run_file("nic_tx_tso.toml");
  EXPECT_GT(r.events.maps, 0u);
}

TEST(ScenarioFiles, NvmeRandomReadOnItsOwnUnit) {
  const RunResult r = run_file("nvme_randread.toml");
  EXPECT_GT(r.events.maps, 0u);
  EXPECT_EQ(r.counters.remap.iotlb_inval_page, r.events.unmaps);
}

TEST(ScenarioFiles, NvmeSequentialRead) {
  const RunResult r = run_file("nvme_seqread.toml");
  EXPECT_GT(r.events.maps, 0u);
}

TEST(ScenarioFiles, StreamOnSuperpages) {
  const RunResult r = run_file("stream_superpages.toml");
  EXPECT_EQ(r.counters.remap.iotlb_hit_2m, r.counters.remap.iotlb_hit);
}

TEST(ScenarioFiles, ZipfWithASmallIotlbMisses) {
  const RunResult r = run_file("zipf_small_iotlb.toml");
  EXPECT_GT(r.counters.remap.iotlb_miss, r.events.dma / 10);
}

TEST(ScenarioFiles, SharedUnitMixUsesThreeDomains) {
  const RunResult r = run_file("shared_unit_mix.toml");
  EXPECT_GT(r.counters.remap.ctxt_cache_lookup, 0u);
}

}  // namespace
}  // namespace vtdsim::workload
