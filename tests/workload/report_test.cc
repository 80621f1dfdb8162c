// Reports: golden text for a small fixed scenario, JSON and CSV shapes, and byte-identical
// output for the same seed (different output for another seed).
#include "workload/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>

#include "workload/runner.h"
#include "workload/scenario.h"

namespace vtdsim::workload {
namespace {

RunResult run_text(const std::string& text) {
  auto s = parse_scenario(text, "golden.toml");
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  if (!s) return {};
  auto runner = Runner::create(*s);
  EXPECT_TRUE(runner.has_value()) << (runner ? "" : runner.error().message);
  if (!runner) return {};
  auto r = (*runner)->run();
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? *r : RunResult{};
}

const char* kSmall =
    "[[unit]]\ninclude_pci_all = true\niotlb = { sets = 2, ways = 4 }\n"
    "[host]\npolicy = \"strict\"\n"
    "[workload]\nkind = \"random\"\nfootprint_mib = 1\ndistribution = \"zipf\"\n"
    "access_bytes = 256\n[run]\nrecords = 2000\nwarmup = 500\nseed = %d\noffered_gbps = 50\n";

std::string small(int seed) {
  char buf[512];
  std::snprintf(buf, sizeof buf, kSmall, seed);
  return buf;
}

// The golden file is tests/workload/golden/report_small.txt; after an intended change of the
// model, regenerate it with VTDSIM_UPDATE_GOLDEN=1 and review the diff.
TEST(Report, GoldenText) {
  const RunResult r = run_text(small(1));
  const std::string path = std::string(VTDSIM_GOLDEN_DIR) + "/report_small.txt";
  if (std::getenv("VTDSIM_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << format_text(r);
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << path;
  const std::string golden((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(format_text(r), golden);
}

TEST(Report, SameSeedSameBytesOtherSeedOtherBytes) {
  const RunResult a = run_text(small(1));
  const RunResult b = run_text(small(1));
  const RunResult c = run_text(small(2));
  EXPECT_EQ(format_text(a), format_text(b));
  EXPECT_EQ(format_json(a), format_json(b));
  EXPECT_EQ(format_csv({a}), format_csv({b}));
  EXPECT_NE(format_json(a), format_json(c));
}

TEST(Report, JsonHasMetricsAndCounters) {
  const RunResult r = run_text(small(1));
  const auto j = to_json(r);
  EXPECT_EQ(j["scenario"], "golden");
  EXPECT_EQ(j["metrics"]["dma.requests"], 2000u);
  EXPECT_EQ(j["metrics"]["dma.bytes"], 2000u * 256u);
  EXPECT_EQ(j["counters"]["dma_remap"]["translations"], 2000u);
  EXPECT_EQ(j["metrics"]["iotlb.hit_rate"].get<double>(),
            static_cast<double>(r.counters.remap.iotlb_hit) / 2000.0);
  EXPECT_TRUE(j["metrics"].contains("faults.06"));
}

TEST(Report, CsvRowsMatchTheHeader) {
  const RunResult r = run_text(small(1));
  const std::string csv = format_csv({r, r});
  const auto first_nl = csv.find('\n');
  const std::string header = csv.substr(0, first_nl);
  const std::string row = csv.substr(first_nl + 1, csv.find('\n', first_nl + 1) - first_nl - 1);
  EXPECT_EQ(std::count(header.begin(), header.end(), ','), std::count(row.begin(), row.end(), ','));
  EXPECT_EQ(header.rfind("scenario,workload,dma.requests,dma.bytes,", 0), 0u);
  EXPECT_EQ(row.rfind("golden,random 05:00.0 footprint=1MiB zipf s=0.99,2000,512000,", 0), 0u);
}

}  // namespace
}  // namespace vtdsim::workload
