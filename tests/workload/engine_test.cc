// The run engine's pieces: warm-up exclusion, the arrival model (rate gate and outstanding
// window), deferred flushes by the timer, the latency histogram and the PRNG streams.
#include <gtest/gtest.h>

#include <string>

#include "workload/latency_histogram.h"
#include "workload/prng.h"
#include "workload/runner.h"
#include "workload/scenario.h"

namespace vtdsim::workload {
namespace {

RunResult run_text(const std::string& text) {
  auto s = parse_scenario(text, "e.toml");
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  if (!s) return {};
  auto runner = Runner::create(*s);
  EXPECT_TRUE(runner.has_value()) << (runner ? "" : runner.error().message);
  if (!runner) return {};
  auto r = (*runner)->run();
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? *r : RunResult{};
}

const char* kStream = "[workload]\nkind = \"stream\"\nbuffer_mib = 8\nmap_bytes = 2097152\n[run]\n";

TEST(Engine, WarmupIsExcludedFromEveryCounter) {
  // 4 KiB a request: the first 2 MiB page is touched by the first request only.
  const RunResult cold = run_text(std::string(kStream) + "records = 100\n");
  const RunResult warm = run_text(std::string(kStream) + "records = 100\nwarmup = 10\n");
  EXPECT_EQ(cold.counters.remap.translations, 100u);
  EXPECT_EQ(cold.counters.remap.iotlb_miss, 1u);
  EXPECT_EQ(cold.events.maps, 4u);  // the set-up maps fall in a run without warm-up
  EXPECT_EQ(warm.counters.remap.translations, 100u);
  EXPECT_EQ(warm.counters.remap.iotlb_miss, 0u);
  EXPECT_EQ(warm.events.maps, 0u);
  EXPECT_EQ(warm.latency.count(), 100u);
  EXPECT_EQ(warm.latency.max(), warm.latency.min());  // all hits: one latency
}

TEST(Engine, OfferedRateSpacesArrivals) {
  // 4096-byte requests at 16 Gbit/s and 2 GHz: 1 byte a cycle, so 4096 cycles apart; 100
  // requests span 99 gaps plus the last one's latency.
  const RunResult r =
      run_text(std::string(kStream) + "records = 100\noffered_gbps = 16\nclock_ghz = 2\n");
  EXPECT_EQ(r.first_arrival, 0u);
  EXPECT_EQ(r.last_completion, 99u * 4096u + r.latency.min());
}

TEST(Engine, OutstandingWindowBoundsRequestsInFlight) {
  // No rate limit and one request in flight: each request arrives when the previous completes,
  // so elapsed is the sum of the latencies.
  const RunResult r =
      run_text(std::string(kStream) + "records = 50\noffered_gbps = 0\noutstanding = 1\n");
  EXPECT_EQ(r.last_completion - r.first_arrival,
            static_cast<model::Cycle>(r.latency.mean() * 50.0 + 0.5));
}

TEST(Engine, DeferredFlushesByTheTimer) {
  const RunResult r = run_text(
      "[machine]\ncpus = 1\n[host]\npolicy = \"deferred\"\nflush_timeout_cycles = 2000\n"
      "[workload]\nkind = \"nic_rx\"\nqueues = 1\nring_size = 64\nnapi_budget = 8\n"
      "ack_every = 0\ndescriptors = false\n[run]\nrecords = 400\n");
  EXPECT_GT(r.counters.flush_queue.flushes_timeout, 10u);
  EXPECT_EQ(r.counters.flush_queue.flushes_full, 0u);
  EXPECT_EQ(r.counters.remap.iotlb_inval_page, 0u);
  EXPECT_EQ(r.counters.remap.iotlb_inval_domain, r.counters.flush_queue.flushes_timeout);
}

TEST(Engine, RunWithoutWorkloadIsAnError) {
  auto s = parse_scenario("", "none.toml").value();
  auto runner = Runner::create(s).value();
  auto r = runner->run();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "none.toml: no [workload] to run");
}

TEST(Engine, DeviceOutsideEveryScopeIsAnError) {
  auto s = parse_scenario(
               "[[unit]]\nscope = [\"01:00.0\"]\n[workload]\nkind = \"stream\"\n"
               "device = \"04:00.0\"\n",
               "scope.toml")
               .value();
  auto r = Runner::create(s).value()->run();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "scope.toml: device 04:00.0 is in no remapping unit's scope");
}

TEST(LatencyHistogram, ExactBelow1024AndSixteenthsAbove) {
  LatencyHistogram h;
  for (model::Cycle v = 1; v <= 100; ++v) h.add(v);
  EXPECT_EQ(h.percentile(0.5), 50u);
  EXPECT_EQ(h.percentile(0.99), 99u);
  EXPECT_EQ(h.percentile(1.0), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
  EXPECT_EQ(LatencyHistogram::bucket_floor(LatencyHistogram::bucket_of(1023)), 1023u);
  EXPECT_EQ(LatencyHistogram::bucket_floor(LatencyHistogram::bucket_of(1024)), 1024u);
  EXPECT_EQ(LatencyHistogram::bucket_floor(LatencyHistogram::bucket_of(1100)), 1088u);
  EXPECT_EQ(LatencyHistogram::bucket_floor(LatencyHistogram::bucket_of(5000)), 4864u);
  LatencyHistogram big;
  big.add(5000);
  EXPECT_EQ(big.percentile(0.5), 5000u);  // never below the exact minimum
  big.add(6000);
  big.add(7000);
  EXPECT_EQ(big.percentile(1.0), 6912u);
  EXPECT_EQ(big.max(), 7000u);
}

TEST(Prng, StreamsArePinned) {
  Prng a(1);
  Prng b(1);
  Prng c(2);
  const std::uint64_t first = a.next();
  EXPECT_EQ(first, b.next());
  EXPECT_NE(first, c.next());
  std::uint64_t s = 0;
  EXPECT_EQ(splitmix64(s), 0xE220A8397B1DCDAFull);  // the published first SplitMix64 output
  Prng d(7);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(d.below(10), 10u);
  ZipfTable z(100, 1.0);
  Prng e(3);
  std::uint64_t top = 0;
  for (int i = 0; i < 10000; ++i) top += z.sample(e) == 0 ? 1u : 0u;
  // P(rank 0) = 1 / H(100) = 0.1928
  EXPECT_GT(top, 1800u);
  EXPECT_LT(top, 2060u);
}

}  // namespace
}  // namespace vtdsim::workload
