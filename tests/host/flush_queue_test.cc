// FlushQueue: deferred release after one batched invalidation (ring full, timeout, explicit),
// the flush counters that keep later entries queued, per-CPU rings, page-table page release,
// strict policy, and invalidation errors that keep entries queued.
#include "host/flush_queue.h"

#include <cstdint>
#include <stdexcept>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "model/frame_allocator.h"
#include "model/physical_memory.h"

namespace vtdsim::host {
namespace {

constexpr std::uint64_t kLimit = IovaAllocator::limit_pfn_for_bits(32);
constexpr model::Cycle kTimeout = 1000;

struct Fixture {
  explicit Fixture(UnmapPolicy policy, unsigned cpus = 2, unsigned slots = 4)
      : iovas(iova_config(cpus)),
        memory(32),
        frames(memory, 0x100000, 64 * model::kPageSize),
        queue(fq_config(policy, cpus, slots), iovas, &frames, invalidator()) {}

  static IovaConfig iova_config(unsigned cpus) {
    IovaConfig c;
    c.cpus = cpus;
    return c;
  }
  static FlushQueueConfig fq_config(UnmapPolicy policy, unsigned cpus, unsigned slots) {
    FlushQueueConfig c;
    c.policy = policy;
    c.cpus = cpus;
    c.ring_slots = slots;
    c.timeout = kTimeout;
    return c;
  }
  Invalidator invalidator() {
    return Invalidator{[this](model::Cycle now) -> Status {
                         flush_all_at.push_back(now);
                         if (fail) return make_error(ErrorCode::kBusy, "invalidation failed");
                         return {};
                       },
                       [this](std::uint64_t pfn, std::uint64_t pages, bool tables_freed,
                              model::Cycle now) -> Status {
                         ranges.emplace_back(pfn, pages, tables_freed, now);
                         if (fail) return make_error(ErrorCode::kBusy, "invalidation failed");
                         return {};
                       }};
  }
  std::uint64_t map(unsigned cpu, std::uint64_t pages = 1) {
    return iovas.alloc(cpu, pages, kLimit).value();
  }

