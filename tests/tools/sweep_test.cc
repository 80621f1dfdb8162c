// `vtdsim sweep`: the grid order (first axis slowest), identical CSV whatever the number of
// threads, shards merged back into the full output (CSV and JSON), the SVG plot through
// gnuplot, scenario overrides on arrays of tables, and bad input.
#include "tools/sweep.h"

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "golden.h"
#include "tools/scenario_override.h"

namespace vtdsim::tools {
namespace {

SweepOptions grid(unsigned jobs) {
  SweepOptions o;
  o.scenario = testing::data_path("small.toml");
  o.sets = {"unit.iotlb.ways=1,2,4", "host.policy=strict,deferred", "run.records=1000"};
  o.jobs = jobs;
  return o;
}

std::string csv_of(const SweepOptions& o) {
  auto s = run_sweep(o, nullptr);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  return s ? sweep_csv(*s) : "";
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(Sweep, GridOrderAndThreadIndependence) {
  auto s = run_sweep(grid(3), nullptr);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->total, 6u);
  ASSERT_EQ(s->points.size(), 6u);
  EXPECT_EQ(s->points[1].values, (std::vector<std::string>{"1", "deferred", "1000"}));
  EXPECT_EQ(s->points[4].values, (std::vector<std::string>{"4", "strict", "1000"}));
  const std::string csv = sweep_csv(*s);
  EXPECT_EQ(csv, csv_of(grid(1)));
  EXPECT_TRUE(csv.starts_with("index,unit.iotlb.ways,host.policy,run.records,scenario,workload,"));
  // A larger IOTLB never hits less on this workload (strict, same seed).
  EXPECT_LE(s->points[0].result.counters.remap.iotlb_hit,
            s->points[4].result.counters.remap.iotlb_hit);
}

TEST(Sweep, ShardsMergeIntoTheFullOutput) {
  SweepOptions a = grid(1);
  a.shard = "0/2";
  SweepOptions b = grid(1);
  b.shard = "1/2";
  const std::string pa = write_temp("shard0.csv", csv_of(a));
  const std::string pb = write_temp("shard1.csv", csv_of(b));
  auto merged = merge_outputs({pb, pa});
  ASSERT_TRUE(merged.has_value()) << merged.error().message;
  EXPECT_EQ(*merged, csv_of(grid(2)));
  auto twice = merge_outputs({pa, pa});
  ASSERT_FALSE(twice.has_value());
  EXPECT_NE(twice.error().message.find("configuration 0 appears twice"), std::string::npos);

  auto sa = run_sweep(a, nullptr);
  auto sb = run_sweep(b, nullptr);
  auto full = run_sweep(grid(2), nullptr);
  const std::string ja = write_temp("shard0.json", sweep_json(*sa).dump(2) + "\n");
  const std::string jb = write_temp("shard1.json", sweep_json(*sb).dump(2) + "\n");
  auto mj = merge_outputs({ja, jb});
  ASSERT_TRUE(mj.has_value()) << mj.error().message;
  EXPECT_EQ(*mj, sweep_json(*full).dump(2) + "\n");
  EXPECT_EQ(merge_outputs({ja, pa}).error().message.substr(0, 10), pa.substr(0, 10));
}

TEST(Sweep, PlotWritesSvg) {
  auto s = run_sweep(grid(2), nullptr);
  ASSERT_TRUE(s.has_value());
  const std::string svg = ::testing::TempDir() + "sweep_test.svg";
  auto plotted = plot_csv(sweep_csv(*s), "iotlb.hit_rate", svg);
  if (!plotted && plotted.error().code == ErrorCode::kUnsupported) {
    GTEST_SKIP() << plotted.error().message;
  }
  ASSERT_TRUE(plotted.has_value()) << plotted.error().message;
  std::ifstream in(svg);
  std::stringstream buffer;
  buffer << in.rdbuf();
  EXPECT_NE(buffer.str().find("<svg"), std::string::npos);
  EXPECT_EQ(plot_csv(sweep_csv(*s), "no.such", svg).error().message,
            "--plot-metric 'no.such': no such column");
}

TEST(Sweep, BadInput) {
  SweepOptions o = grid(1);
  o.sets = {"unit.iotlb.ways"};
  EXPECT_EQ(run_sweep(o, nullptr).error().message,
            "--set 'unit.iotlb.ways': expected key=v1,v2,...");
  o.sets = {"unit.iotlb.ways=1,,2"};
  EXPECT_EQ(run_sweep(o, nullptr).error().message,
            "--set 'unit.iotlb.ways=1,,2': an empty value in the list");
  o = grid(1);
  o.shard = "2/2";
  EXPECT_EQ(run_sweep(o, nullptr).error().message, "--shard '2/2': expected i/N with 0 <= i < N");
  o = grid(1);
  o.sets = {"unit.iotlb.wayz=1,2"};
  auto r = run_sweep(o, nullptr);
  ASSERT_FALSE(r.has_value());
  const std::string& m = r.error().message;
  EXPECT_TRUE(m.starts_with("configuration 0 (unit.iotlb.wayz=1): ")) << m;
  EXPECT_NE(m.find("wayz"), m.rfind("wayz")) << m;  // named by the scenario check as well
}

TEST(ScenarioOverride, ArraysOfTablesAndTypes) {
  auto tree =
      workload::parse_toml("a = 1\n[[unit]]\nname = \"u0\"\n[[unit]]\nname = \"u1\"\n", "t.toml");
  ASSERT_TRUE(tree.has_value());
  ASSERT_TRUE(apply_override(*tree, {"unit.iotlb.ways", "4"}));
  ASSERT_TRUE(apply_override(*tree, {"host.policy", "strict"}));
  ASSERT_TRUE(apply_override(*tree, {"run.clock_ghz", "2.5"}));
  ASSERT_TRUE(apply_override(*tree, {"x.flag", "true"}));
  ASSERT_TRUE(apply_override(*tree, {"a", "\"7\""}));
  EXPECT_EQ(
      to_toml(*tree),
      "a = \"7\"\n"
      "unit = [{ name = \"u0\", iotlb = { ways = 4 } }, { name = \"u1\", iotlb = { ways = 4 } }]\n"
      "host = { policy = \"strict\" }\n"
      "run = { clock_ghz = 2.5 }\n"
      "x = { flag = true }\n");
  EXPECT_EQ(apply_override(*tree, {"a.b", "1"}).error().message, "--set a.b: 'a' is not a table");
  EXPECT_EQ(apply_override(*tree, {"a..b", "1"}).error().message, "--set a..b: empty key segment");
}

}  // namespace
}  // namespace vtdsim::tools
