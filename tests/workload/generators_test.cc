// Each generator's host traffic for a small deterministic run, exactly: maps, unmaps and
// invalidations are what the DMA API and flush queue of that policy produce.
#include <gtest/gtest.h>

#include <string>

#include "workload/runner.h"
#include "workload/scenario.h"

namespace vtdsim::workload {
namespace {

RunResult run_text(const std::string& text) {
  auto s = parse_scenario(text, "g.toml");
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  if (!s) return {};
  auto runner = Runner::create(*s);
  EXPECT_TRUE(runner.has_value()) << (runner ? "" : runner.error().message);
  if (!runner) return {};
  auto r = (*runner)->run();
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  if (!r) return {};
  EXPECT_EQ(r->events.dma_faults, 0u);
  return *r;
}

struct Counts {
  std::uint64_t maps, unmaps, invalidations, page_inval, domain_inval;
  friend bool operator==(const Counts&, const Counts&) = default;
};
std::ostream& operator<<(std::ostream& os, const Counts& c) {
  return os << "{maps " << c.maps << ", unmaps " << c.unmaps << ", inval events " << c.invalidations
            << ", page " << c.page_inval << ", domain " << c.domain_inval << "}";
}
Counts counts(const RunResult& r) {
  return {r.events.maps, r.events.unmaps, r.events.invalidations, r.counters.remap.iotlb_inval_page,
          r.counters.remap.iotlb_inval_domain};
}

// One queue of 8 one-page buffers, one packet per buffer (stride 2112 > 2048), no descriptors
// or ACKs: each packet is one request; a NAPI poll every 4 packets unmaps and remaps 4
// buffers. The run ends at the 40th request, before that packet's poll: 9 polls → 36 unmaps
// and 8 + 36 maps (warm-up 0 counts the ring set-up).
std::string nic_rx(const char* policy, const char* extra = "") {
  return std::string("[machine]\ncpus = 1\n[host]\npolicy = \"") + policy +
         "\"\nflush_queue_size = 8\n[workload]\nkind = \"nic_rx\"\nqueues = 1\nring_size = 8\n"
         "napi_budget = 4\nack_every = 0\ndescriptors = false\n" +
         extra + "\n[run]\nrecords = 40\n";
}

TEST(Generators, NicRxStrictInvalidatesEachUnmappedBuffer) {
  const RunResult r = run_text(nic_rx("strict"));
  EXPECT_EQ(r.events.dma, 40u);
  EXPECT_EQ(counts(r), (Counts{44, 36, 36, 36, 0}));
  EXPECT_EQ(r.counters.flush_queue.strict_invalidations, 36u);
}

TEST(Generators, NicRxDeferredFlushesWhenTheRingFills) {
  // An 8-slot ring holds 7 entries: unmaps 8, 15, 22, 29 and 36 find it full and flush.
  const RunResult r = run_text(nic_rx("deferred"));
  EXPECT_EQ(counts(r), (Counts{44, 36, 5, 0, 5}));
  EXPECT_EQ(r.counters.flush_queue.flushes_full, 5u);
  EXPECT_EQ(r.counters.flush_queue.strict_invalidations, 0u);
}

TEST(Generators, NicRxPagePoolMapsOnceAndNeverUnmaps) {
  const RunResult r = run_text(nic_rx("strict", "page_pool = true\npool_factor = 2\n"));
  EXPECT_EQ(counts(r), (Counts{16, 0, 0, 0, 0}));  // the pool: 2 × 8 buffers
}

TEST(Generators, NicRxAcksAndDescriptorsInterleave) {
  // Per packet: descriptor read, frame write, completion write (3 requests); an ACK every 2
  // packets adds TX descriptor read, ACK read and TX completion write (3 more). 4 rings and 8
  // buffers are mapped at start.
  const RunResult r = run_text(
      "[machine]\ncpus = 1\n[host]\npolicy = \"strict\"\n[workload]\nkind = \"nic_rx\"\n"
      "queues = 1\nring_size = 8\nnapi_budget = 4\nack_every = 2\n[run]\nrecords = 36\n");
  // 36 requests = 8 packets × 3 + 4 ACKs × 3, ending with the 4th ACK, before the second
  // poll: one poll unmapped 4 buffers and 2 ACKs and remapped the 4 buffers; 4 ACKs mapped.
  EXPECT_EQ(counts(r), (Counts{4 + 8 + 4 + 4, 6, 6, 6, 0}));
}

TEST(Generators, NicTxTsoMapsHeaderAndEveryFragment) {
  // 16 KiB sends in 4 KiB fragments: 1 header + 4 fragment mappings per send; MSS 1448 gives
  // 12 segments, 3 of them cut by a fragment boundary: 15 payload requests; a send is 5
  // descriptors + 1 header + 15 + 1 completion = 22 requests. 100 requests: 4 sends and part
  // of the 5th (5 mappings); sends 1-4 completed in 2 batches: 20 unmaps; 2 rings mapped.
  const RunResult r = run_text(
      "[machine]\ncpus = 1\n[host]\npolicy = \"strict\"\n[workload]\nkind = \"nic_tx\"\n"
      "queues = 1\nsend_bytes = 16384\ncompletion_batch = 2\n[run]\nrecords = 100\n");
  EXPECT_EQ(counts(r), (Counts{2 + 5 * 5, 20, 20, 20, 0}));
}

TEST(Generators, NvmeRandomReadMapsEveryPageAndUsesPrpLists) {
  // 16 KiB random reads at QD 4: map_sg of 4 scattered pages (4 map events, one 4-page IOVA
  // range that is one DMA segment); submission: SQE read (1 request); completion of the
  // oldest: PRP list read, 4 data pages, CQE write (6). Steps 1-3: 1 request each, then 7 a
  // step: the 100th request is a data page of step 17. 3 rings + 17 × 4 maps, 13 unmaps.
  const RunResult r = run_text(
      "[machine]\ncpus = 1\n[host]\npolicy = \"strict\"\n[workload]\nkind = \"nvme\"\n"
      "queue_depth = 4\nblock_bytes = 16384\n[run]\nrecords = 100\n");
  EXPECT_EQ(counts(r), (Counts{3 + 17 * 4, 13, 13, 13, 0}));
}

TEST(Generators, NvmeSequentialMergesIntoOneSegment) {
  // 64 KiB contiguous: one sg element, one map; a completion is PRP + 16 pages + CQE = 18
  // requests, a step 19 after the first: step 7 ends the run mid-completion. Deferred with
  // 255 free slots: no invalidation yet.
  const RunResult r = run_text(
      "[machine]\ncpus = 1\n[host]\npolicy = \"deferred\"\n[workload]\nkind = \"nvme\"\n"
      "queue_depth = 2\nblock_bytes = 65536\npattern = \"sequential\"\n[run]\nrecords = 100\n");
  EXPECT_EQ(counts(r), (Counts{3 + 7, 5, 0, 0, 0}));
}

TEST(Generators, StreamMapsItsBufferOnceInSuperpages) {
  const RunResult r = run_text(
      "[workload]\nkind = \"stream\"\nbuffer_mib = 8\nmap_bytes = 2097152\n[run]\nrecords = "
      "5000\n");
  EXPECT_EQ(counts(r), (Counts{4, 0, 0, 0, 0}));
  EXPECT_EQ(r.counters.remap.iotlb_miss, 4u);  // one walk per 2 MiB page, never evicted
  EXPECT_EQ(r.counters.remap.iotlb_hit_2m, 5000u - 4u);
}

TEST(Generators, UniformRandomMapsTheFootprintOnce) {
  const RunResult r =
      run_text("[workload]\nkind = \"random\"\nfootprint_mib = 1\n[run]\nrecords = 1000\n");
  EXPECT_EQ(counts(r), (Counts{256, 0, 0, 0, 0}));
}

TEST(Generators, ZipfConcentratesOnHotPages) {
  const char* base =
      "[[unit]]\ninclude_pci_all = true\niotlb = { sets = 1, ways = 16 }\n[workload]\n"
      "kind = \"random\"\nfootprint_mib = 16\ndistribution = \"%s\"\n[run]\nrecords = 5000\n"
      "warmup = 1000\n";
  char zipf[512];
  char uniform[512];
  std::snprintf(zipf, sizeof zipf, base, "zipf");
  std::snprintf(uniform, sizeof uniform, base, "uniform");
  const RunResult z = run_text(zipf);
  const RunResult u = run_text(uniform);
  EXPECT_GT(z.counters.remap.iotlb_hit, 4 * u.counters.remap.iotlb_hit);
}

TEST(Generators, MixInterleavesDevicesByWeight) {
  const RunResult r = run_text(
      "[workload]\nkind = \"mix\"\n[[workload.device]]\nkind = \"stream\"\nbuffer_mib = 2\n"
      "weight = 3\n[[workload.device]]\nkind = \"random\"\nfootprint_mib = 1\n[run]\n"
      "records = 400\n");
  // Three contexts would be looked up for three devices; two devices here, two misses.
  EXPECT_EQ(r.counters.remap.ctxt_cache_miss, 2u);
  EXPECT_EQ(r.events.maps, 1u + 256u);
}

}  // namespace
}  // namespace vtdsim::workload