  IovaAllocator iovas;
  model::PhysicalMemory memory;
  model::FrameAllocator frames;
  std::vector<model::Cycle> flush_all_at;
  std::vector<std::tuple<std::uint64_t, std::uint64_t, bool, model::Cycle>> ranges;
  bool fail = false;
  FlushQueue queue;
};

TEST(FlushQueue, DeferredEntriesStayAllocatedUntilTheRingIsFull) {
  Fixture f(UnmapPolicy::kDeferred, 1, 4);  // 4 slots hold 3 entries
  std::vector<std::uint64_t> p;
  for (std::size_t i = 0; i < 4; ++i) p.push_back(f.map(0));
  for (std::size_t i = 0; i < 3; ++i) ASSERT_TRUE(f.queue.queue(0, p[i], 1, {}, 10));
  EXPECT_TRUE(f.flush_all_at.empty());
  EXPECT_EQ(f.queue.pending(0), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(f.iovas.is_allocated(p[i]));
  EXPECT_TRUE(f.queue.timer_armed());
  EXPECT_EQ(f.queue.timer_deadline(), 10 + kTimeout);
  // The 4th finds the ring full: one invalidation, the 3 are freed, the 4th waits.
  ASSERT_TRUE(f.queue.queue(0, p[3], 1, {}, 20));
  EXPECT_EQ(f.flush_all_at, (std::vector<model::Cycle>{20}));
  EXPECT_EQ(f.queue.stats().flushes_full, 1u);
  EXPECT_EQ(f.queue.stats().iovas_released, 3u);
  EXPECT_EQ(f.queue.pending(0), 1u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(f.iovas.is_cached(p[i]));
  EXPECT_TRUE(f.iovas.is_allocated(p[3]));
  EXPECT_EQ(f.queue.stats().max_occupancy, 3u);
  EXPECT_TRUE(f.ranges.empty());
}

TEST(FlushQueue, TimeoutFlushesAtTheDeadlineNotBefore) {
  Fixture f(UnmapPolicy::kDeferred);
  const std::uint64_t a = f.map(0);
  const std::uint64_t b = f.map(1);
  ASSERT_TRUE(f.queue.queue(0, a, 1, {}, 100));
  ASSERT_TRUE(f.queue.queue(1, b, 1, {}, 150));  // timer already armed: deadline unchanged
  EXPECT_EQ(f.queue.timer_deadline(), 100 + kTimeout);
  ASSERT_TRUE(f.queue.poll(100 + kTimeout - 1));
  EXPECT_TRUE(f.flush_all_at.empty());
  ASSERT_TRUE(f.queue.poll(100 + kTimeout));
  EXPECT_EQ(f.flush_all_at, (std::vector<model::Cycle>{100 + kTimeout}));
  EXPECT_EQ(f.queue.stats().flushes_timeout, 1u);
  EXPECT_FALSE(f.queue.timer_armed());
  EXPECT_EQ(f.queue.pending_total(), 0u);
  // Each ring's ranges go back to that CPU's rcache.
  EXPECT_TRUE(f.iovas.is_cached(a));
  EXPECT_TRUE(f.iovas.is_cached(b));
  EXPECT_EQ(f.iovas.cpu_stats(0).cache_inserts, 1u);
  EXPECT_EQ(f.iovas.cpu_stats(1).cache_inserts, 1u);
  ASSERT_TRUE(f.queue.poll(100 + 3 * kTimeout));  // disarmed: nothing more
  EXPECT_EQ(f.flush_all_at.size(), 1u);
}

TEST(FlushQueue, ExpiredTimerFiresBeforeTheNextEntryIsQueued) {
  Fixture f(UnmapPolicy::kDeferred);
  const std::uint64_t a = f.map(0);
  const std::uint64_t b = f.map(0);
  ASSERT_TRUE(f.queue.queue(0, a, 1, {}, 0));
  ASSERT_TRUE(f.queue.queue(0, b, 1, {}, 5 * kTimeout));
  EXPECT_EQ(f.flush_all_at, (std::vector<model::Cycle>{5 * kTimeout}));
  EXPECT_TRUE(f.iovas.is_cached(a));
  EXPECT_TRUE(f.iovas.is_allocated(b));  // queued after that flush began
  EXPECT_EQ(f.queue.pending(0), 1u);
  EXPECT_EQ(f.queue.timer_deadline(), 6 * kTimeout);
}

TEST(FlushQueue, OtherCpusEntriesAreReleasedAtTheirNextQueue) {
  Fixture f(UnmapPolicy::kDeferred, 2, 4);
  const std::uint64_t other = f.map(1);
  ASSERT_TRUE(f.queue.queue(1, other, 1, {}, 0));
  std::vector<std::uint64_t> p;
  for (std::size_t i = 0; i < 4; ++i) p.push_back(f.map(0));
  for (std::size_t i = 0; i < 4; ++i) ASSERT_TRUE(f.queue.queue(0, p[i], 1, {}, 1));
  ASSERT_EQ(f.flush_all_at.size(), 1u);  // CPU 0's ring filled
  // The flush covered CPU 1's entry too, but only CPU 0's ring was drained.
  EXPECT_EQ(f.queue.pending(1), 1u);
  EXPECT_TRUE(f.iovas.is_allocated(other));
  const std::uint64_t next = f.map(1);
  ASSERT_TRUE(f.queue.queue(1, next, 1, {}, 2));
  EXPECT_EQ(f.flush_all_at.size(), 1u);  // no new invalidation needed
  EXPECT_TRUE(f.iovas.is_cached(other));
  EXPECT_EQ(f.queue.pending(1), 1u);
}

TEST(FlushQueue, PageTablePagesAreFreedOnlyAfterTheInvalidation) {
  Fixture f(UnmapPolicy::kDeferred);
  const std::uint64_t t1 = f.frames.allocate().value();
  const std::uint64_t t2 = f.frames.allocate().value();
  EXPECT_EQ(f.frames.pages_used(), 2u);
  const std::uint64_t a = f.map(0, 4);
  ASSERT_TRUE(f.queue.queue(0, a, 4, {t1, t2}, 0));
  EXPECT_EQ(f.frames.pages_used(), 2u);
  ASSERT_TRUE(f.queue.flush(7));
  EXPECT_EQ(f.flush_all_at, (std::vector<model::Cycle>{7}));
  EXPECT_EQ(f.frames.pages_used(), 0u);
  EXPECT_EQ(f.queue.stats().tables_released, 2u);
  EXPECT_EQ(f.queue.stats().flushes_explicit, 1u);
  EXPECT_FALSE(f.queue.timer_armed());
  ASSERT_TRUE(f.queue.flush(8));  // nothing pending: no invalidation
  EXPECT_EQ(f.flush_all_at.size(), 1u);
}

TEST(FlushQueue, StrictInvalidatesEachRangeAndFreesAtOnce) {
  Fixture f(UnmapPolicy::kStrict);
  const std::uint64_t t = f.frames.allocate().value();
  const std::uint64_t a = f.map(0, 8);
  ASSERT_TRUE(f.queue.queue(0, a, 8, {t}, 33));
  ASSERT_EQ(f.ranges.size(), 1u);
  EXPECT_EQ(f.ranges[0], std::make_tuple(a, std::uint64_t{8}, true, model::Cycle{33}));
  EXPECT_TRUE(f.flush_all_at.empty());
  EXPECT_TRUE(f.iovas.is_cached(a));
  EXPECT_EQ(f.frames.pages_used(), 0u);
  EXPECT_FALSE(f.queue.timer_armed());
  EXPECT_EQ(f.queue.pending_total(), 0u);
  EXPECT_EQ(f.queue.stats().strict_invalidations, 1u);
}

TEST(FlushQueue, FailedInvalidationKeepsEverythingQueued) {
  Fixture f(UnmapPolicy::kDeferred, 1, 2);  // holds 1 entry
  const std::uint64_t a = f.map(0);
  const std::uint64_t b = f.map(0);
  ASSERT_TRUE(f.queue.queue(0, a, 1, {}, 0));
  f.fail = true;
  auto r = f.queue.queue(0, b, 1, {}, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBusy);
  EXPECT_TRUE(f.iovas.is_allocated(a));
  EXPECT_EQ(f.queue.pending(0), 1u);
  f.fail = false;
  ASSERT_TRUE(f.queue.queue(0, b, 1, {}, 2));  // retried flush succeeds
  EXPECT_TRUE(f.iovas.is_cached(a));
  EXPECT_EQ(f.flush_all_at.size(), 2u);
}

TEST(FlushQueue, RejectsMisuse) {
  Fixture f(UnmapPolicy::kDeferred);
  EXPECT_FALSE(f.queue.queue(0, 0x1234, 1, {}, 0));  // not allocated
  const std::uint64_t a = f.map(0);
  EXPECT_FALSE(f.queue.queue(2, a, 1, {}, 0));  // no such CPU
  FlushQueueConfig c;
  c.ring_slots = 3;
  EXPECT_FALSE(c.validate());
  c = FlushQueueConfig{};
  c.cpus = 4;  // more than the allocator's 2
  EXPECT_THROW(FlushQueue(c, f.iovas, nullptr, f.invalidator()), std::invalid_argument);
  c.cpus = 1;
  EXPECT_THROW(FlushQueue(c, f.iovas, nullptr, Invalidator{}), std::invalid_argument);
}

}  // namespace
}  // namespace vtdsim::host
