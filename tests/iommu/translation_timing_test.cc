// Timing of the translation pipeline: lookup and walk latencies as exact sums of TimingParams,
// walks shared by concurrent misses to a page, hits under misses, and the page-walker limit.
#include <gtest/gtest.h>

#include "tests/iommu/table_builder.h"

namespace vtdsim::iommu {
namespace {

using model::Cycle;
using model::SourceId;
using test_support::ContextSpec;
using test_support::kRW;
using test_support::TranslationRig;

constexpr SourceId kA = SourceId::make(1, 0, 0);
constexpr SourceId kB = SourceId::make(2, 0, 0);
constexpr std::uint64_t k4K = 0x1000;

struct TranslationTiming : ::testing::Test {
  void SetUp() override {
    pta = rig.tables.alloc_table();
    rig.tables.set_context(kA, ContextSpec{.aw = 2, .did = 1, .slptptr = pta});
    ptb = rig.tables.alloc_table();
    rig.tables.set_context(kB, ContextSpec{.aw = 2, .did = 2, .slptptr = ptb});
    for (std::uint64_t i = 0; i < 4; ++i) {
      rig.tables.map(pta, 4, 0x10'0000 + i * k4K, 0xA000 + i * k4K, k4K, kRW);
      rig.tables.map(ptb, 4, 0x10'0000 + i * k4K, 0xB000 + i * k4K, k4K, kRW);
    }
  }
  const model::TimingParams& tp() const { return rig.config.timing; }
  Cycle cold4() const {
    return tp().context_cache_lookup + 2 * tp().table_read() + tp().iotlb_lookup + tp().pwc_lookup +
           4 * tp().table_read();
  }
  TranslationRig rig;
  std::uint64_t pta = 0, ptb = 0;
};

TEST_F(TranslationTiming, ColdFourLevelWalkIsTheSumOfItsSteps) {
  rig.build();
  const RemapResult r = rig.read(kA, 0x10'0000, 100);
  ASSERT_TRUE(r.translation.ok());
  EXPECT_EQ(cold4(), 246u);  // 2 + 2×40 + 2 + 2 + 4×40 with the default parameters
  EXPECT_EQ(r.translation.latency, cold4());
  EXPECT_EQ(r.translation.completion, 100 + cold4());
  EXPECT_EQ(rig.stats().pw_occupancy, 6 * tp().table_read() + tp().pwc_lookup);
}

TEST_F(TranslationTiming, HitAndPwcLatencies) {
  rig.build();
  rig.read(kA, 0x10'0000, 0);
  RemapResult r = rig.read(kA, 0x10'0008, 1000);
  EXPECT_EQ(r.translation.latency, tp().context_cache_lookup + tp().iotlb_lookup);
  r = rig.read(kA, 0x10'1000, 2000);  // level-2 PWC hit: one read
  EXPECT_EQ(r.translation.latency,
            tp().context_cache_lookup + tp().iotlb_lookup + tp().pwc_lookup + tp().table_read());
  EXPECT_EQ(r.translation.completion, 2000 + r.translation.latency);
}

TEST_F(TranslationTiming, DramServedWalks) {
  rig.config.timing.walks_snooped = false;
  rig.config.timing.iotlb_lookup = 3;
  rig.config.timing.context_cache_lookup = 5;
  rig.config.timing.pwc_lookup = 7;
  rig.build();
  const RemapResult r = rig.read(kA, 0x10'0000, 0);
  EXPECT_EQ(r.translation.latency, 5u + 3u + 7u + 6u * 200u);
}

TEST_F(TranslationTiming, MissesToAnInFlightPageShareTheWalk) {
  rig.build();
  const RemapResult a = rig.read(kA, 0x10'0000, 0);
  const RemapResult b = rig.read(kA, 0x10'0040, 10);  // arrives while the walk is in flight
  EXPECT_EQ(b.translation.completion, a.translation.completion);
  EXPECT_EQ(b.translation.latency, a.translation.completion - 10);
  EXPECT_EQ(rig.stats().pw_shared, 1u);
  EXPECT_EQ(rig.stats().pw_walks, 1u);
  // After the walk completed it is an ordinary hit.
  const RemapResult c = rig.read(kA, 0x10'0080, a.translation.completion + 1);
  EXPECT_EQ(c.translation.latency, tp().context_cache_lookup + tp().iotlb_lookup);
  EXPECT_EQ(rig.stats().pw_shared, 1u);
  EXPECT_EQ(rig.stats().iotlb_hit, 2u);
}

TEST_F(TranslationTiming, RequestsWaitForAnInFlightContextFetch) {
  rig.build();
  // A's walker job (context fetch, then walk) starts after its two lookups: the context is
  // filled at 2 + 2 + 2×40 = 84.
  rig.read(kA, 0x10'0000, 0);
  const RemapResult b = rig.read(kA, 0x10'1000, 10);  // context hit, PWC hit, one read
  // MODEL: its walk starts when the context it found was filled.
  EXPECT_EQ(b.translation.completion, tp().context_cache_lookup + tp().iotlb_lookup +
                                          2 * tp().table_read() + tp().pwc_lookup +
                                          tp().table_read());
  EXPECT_EQ(rig.stats().pw_shared, 1u);
}

TEST_F(TranslationTiming, HitsUnderMissesProceed) {
  rig.build();
  rig.read(kA, 0x10'0000, 0);
  const RemapResult miss = rig.read(kA, 0x10'1000, 1000);
  const RemapResult hit = rig.read(kA, 0x10'0000, 1001);
  EXPECT_EQ(miss.translation.completion, 1000 + tp().context_cache_lookup + tp().iotlb_lookup +
                                             tp().pwc_lookup + tp().table_read());
  EXPECT_EQ(hit.translation.completion, 1001 + tp().context_cache_lookup + tp().iotlb_lookup);
  EXPECT_LT(hit.translation.completion, miss.translation.completion);
}

TEST_F(TranslationTiming, WalkerLimitMakesMissesWait) {
  rig.config.timing.page_walkers = 1;
  rig.build();
  const RemapResult a = rig.read(kA, 0x10'0000, 0);
  const RemapResult b = rig.read(kB, 0x10'0000, 0);
  const Cycle job = 6 * tp().table_read() + tp().pwc_lookup;  // fetch + walk on the walker
  EXPECT_EQ(a.translation.completion, cold4());
  EXPECT_EQ(b.translation.completion, cold4() + job);  // waited for the only walker
  EXPECT_EQ(rig.stats().pw_wait_cycles, job);
  EXPECT_EQ(rig.stats().pw_occupancy, 2 * job);

  TranslationRig two;
  two.config.timing.page_walkers = 2;
  const std::uint64_t p1 = two.tables.alloc_table();
  const std::uint64_t p2 = two.tables.alloc_table();
  two.tables.set_context(kA, ContextSpec{.aw = 2, .did = 1, .slptptr = p1});
  two.tables.set_context(kB, ContextSpec{.aw = 2, .did = 2, .slptptr = p2});
  two.tables.map(p1, 4, 0x10'0000, 0xA000, k4K, kRW);
  two.tables.map(p2, 4, 0x10'0000, 0xB000, k4K, kRW);
  two.build();
  EXPECT_EQ(two.read(kA, 0x10'0000, 0).translation.completion, cold4());
  EXPECT_EQ(two.read(kB, 0x10'0000, 0).translation.completion, cold4());
  EXPECT_EQ(two.stats().pw_wait_cycles, 0u);
}

TEST_F(TranslationTiming, HitsNeverWaitForWalkers) {
  rig.config.timing.page_walkers = 1;
  rig.build();
  rig.read(kA, 0x10'0000, 0);                              // A's page cached, done at 246
  const RemapResult miss = rig.read(kB, 0x10'0000, 1000);  // holds the only walker
  const RemapResult hit = rig.read(kA, 0x10'0000, 1001);
  EXPECT_EQ(hit.translation.latency, tp().context_cache_lookup + tp().iotlb_lookup);
  EXPECT_EQ(miss.translation.latency, cold4());
}

TEST_F(TranslationTiming, PassThroughAndDisabledTranslationCosts) {
  rig.build();
  rig.root.translation_enabled = false;
  EXPECT_EQ(rig.read(kA, 0x1234, 77).translation.completion, 77u);
}

}  // namespace
}  // namespace vtdsim::iommu
