// `vtdsim fit`: synthetic measurements generated from known costs are recovered exactly
// (latency and throughput targets, with and without a fixed cost); noisy data gives the exact
// residuals; bad CSV names file:line:column; dependent columns are an error.
#include "tools/fit.h"

#include <cmath>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "golden.h"

namespace vtdsim::tools {
namespace {

// Rows of (iotlb, pwc, memory_read) counts with latency = 3·iotlb + 5·pwc + 170·reads [+ 11].
std::string synthetic(bool throughput, double fixed = 0.0) {
  std::string csv = "# synthetic\niotlb_lookup, pwc_lookup, memory_read, ";
  csv += throughput ? "throughput\n" : "latency\n";
  const int counts[][3] = {{1, 0, 0}, {1, 3, 4}, {1, 2, 1}, {2, 3, 4}, {1, 1, 2}, {1, 3, 1}};
  for (const auto& c : counts) {
    const double latency = 3.0 * c[0] + 5.0 * c[1] + 170.0 * c[2] + fixed;
    const double value = throughput ? 2.0e9 / latency : latency;
    csv += fmt::format("{},{},{},{}\n", c[0], c[1], c[2], value);
  }
  return csv;
}

TEST(Fit, RecoversLatencyCostsExactly) {
  auto r = fit_csv(synthetic(false), "syn.csv", FitOptions{});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->parameters, (std::vector<std::string>{"iotlb_lookup", "pwc_lookup", "memory_read"}));
  EXPECT_NEAR(r->values[0], 3.0, 1e-9);
  EXPECT_NEAR(r->values[1], 5.0, 1e-9);
  EXPECT_NEAR(r->values[2], 170.0, 1e-9);
  EXPECT_LT(r->rms, 1e-9);
  EXPECT_EQ(r->lines.front(), 3u);
  testing::expect_golden("fit_exact", format_fit(*r, "syn.csv"));
}

TEST(Fit, RecoversFromThroughputWithIntercept) {
  FitOptions o;
  o.intercept = true;
  auto r = fit_csv(synthetic(true, 11.0), "tp.csv", o);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->parameters.back(), "fixed");
  EXPECT_NEAR(r->values[0], 3.0, 1e-6);
  EXPECT_NEAR(r->values[1], 5.0, 1e-6);
  EXPECT_NEAR(r->values[2], 170.0, 1e-6);
  EXPECT_NEAR(r->values[3], 11.0, 1e-6);
  EXPECT_EQ(r->target, "throughput");
}

TEST(Fit, ResidualsOfInconsistentData) {
  // One parameter, y = c·x: rows (1, 10), (1, 11), (1, 15) → c = 12, residuals -2, -1, +3.
  auto r = fit_csv("iotlb_lookup,latency\n1,10\n1,11\n1,15\n", "n.csv", FitOptions{});
  ASSERT_TRUE(r.has_value());
  EXPECT_NEAR(r->values[0], 12.0, 1e-12);
  EXPECT_NEAR(r->rms, std::sqrt(14.0 / 3.0), 1e-12);
  EXPECT_NEAR(r->max_abs, 3.0, 1e-12);
  EXPECT_EQ(r->max_line, 4u);
  EXPECT_EQ(format_fit(*r, "n.csv"),
            "fit of 1 parameter to 3 rows of n.csv (target: latency, cycles per request)\n"
            "  parameter                      fitted      default\n"
            "  iotlb_lookup                       12            2\n"
            "residuals: RMS 2.160 cycles, max |residual| 3 cycles (line 4)\n");
}

TEST(Fit, BadCsvNamesFileLineColumn) {
  const auto err = [](std::string text) {
    auto r = fit_csv(text, "m.csv", FitOptions{});
    EXPECT_FALSE(r.has_value());
    return r ? std::string() : r.error().message;
  };
  EXPECT_EQ(err("iotlb_lookup,latency\n1,2\n1, x\n"),
            "m.csv:3:4: 'x' is not a non-negative number");
  EXPECT_EQ(err("iotlb_lookup,latency\n1,2,3\n"), "m.csv:2:5: 3 fields, the header has 2");
  EXPECT_EQ(err("# c\niotlb_lookup, bogus, latency\n"),
            "m.csv:2:15: unknown column 'bogus' (events: iotlb_lookup, context_cache_lookup, "
            "pasid_cache_lookup, pwc_lookup, memory_read, memory_read_llc, memory_read_dram, "
            "memory_write, iec_lookup, irte_fetch, invalidation_descriptor, fault_record; target: "
            "latency or throughput)");
  EXPECT_EQ(err("iotlb_lookup,pwc_lookup\n"),
            "m.csv:1:1: no target column (latency or throughput)");
  EXPECT_EQ(err("iotlb_lookup,latency,throughput\n"),
            "m.csv:1:22: a second target column (latency/throughput)");
  EXPECT_EQ(err("iotlb_lookup,latency\n-1,2\n"), "m.csv:2:1: '-1' is not a non-negative number");
  EXPECT_EQ(err(""), "m.csv:1:1: empty CSV (no header)");
  EXPECT_EQ(err("iotlb_lookup,pwc_lookup,latency\n1,2,3\n"),
            "m.csv: 1 data rows for 2 parameters: need at least as many rows");
  EXPECT_EQ(err("iotlb_lookup,pwc_lookup,latency\n1,2,3\n2,4,6\n3,6,9\n"),
            "m.csv: the event columns are linearly dependent (rank 1 of 2): vary the counts "
            "independently");
}

TEST(Fit, MissingFile) {
  FitOptions o;
  o.csv = "/nonexistent/x.csv";
  EXPECT_EQ(fit(o).error().message, "/nonexistent/x.csv: cannot open the CSV file");
}

}  // namespace
}  // namespace vtdsim::tools
