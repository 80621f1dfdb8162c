// Interrupt remapping engine: pass-through, every fault reason 0x20–0x26 raised through real
// request/IRTE/memory contents, remapped messages in xAPIC and x2APIC modes, timing, stats.
#include <set>
#include <string_view>

#include <gtest/gtest.h>

#include "tests/irq_remap/ir_test_util.h"

namespace vtdsim::irq_remap {
namespace {

using testing::IrFixture;
using testing::RemappedIrte;

class Remap : public IrFixture {
 protected:
  void expect_fault(const IrResult& r, std::uint8_t reason, bool fpd, std::uint16_t index,
                    model::Cycle completion) {
    EXPECT_EQ(r.outcome, IrOutcome::kFault);
    EXPECT_EQ(r.fault_reason, reason);
    EXPECT_EQ(r.fpd, fpd);
    EXPECT_EQ(r.index, index);
    EXPECT_EQ(r.completion, completion);
    EXPECT_FALSE(r.notify);
  }
};

TEST_F(Remap, RemappingOffPassesEveryRequestThroughAsCompatibility) {
  state_.enabled = false;
  const IrResult r = ir_.remap(kSource, 0xFEE2A00Cu, 0xC191u, state_, 500);
  EXPECT_EQ(r.outcome, IrOutcome::kPassThrough);
  model::ApicMessage want = model::decode_compat_msi(0xFEE2A00Cu, 0xC191u);
  want.time = 500;
  EXPECT_EQ(r.message, want);
  EXPECT_EQ(r.completion, 500u);
  // A remappable-format write is decoded as compatibility format too (§5.1.4).
  const MsiMessage m = encode_remappable_msi(0x123, true, 0);
  const IrResult r2 = ir_.remap(kSource, m.address, m.data, state_, 7);
  EXPECT_EQ(r2.outcome, IrOutcome::kPassThrough);
  EXPECT_EQ(r2.message.destination, 0x02u);  // address 19:12 of 0xFEE02478
  EXPECT_EQ(ir_.stats().passthrough, 2u);
  EXPECT_EQ(ir_.stats().int_cache_lookup, 0u);
}

TEST_F(Remap, Fault20ReservedFieldsInTheRequest) {
  put(5, RemappedIrte{}.build());
  const MsiMessage m = encode_remappable_msi(5, true, 0);
  expect_fault(ir_.remap(kSource, m.address | (1ull << 40), m.data, state_, 10), 0x20, false, 0,
               10);
  expect_fault(ir_.remap(kSource, (m.address & 0xFFFFFu) | 0xFEF00000u, m.data, state_, 10), 0x20,
               false, 0, 10);
  expect_fault(ir_.remap(kSource, m.address, 0x80000000u, state_, 10), 0x20, false, 0, 10);
  // Compatibility format with a bad upper address: 0x20 comes before 0x25.
  expect_fault(ir_.remap(kSource, 0x1FEE01000ull, 0x30, state_, 10), 0x20, false, 0, 10);
  EXPECT_EQ(ir_.stats().fault_request_reserved, 4u);
  EXPECT_EQ(ir_.stats().blocked, 4u);
  EXPECT_EQ(ir_.stats().int_cache_lookup, 0u);
}

TEST_F(Remap, Fault21IndexBeyondTableSize) {
  put(255, RemappedIrte{}.build());
  EXPECT_EQ(fire(255).outcome, IrOutcome::kRemapped);
  expect_fault(fire(256, 40), 0x21, false, 256, 40);
  // handle + subhandle: 200 + 56 = 256.
  const MsiMessage m = encode_remappable_msi(200, true, 56);
  expect_fault(ir_.remap(kSource, m.address, m.data, state_, 40), 0x21, false, 256, 40);
  // 65536 entries (S = 15): 0xFFFF + 2 overflows 16 bits; FI holds the low 16 bits.
  state_.size_field = 15;
  const MsiMessage big = encode_remappable_msi(0xFFFF, true, 2);
  expect_fault(ir_.remap(kSource, big.address, big.data, state_, 40), 0x21, false, 0x0001, 40);
  EXPECT_EQ(ir_.stats().fault_index_beyond, 3u);
}

TEST_F(Remap, Fault22NotPresentHonoursFpd) {
  RemappedIrte t;
  t.present = false;
  put(3, t.build());
  expect_fault(fire(3), 0x22, false, 3, 1000 + 3 + 50);
  t.fpd = true;
  put(4, t.build());
  expect_fault(fire(4), 0x22, true, 4, 1000 + 3 + 50);
  // A zeroed (never written) entry is not present either.
  expect_fault(fire(200), 0x22, false, 200, 1053);
  EXPECT_EQ(ir_.stats().fault_irte_not_present, 3u);
  EXPECT_EQ(ir_.stats().blocked_fpd, 1u);
  EXPECT_EQ(ir_.iec_size(), 0u);  // not-present entries are not cached
}

TEST_F(Remap, Fault23IrteBeyondMemory) {
  // 40-bit memory: the table's last page is the last page of memory.
  state_.table = (1ull << 40) - 4096;
  state_.size_field = 8;  // 512 entries; entries 256.. lie beyond the address width
  RemappedIrte t;
  t.fpd = true;  // not qualified: FPD is not even readable
  testing::write_entry(mem_, state_.table + 16 * 255, t.build());
  EXPECT_EQ(fire(255).outcome, IrOutcome::kRemapped);
  expect_fault(fire(256, 20), 0x23, false, 256, 20 + 3 + 50);
  // Table address near 2^64: the entry address wraps; still an access error. (A new table
  // needs a global IEC invalidation, or entry 255 would hit in the cache.)
  state_.table = 0xFFFFFFFFFFFFF000ull;
  ir_.invalidate_all();
  expect_fault(fire(255, 20), 0x23, false, 255, 73);
  EXPECT_EQ(ir_.stats().fault_irte_access, 2u);
}

TEST_F(Remap, Fault24ReservedBitsOfARemappedIrte) {
  const model::Entry128 good = RemappedIrte{.fpd = true}.build();
  const struct {
    unsigned word;
    std::uint64_t bit;
  } reserved[] = {{0, 12}, {0, 13}, {0, 14}, {0, 24}, {0, 31}, {1, 20}, {1, 40}, {1, 63}};
  std::uint16_t index = 10;
  for (const auto& rb : reserved) {
    model::Entry128 e = good;
    e.q[rb.word] |= std::uint64_t{1} << rb.bit;
    put(index, e);
    expect_fault(fire(index), 0x24, true, index, 1053);
    ++index;
  }
  // Reserved DLM encodings 011 and 110 (§9.9).
  for (unsigned dlm : {3u, 6u}) {
    RemappedIrte t;
    t.dlm = dlm;
    put(index, t.build());
    expect_fault(fire(index), 0x24, false, index, 1053);
    ++index;
  }
  EXPECT_EQ(ir_.stats().fault_irte_reserved, 10u);
  EXPECT_EQ(ir_.iec_size(), 0u);
}

TEST_F(Remap, Fault24XapicDestinationReservedBitsOnlyInXapicMode) {
  RemappedIrte t;
  t.dst = 0x00010700;  // bit 48 of the IRTE set, APIC id 7 in DST[15:8]
  put(20, t.build());
  t.dst = 0x00000701;  // bit 32 set
  put(21, t.build());
  t.dst = 0x00000700;
  put(22, t.build());
  state_.eime = false;
  expect_fault(fire(20), 0x24, false, 20, 1053);
  expect_fault(fire(21), 0x24, false, 21, 1053);
  EXPECT_EQ(fire(22).message.destination, 7u);
  state_.eime = true;  // in x2APIC mode all 32 bits are the destination
  EXPECT_EQ(fire(20).message.destination, 0x00010700u);
  EXPECT_EQ(fire(21).message.destination, 0x00000701u);
}

TEST_F(Remap, Fault24PostedIrteWithoutPostingSupport) {
  IrConfig c = config();
  c.posted_interrupts = false;
  InterruptRemapper ir(mem_, c);
  testing::PostedIrte p;
  p.pda = kPid;
  put(30, p.build());
  const IrResult r = ir.remap(kSource, encode_remappable_msi(30, true, 0).address, 0, state_, 0);
  expect_fault(r, 0x24, false, 30, 53);
  EXPECT_EQ(q(kPid), 0u);  // nothing posted
}

TEST_F(Remap, Fault25CompatibilityFormatBlocked) {
  const std::uint64_t a = 0xFEE01000u;  // IF = 0
  state_.eime = false;
  state_.cfi = false;
  expect_fault(ir_.remap(kSource, a, 0x30, state_, 9), 0x25, false, 0, 9);
  // CFIS has no effect in x2APIC mode (EIME=1): always blocked (§5.1.4, GCMD.CFI).
  state_.eime = true;
  state_.cfi = true;
  expect_fault(ir_.remap(kSource, a, 0x30, state_, 9), 0x25, false, 0, 9);
  state_.eime = false;
  const IrResult r = ir_.remap(kSource, a, 0x30, state_, 9);
  EXPECT_EQ(r.outcome, IrOutcome::kPassThrough);
  EXPECT_EQ(r.message.destination, 1u);
  EXPECT_EQ(r.message.vector, 0x30);
  EXPECT_EQ(r.completion, 9u);
  EXPECT_EQ(ir_.stats().fault_compat_blocked, 2u);
}

TEST_F(Remap, Fault26SourceIdMismatch) {
  RemappedIrte t;
  t.svt = 1;
  t.sid = model::SourceId::make(3, 4, 2).raw;
  t.fpd = true;
  put(40, t.build());
  expect_fault(fire(40), 0x26, true, 40, 1053);
  // Cached even though this requester failed: the right one hits.
  const IrResult ok = fire(40, 2000, model::SourceId::make(3, 4, 2));
  EXPECT_EQ(ok.outcome, IrOutcome::kRemapped);
  EXPECT_EQ(ok.completion, 2003u);
  EXPECT_EQ(ir_.stats().fault_source_id, 1u);
}

TEST_F(Remap, RemappedMessageX2apic) {
  RemappedIrte t;
  t.dm = true;
  t.rh = true;
  t.tm = true;
  t.dlm = 1;
  t.vector = 0x99;
  t.dst = 0x12345678;
  put(7, t.build());
  const IrResult r = fire(7, 1000);
  EXPECT_EQ(r.outcome, IrOutcome::kRemapped);
  model::ApicMessage want;
  want.destination = 0x12345678;
  want.logical = true;
  want.redirection_hint = true;
  want.level = true;
  want.delivery_mode = model::DeliveryMode::kLowestPriority;
  want.vector = 0x99;
  want.time = 1053;
  EXPECT_EQ(r.message, want);
  EXPECT_EQ(r.completion, 1053u);
  EXPECT_EQ(r.index, 7);
  EXPECT_EQ(r.fault_reason, 0);
}

TEST_F(Remap, RemappedMessageXapicEveryDeliveryMode) {
  state_.eime = false;
  const model::DeliveryMode modes[] = {
      model::DeliveryMode::kFixed, model::DeliveryMode::kLowestPriority,
      model::DeliveryMode::kSmi,   model::DeliveryMode::kNmi,
      model::DeliveryMode::kInit,  model::DeliveryMode::kExtInt};
  std::uint16_t index = 50;
  for (model::DeliveryMode mode : modes) {
    RemappedIrte t;
    t.dlm = static_cast<unsigned>(mode);
    t.dst = 0x0000FE00;  // APIC id 0xFE
    t.vector = static_cast<std::uint8_t>(0x20 + index);
    t.dm = (index & 1) != 0;
    t.tm = (index & 2) != 0;
    put(index, t.build());
    const IrResult r = fire(index, 100);
    EXPECT_EQ(r.outcome, IrOutcome::kRemapped);
    EXPECT_EQ(r.message.destination, 0xFEu);
    EXPECT_EQ(r.message.delivery_mode, mode);
    EXPECT_EQ(r.message.vector, 0x20 + index);
    EXPECT_EQ(r.message.logical, (index & 1) != 0);
    EXPECT_EQ(r.message.level, (index & 2) != 0);
    EXPECT_FALSE(r.message.redirection_hint);
    ++index;
  }
  EXPECT_EQ(ir_.stats().remapped, 6u);
}

TEST_F(Remap, ShvClearIgnoresTheData) {
  RemappedIrte t;
  t.vector = 0x61;
  put(0x81, t.build());
  const MsiMessage m = encode_remappable_msi(0x81, false, 0);
  const IrResult r = ir_.remap(kSource, m.address, 0xDEAD0042u, state_, 0);
  EXPECT_EQ(r.outcome, IrOutcome::kRemapped);
  EXPECT_EQ(r.index, 0x81);
  EXPECT_EQ(r.message.vector, 0x61);
}

TEST_F(Remap, MultiVectorMsiSelectsEntryBySubhandle) {
  for (std::uint16_t i = 0; i < 4; ++i) {
    RemappedIrte t;
    t.vector = static_cast<std::uint8_t>(0x70 + i);
    put(static_cast<std::uint16_t>(64 + i), t.build());
  }
  for (std::uint16_t sub = 0; sub < 4; ++sub) {
    const MsiMessage m = encode_remappable_msi(64, true, sub);
    const IrResult r = ir_.remap(kSource, m.address, m.data, state_, 0);
    EXPECT_EQ(r.index, 64 + sub);
    EXPECT_EQ(r.message.vector, 0x70 + sub);
  }
}

TEST(IrStatsFields, ListEveryCounterOnceWithUniqueNames) {
  std::set<std::string_view> names;
  IrStats s;
  std::uint64_t v = 1;
  for (const auto& f : IrStats::kFields) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_FALSE(f.description.empty());
    s.*(f.member) = v++;
  }
  EXPECT_EQ(sizeof(IrStats), IrStats::kFields.size() * sizeof(std::uint64_t));
  EXPECT_EQ(model::stats_delta(s, IrStats{}).fault_source_id, s.fault_source_id);
}

TEST(IrConfigValidation, BadIecGeometryIsAnError) {
  model::PhysicalMemory mem(32);
  IrConfig c;
  c.iec.sets = 3;
  auto r = InterruptRemapper::create(mem, c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("sets"), std::string::npos);
  EXPECT_THROW(InterruptRemapper(mem, c), std::invalid_argument);
  c.iec.sets = 2;
  EXPECT_TRUE(InterruptRemapper::create(mem, c));
}

}  // namespace
}  // namespace vtdsim::irq_remap
