// `vtdsim run`, `replay` and `demo`: golden report of a small scenario, same seed → the same
// bytes (text, JSON, CSV), a different seed → different output, --set overrides going through
// the scenario checks, replay of a written trace, the Chrome trace-event timeline, and errors.
#include "tools/run.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "golden.h"
#include "workload/trace.h"

namespace vtdsim::tools {
namespace {

RunCommandOptions small(ReportFormat format = ReportFormat::kText) {
  RunCommandOptions o;
  o.scenario = testing::data_path("small.toml");
  o.format = format;
  return o;
}

std::string ok(const Expected<std::string>& text) {
  EXPECT_TRUE(text.has_value()) << (text ? "" : text.error().message);
  return text ? *text : "";
}

TEST(Run, GoldenReport) {
  testing::expect_golden("run_small", ok(run_command(small())));
}

TEST(Run, SameSeedSameBytes) {
  for (const auto format : {ReportFormat::kText, ReportFormat::kJson, ReportFormat::kCsv}) {
    const std::string a = ok(run_command(small(format)));
    const std::string b = ok(run_command(small(format)));
    EXPECT_FALSE(a.empty());
    EXPECT_EQ(a, b);
  }
  RunCommandOptions other = small(ReportFormat::kCsv);
  other.sets = {"run.seed=2"};
  EXPECT_NE(ok(run_command(other)), ok(run_command(small(ReportFormat::kCsv))));
}

TEST(Run, OverridesAreCheckedLikeTheFile) {
  RunCommandOptions o = small(ReportFormat::kJson);
  o.sets = {"run.records=100", "run.warmup=0"};
  const auto j = nlohmann::json::parse(ok(run_command(o)));
  EXPECT_EQ(j["metrics"]["dma.requests"], 100);
  o.sets = {"unit.iotlb.wayz=4"};
  auto bad = run_command(o);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("wayz"), std::string::npos) << bad.error().message;
  o.sets = {"run.records"};
  EXPECT_EQ(run_command(o).error().message, "--set 'run.records': expected key=value");
}

TEST(Run, MissingScenarioNamesTheFile) {
  RunCommandOptions o;
  o.scenario = "/nonexistent/s.toml";
  auto r = run_command(o);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("/nonexistent/s.toml"), std::string::npos);
}

TEST(Replay, ReplaysAWrittenTrace) {
  const std::string path = ::testing::TempDir() + "replay_test.trace";
  std::vector<workload::TraceRecord> records;
  workload::TraceRecord map;
  map.kind = workload::TraceKind::kMap;
  map.source_id = model::SourceId::make(3, 0, 0);
  map.address = 0x10000;
  map.size = 0x1000;
  map.hpa = 0x2000000;
  map.permissions = {true, true, false};
  records.push_back(map);
  for (int i = 0; i < 10; ++i) {
    workload::TraceRecord dma;
    dma.time = static_cast<model::Cycle>(10 * (i + 1));
    dma.source_id = map.source_id;
    dma.address = 0x10000 + 64 * static_cast<std::uint64_t>(i);
    dma.size = 64;
    records.push_back(dma);
  }
  ASSERT_TRUE(workload::write_trace(path, workload::TraceFormat::kText, records));
  RunCommandOptions o = small(ReportFormat::kJson);
  o.trace = path;
  o.sets = {"run.warmup=0"};
  const auto j = nlohmann::json::parse(ok(replay_command(o)));
  EXPECT_EQ(j["metrics"]["dma.requests"], 10);
  EXPECT_EQ(j["metrics"]["dma.faults"], 0);
  EXPECT_EQ(j["metrics"]["host.maps"], 1);
  std::remove(path.c_str());
  o.scenario.clear();
  EXPECT_EQ(replay_command(o).error().message, "--scenario: required (the machine to replay on)");
}

TEST(Run, TimelineIsChromeTraceJson) {
  RunCommandOptions o = small(ReportFormat::kCsv);
  o.sets = {"run.records=200", "run.warmup=0"};
  o.timeline = ::testing::TempDir() + "timeline_test.json";
  ok(run_command(o));
  std::ifstream in(o.timeline);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const auto j = nlohmann::json::parse(buffer.str());
  int dma = 0;
  int host = 0;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "M") continue;
    EXPECT_EQ(e["ph"], "i");
    (e["cat"] == "dma" ? dma : host) += 1;
  }
  EXPECT_EQ(dma, 200);
  EXPECT_GT(host, 0);
  std::remove(o.timeline.c_str());
  std::ifstream leftover(o.timeline + ".events.tmp");
  EXPECT_FALSE(leftover.good());
}

TEST(Demo, RunsAVmWithAPassthroughNic) {
  RunCommandOptions o;
  o.format = ReportFormat::kJson;
  o.sets = {"packets=64"};
  const auto j = nlohmann::json::parse(ok(demo_command(o)));
  EXPECT_EQ(j["scenario"], "passthrough_demo");
  EXPECT_EQ(j["packets_received"], 64);
  EXPECT_EQ(j["bytes_received"], 64 * 1500);
  EXPECT_EQ(j["unit_faults"], 0);
  EXPECT_EQ(j["interrupts"]["posted"], 64);
  EXPECT_EQ(j["interrupts"]["vcpu_vectors"], 64);
}

TEST(Demo, NoPostedRemapsAndTextReportNamesIt) {
  RunCommandOptions o;
  o.sets = {"packets=16", "posted=false"};
  const std::string text = ok(demo_command(o));
  EXPECT_NE(text.find("remapped (host handler + irqfd)"), std::string::npos);
  EXPECT_NE(text.find("packets received"), std::string::npos);
}

TEST(Demo, UnknownKnobIsAnError) {
  RunCommandOptions o;
  o.sets = {"run.records=5"};
  auto r = demo_command(o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "--set run.records: the demo has no such knob (packets, packet_size, queues, posted, "
            "seed)");
}

}  // namespace
}  // namespace vtdsim::tools
