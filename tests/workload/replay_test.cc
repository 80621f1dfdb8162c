// Trace replay: host records go through the VT-d driver, DMA records through the unit, with
// exact statistics; a generator run written as a trace replays to the same unit statistics.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "workload/runner.h"
#include "workload/scenario.h"
#include "workload/trace.h"

namespace vtdsim::workload {
namespace {

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/vtdsim_replay_" + name;
}

Scenario scenario(const std::string& text) {
  auto s = parse_scenario(text, "r.toml");
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  return s ? *s : Scenario{};
}

Expected<RunResult> replay(const Scenario& s, const std::string& path) {
  auto runner = Runner::create(s);
  if (!runner) return tl::unexpected(runner.error());
  return (*runner)->replay(path);
}

TEST(Replay, SmallTextTraceGivesExactStatistics) {
  const std::string path = temp_path("small.txt");
  {
    std::ofstream f(path);
    f << "# two pages mapped, used, unmapped and invalidated\n"
         "0 map 03:00.0 0x1000 8192 0x200000 rw\n"
         "10 dma 03:00.0 r 0x1000 64\n"
         "20 dma 03:00.0 w 0x1040 64\n"
         "30 dma 03:00.0 r 0x2000 4096\n"
         "40 dma 03:00.0 r 0x1800 8\n"
         "50 unmap 03:00.0 0x1000 8192\n"
         "60 inval 03:00.0 0x1000 8192\n"
         "70 dma 03:00.0 r 0x1000 4\n"
         "80 dma 03:01.0 r 0x1000 4\n";
  }
  auto r = replay(scenario("[run]\narrival = \"trace\"\n"), path);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->events.dma, 6u);
  EXPECT_EQ(r->events.dma_bytes, 64u + 64 + 4096 + 8 + 4 + 4);
  EXPECT_EQ(r->events.dma_faults, 2u);
  EXPECT_EQ(r->events.maps, 1u);
  EXPECT_EQ(r->events.unmaps, 1u);
  EXPECT_EQ(r->events.invalidations, 1u);
  const auto& s = r->counters.remap;
  EXPECT_EQ(s.translations, 6u);
  EXPECT_EQ(s.ctxt_cache_miss, 2u);  // 03:00.0 once, 03:01.0 once
  EXPECT_EQ(s.iotlb_hit, 2u);        // 0x1040 and 0x1800 after the 0x1000 fill
  EXPECT_EQ(s.iotlb_miss, 3u);       // 0x1000, 0x2000, 0x1000 after the invalidation
  EXPECT_EQ(s.iotlb_inval_page, 1u);
  EXPECT_EQ(s.iotlb_inval_entries, 2u);
  EXPECT_EQ(s.fault_06, 1u);  // read of the unmapped page
  EXPECT_EQ(s.fault_02, 1u);  // 03:01.0 has no context entry
  EXPECT_EQ(r->first_arrival, 0u);
  EXPECT_GE(r->last_completion, 80u);
}

TEST(Replay, BadRecordsNameTheFileAndRecord) {
  const std::string path = temp_path("bad.txt");
  {
    std::ofstream f(path);
    f << "0 map 03:00.0 0x1000 4096 0x200000 rw\n5 dma 03:00.0 x 0x1000 4\n";
  }
  auto r = replay(scenario(""), path);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, path + ":2: access: 'x' is not r or w");

  const std::string path2 = temp_path("twice.txt");
  {
    std::ofstream f(path2);
    f << "0 map 03:00.0 0x1000 4096 0x200000 rw\n1 map 03:00.0 0x1000 4096 0x300000 r\n";
  }
  auto r2 = replay(scenario(""), path2);
  ASSERT_FALSE(r2.has_value());
  EXPECT_EQ(r2.error().message.rfind(path2 + ": record 1: map: ", 0), 0u) << r2.error().message;
}

void expect_same_unit_stats(const RunResult& a, const RunResult& b) {
  for (const auto& f : iommu::DmaRemapStats::kFields) {
    EXPECT_EQ(a.counters.remap.*(f.member), b.counters.remap.*(f.member)) << f.name;
  }
  EXPECT_EQ(a.events.dma, b.events.dma);
  EXPECT_EQ(a.events.maps, b.events.maps);
  EXPECT_EQ(a.events.unmaps, b.events.unmaps);
  EXPECT_EQ(a.events.invalidations, b.events.invalidations);
  EXPECT_EQ(a.latency.mean(), b.latency.mean());
  EXPECT_EQ(a.last_completion, b.last_completion);
}

void round_trip(const char* policy, TraceFormat format) {
  const std::string text = std::string("[machine]\ncpus = 2\n[host]\npolicy = \"") + policy +
                           "\"\nflush_queue_size = 16\n[workload]\nkind = \"nic_rx\"\n"
                           "queues = 2\nring_size = 64\nnapi_budget = 8\n[run]\n"
                           "records = 3000\nwarmup = 500\n";
  const Scenario s = scenario(text);
  const std::string path =
      temp_path(std::string(policy) + (format == TraceFormat::kBinary ? ".bin" : ".txt"));
  auto writer = TraceWriter::create(path, format);
  ASSERT_TRUE(writer.has_value());
  auto gen_runner = Runner::create(s);
  ASSERT_TRUE(gen_runner.has_value());
  RunOptions opts;
  opts.trace = writer->get();
  auto generated = (*gen_runner)->run(opts);
  ASSERT_TRUE(generated.has_value()) << generated.error().message;
  ASSERT_TRUE((*writer)->close().has_value());
  auto replayed = replay(s, path);
  ASSERT_TRUE(replayed.has_value()) << replayed.error().message;
  expect_same_unit_stats(*generated, *replayed);
  EXPECT_GT(generated->events.invalidations, 0u);
}

TEST(Replay, StrictGeneratorTraceReplaysToTheSameStatistics) {
  round_trip("strict", TraceFormat::kText);
}

TEST(Replay, DeferredGeneratorTraceReplaysToTheSameStatistics) {
  round_trip("deferred", TraceFormat::kBinary);
}

}  // namespace
}  // namespace vtdsim::workload
