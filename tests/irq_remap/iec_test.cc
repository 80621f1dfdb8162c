// Interrupt entry cache: hit/miss counts, stale entries used until invalidated (global and
// index-selective with a mask), re-fetch after invalidation, replacement, timing.
#include <gtest/gtest.h>

#include "tests/irq_remap/ir_test_util.h"

namespace vtdsim::irq_remap {
namespace {

using testing::IrFixture;
using testing::RemappedIrte;

class Iec : public IrFixture {
 protected:
  void put_vector(std::uint16_t index, std::uint8_t vector) {
    RemappedIrte t;
    t.vector = vector;
    put(index, t.build());
  }
};

TEST_F(Iec, MissThenHitCountsAndTiming) {
  put_vector(5, 0x40);
  const IrResult a = fire(5, 100);
  EXPECT_EQ(a.completion, 100u + 3 + 50);
  const IrResult b = fire(5, 200);
  EXPECT_EQ(b.completion, 200u + 3);
  EXPECT_EQ(b.message.time, 203u);
  const IrStats& s = ir_.stats();
  EXPECT_EQ(s.int_cache_lookup, 2u);
  EXPECT_EQ(s.int_cache_hit, 1u);
  EXPECT_EQ(s.int_cache_miss, 1u);
  EXPECT_EQ(s.int_cache_fill, 1u);
  EXPECT_EQ(s.irte_fetch, 1u);
  EXPECT_EQ(ir_.iec_stats().hits, 1u);
  EXPECT_EQ(ir_.iec_stats().misses, 1u);
  EXPECT_EQ(ir_.iec_size(), 1u);
  ir_.reset_stats();
  EXPECT_EQ(ir_.stats().int_cache_lookup, 0u);
  EXPECT_EQ(ir_.iec_stats().lookups, 0u);
}

TEST_F(Iec, StaleEntryUsedUntilIndexInvalidation) {
  put_vector(5, 0x40);
  EXPECT_EQ(fire(5).message.vector, 0x40);
  put_vector(5, 0x41);
  EXPECT_EQ(fire(5).message.vector, 0x40);  // stale, from the IEC
  ir_.invalidate_index(6, 0);               // another index: no effect
  EXPECT_EQ(fire(5).message.vector, 0x40);
  ir_.invalidate_index(5, 0);
  const IrResult r = fire(5, 100);
  EXPECT_EQ(r.message.vector, 0x41);
  EXPECT_EQ(r.completion, 153u);  // re-fetched
  EXPECT_EQ(ir_.stats().iec_inv_selective, 2u);
  EXPECT_EQ(ir_.stats().iec_entries_invalidated, 1u);
  EXPECT_EQ(ir_.stats().irte_fetch, 2u);
}

TEST_F(Iec, StaleNotPresentAfterClearingPUntilInvalidated) {
  put_vector(5, 0x40);
  fire(5);
  RemappedIrte t;
  t.present = false;
  put(5, t.build());
  EXPECT_EQ(fire(5).outcome, IrOutcome::kRemapped);
  ir_.invalidate_all();
  const IrResult r = fire(5);
  EXPECT_EQ(r.outcome, IrOutcome::kFault);
  EXPECT_EQ(r.fault_reason, 0x22);
  EXPECT_EQ(ir_.stats().iec_inv_global, 1u);
}

TEST_F(Iec, GlobalInvalidationDropsEverything) {
  for (std::uint16_t i = 0; i < 8; ++i) put_vector(i, static_cast<std::uint8_t>(0x40 + i));
  for (std::uint16_t i = 0; i < 8; ++i) fire(i);
  EXPECT_EQ(ir_.iec_size(), 8u);
  ir_.invalidate_all();
  EXPECT_EQ(ir_.iec_size(), 0u);
  EXPECT_EQ(ir_.stats().iec_entries_invalidated, 8u);
  for (std::uint16_t i = 0; i < 8; ++i) put_vector(i, static_cast<std::uint8_t>(0x80 + i));
  for (std::uint16_t i = 0; i < 8; ++i) EXPECT_EQ(fire(i).message.vector, 0x80 + i);
}

TEST_F(Iec, SelectiveInvalidationWithMaskCoversTheAlignedBlock) {
  for (std::uint16_t i = 6; i < 18; ++i) {
    put_vector(i, 0x40);
    fire(i);
  }
  // 12 entries in a 16-entry cache (4 sets x 4 ways, index & 3 selects the set).
  ASSERT_EQ(ir_.iec_size(), 12u);
  ir_.invalidate_index(12, 3);  // 2^3 entries from 8: 8..15
  for (std::uint16_t i = 6; i < 18; ++i) {
    EXPECT_EQ(ir_.iec_probe(i) == nullptr, i >= 8 && i < 16) << i;
  }
  ir_.invalidate_index(17, 1);  // 16..17
  EXPECT_EQ(ir_.iec_probe(16), nullptr);
  EXPECT_EQ(ir_.iec_probe(17), nullptr);
  EXPECT_NE(ir_.iec_probe(6), nullptr);
  EXPECT_NE(ir_.iec_probe(7), nullptr);
  ir_.invalidate_index(0, 16);  // a mask covering every index
  EXPECT_EQ(ir_.iec_size(), 0u);
  EXPECT_EQ(ir_.stats().iec_entries_invalidated, 12u);
}

TEST_F(Iec, LargeMaskUsesThePredicatePath) {
  for (std::uint16_t i = 0; i < 4; ++i) {
    put_vector(static_cast<std::uint16_t>(0x40 + i), 0x40);
    fire(static_cast<std::uint16_t>(0x40 + i));
  }
  put_vector(0x80, 0x40);
  fire(0x80);
  ir_.invalidate_index(0x55, 6);  // 0x40..0x7F: 64 > capacity 16
  EXPECT_EQ(ir_.iec_size(), 1u);
  EXPECT_NE(ir_.iec_probe(0x80), nullptr);
}

TEST_F(Iec, LruReplacementWithinASet) {
  // Indices 0, 4, 8, 12, 16 share set 0 of 4 ways.
  for (std::uint16_t i = 0; i <= 16; i += 4) {
    put_vector(i, 0x40);
    fire(i);
  }
  EXPECT_EQ(ir_.iec_probe(0), nullptr);  // least recently used, evicted
  EXPECT_NE(ir_.iec_probe(16), nullptr);
  EXPECT_EQ(ir_.iec_stats().evictions, 1u);
  const IrResult r = fire(0, 0);
  EXPECT_EQ(r.completion, 53u);  // miss again
}

TEST_F(Iec, HitStillAppliesModeDependentChecks) {
  RemappedIrte t;
  t.dst = 0x00000301;  // fine in x2APIC mode; reserved bit 32 in xAPIC mode
  put(5, t.build());
  EXPECT_EQ(fire(5).message.destination, 0x301u);
  state_.eime = false;
  const IrResult r = fire(5, 10);
  EXPECT_EQ(r.fault_reason, 0x24);
  EXPECT_EQ(r.completion, 13u);  // from the cache
}

}  // namespace
}  // namespace vtdsim::irq_remap
