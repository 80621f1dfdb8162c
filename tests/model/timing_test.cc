// TimingParams and the ServerPool resource model: acquire ordering, waiting, occupancy counts.
#include "model/timing.h"

#include <stdexcept>

#include <gtest/gtest.h>

namespace vtdsim::model {
namespace {

void expect_grant(const ServerPool::Grant& g, Cycle start, Cycle end, unsigned server) {
  EXPECT_EQ(g.start, start);
  EXPECT_EQ(g.end, end);
  EXPECT_EQ(g.server, server);
}

TEST(ServerPool, TwoServersOrderingAndWaiting) {
  ServerPool pool(2);
  EXPECT_EQ(pool.servers(), 2u);
  EXPECT_EQ(pool.next_free(), 0u);
  expect_grant(pool.acquire(0, 10), 0, 10, 0);
  expect_grant(pool.acquire(0, 10), 0, 10, 1);
  EXPECT_EQ(pool.waited_cycles(), 0u);
  // Both busy until 10: the job waits 5 cycles; the tie goes to server 0.
  expect_grant(pool.acquire(5, 10), 10, 20, 0);
  EXPECT_EQ(pool.waited_cycles(), 5u);
  EXPECT_EQ(pool.next_free(), 10u);
  // Server 1 (free since 10) is the earliest free one.
  expect_grant(pool.acquire(30, 5), 30, 35, 1);
  EXPECT_EQ(pool.waited_cycles(), 5u);
  EXPECT_EQ(pool.busy_cycles(), 35u);
  EXPECT_EQ(pool.next_free(), 20u);

  EXPECT_EQ(pool.busy_at(0), 2u);
  EXPECT_EQ(pool.busy_at(19), 2u);
  EXPECT_EQ(pool.busy_at(20), 1u);  // busy-until is exclusive
  EXPECT_EQ(pool.busy_at(34), 1u);
  EXPECT_EQ(pool.busy_at(35), 0u);
}

TEST(ServerPool, SingleServerQueues) {
  ServerPool pool;
  EXPECT_EQ(pool.servers(), 1u);
  expect_grant(pool.acquire(0, 100), 0, 100, 0);
  expect_grant(pool.acquire(10, 100), 100, 200, 0);
  expect_grant(pool.acquire(50, 100), 200, 300, 0);
  EXPECT_EQ(pool.waited_cycles(), 90u + 150u);
  EXPECT_EQ(pool.busy_cycles(), 300u);
  expect_grant(pool.acquire(1000, 0), 1000, 1000, 0);  // a zero-length job
  EXPECT_EQ(pool.next_free(), 1000u);
  EXPECT_EQ(pool.busy_at(1000), 0u);
}

TEST(ServerPool, Reset) {
  ServerPool pool(3);
  (void)pool.acquire(0, 50);
  (void)pool.acquire(0, 50);
  (void)pool.acquire(0, 50);
  (void)pool.acquire(0, 50);
  EXPECT_EQ(pool.waited_cycles(), 50u);
  pool.reset();
  EXPECT_EQ(pool.busy_cycles(), 0u);
  EXPECT_EQ(pool.waited_cycles(), 0u);
  EXPECT_EQ(pool.next_free(), 0u);
  EXPECT_EQ(pool.busy_at(0), 0u);
  expect_grant(pool.acquire(3, 4), 3, 7, 0);
}

TEST(ServerPool, ZeroServersIsAnError) {
  EXPECT_THROW(ServerPool(0), std::invalid_argument);
}

TEST(TimingParams, TableReadFollowsSnooping) {
  TimingParams t;
  EXPECT_TRUE(t.walks_snooped);
  EXPECT_EQ(t.table_read(), t.memory_read_llc);
  t.memory_read_llc = 33;
  t.memory_read_dram = 222;
  EXPECT_EQ(t.table_read(), 33u);
  t.walks_snooped = false;
  EXPECT_EQ(t.table_read(), 222u);
  // Defaults keep a hit cheaper than a walk read, and a DRAM read dearer than an LLC read.
  const TimingParams d;
  EXPECT_LT(d.iotlb_lookup, d.memory_read_llc);
  EXPECT_LT(d.memory_read_llc, d.memory_read_dram);
  EXPECT_GE(d.page_walkers, 1u);
}

}  // namespace
}  // namespace vtdsim::model
