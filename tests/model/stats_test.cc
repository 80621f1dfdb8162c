// Stats: deltas between snapshots, flattening into rows, text table and JSON output.
#include "model/stats.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/set_assoc_cache.h"

namespace vtdsim::model {
namespace {

struct WalkStats {
  std::uint64_t walks = 0;
  std::uint64_t reads = 0;
  static constexpr auto kFields = std::to_array<StatField<WalkStats>>({
      {"walks", "walks", "page walks started", &WalkStats::walks},
      {"reads", "bytes", "bytes read by walks", &WalkStats::reads},
  });
};

TEST(Stats, DeltaOfCacheStats) {
  const CacheStats later{10, 7, 3, 5, 2, 1};
  const CacheStats earlier{4, 3, 1, 2, 0, 1};
  const CacheStats d = stats_delta(later, earlier);
  EXPECT_EQ(d.lookups, 6u);
  EXPECT_EQ(d.hits, 4u);
  EXPECT_EQ(d.misses, 2u);
  EXPECT_EQ(d.insertions, 3u);
  EXPECT_EQ(d.evictions, 2u);
  EXPECT_EQ(d.invalidations, 0u);
}

TEST(Stats, DeltaExcludesWarmUp) {
  SetAssocCache<std::uint64_t, int> c(CacheGeometry{1, 4});
  for (std::uint64_t k = 0; k < 4; ++k) {
    (void)c.lookup(k);
    c.insert(k, 0);
  }
  const CacheStats warm = c.stats();
  for (std::uint64_t k = 0; k < 4; ++k) (void)c.lookup(k);
  c.insert(9, 0);
  const CacheStats d = stats_delta(c.stats(), warm);
  EXPECT_EQ(d.lookups, 4u);
  EXPECT_EQ(d.hits, 4u);
  EXPECT_EQ(d.misses, 0u);
  EXPECT_EQ(d.insertions, 1u);
  EXPECT_EQ(d.evictions, 1u);
  EXPECT_EQ(d.invalidations, 0u);
}

TEST(Stats, CacheStatsListsEveryCounter) {
  ASSERT_EQ(CacheStats::kFields.size(), 6u);
  std::vector<StatRow> rows;
  append_stats(rows, "iotlb", CacheStats{1, 2, 3, 4, 5, 6});
  ASSERT_EQ(rows.size(), 6u);
  const std::array<const char*, 6> names{"iotlb.lookups",   "iotlb.hits",
                                         "iotlb.misses",    "iotlb.insertions",
                                         "iotlb.evictions", "iotlb.invalidations"};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].name, names[i]);
    EXPECT_EQ(rows[i].value, i + 1);
    EXPECT_FALSE(rows[i].unit.empty());
    EXPECT_FALSE(rows[i].description.empty());
  }
  EXPECT_EQ(rows[1].unit, "lookups");
  EXPECT_EQ(rows[1].description, "lookups that found the key");
}

TEST(Stats, AppendStatsPrefixes) {
  std::vector<StatRow> rows;
  append_stats(rows, "", WalkStats{1, 2});
  append_stats(rows, "unit0.pw", WalkStats{3, 4});
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].name, "walks");
  EXPECT_EQ(rows[1].name, "reads");
  EXPECT_EQ(rows[1].unit, "bytes");
  EXPECT_EQ(rows[1].description, "bytes read by walks");
  EXPECT_EQ(rows[1].value, 2u);
  EXPECT_EQ(rows[2].name, "unit0.pw.walks");
  EXPECT_EQ(rows[3].name, "unit0.pw.reads");
  EXPECT_EQ(rows[3].value, 4u);
}

TEST(Stats, TextTable) {
  std::vector<StatRow> rows;
  append_stats(rows, "pw", WalkStats{3, 12345678});
  // Columns: name (left, width 8), value (right, width 8), unit (left, width 5), description.
  const std::string expected =
      "name         value  unit   description\n"
      "pw.walks         3  walks  page walks started\n"
      "pw.reads  12345678  bytes  bytes read by walks\n";
  EXPECT_EQ(format_stats_table(rows), expected);
  EXPECT_EQ(format_stats_table({}), "name  value  unit  description\n");
}

TEST(Stats, Json) {
  std::vector<StatRow> rows;
  append_stats(rows, "pw", WalkStats{3, 12345678});
  EXPECT_EQ(stats_to_json(rows).dump(), R"({"pw.reads":12345678,"pw.walks":3})");
  EXPECT_EQ(stats_to_json(rows, true).dump(),
            R"({"pw.reads":{"description":"bytes read by walks","unit":"bytes","value":12345678},)"
            R"("pw.walks":{"description":"page walks started","unit":"walks","value":3}})");
  EXPECT_EQ(stats_to_json({}).dump(), "{}");
  // Counters above 2^53 survive exactly.
  std::vector<StatRow> big;
  append_stats(big, "", WalkStats{~std::uint64_t{0}, 0});
  EXPECT_EQ(stats_to_json(big)["walks"].get<std::uint64_t>(), ~std::uint64_t{0});
}

}  // namespace
}  // namespace vtdsim::model
