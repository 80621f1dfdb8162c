// Source-id verification: every SVT × SQ combination (VT-d §9.9 SVT/SQ).
#include <gtest/gtest.h>

#include "irq_remap/source_id.h"
#include "tests/irq_remap/ir_test_util.h"

namespace vtdsim::irq_remap {
namespace {

using model::SourceId;

TEST(SourceId, SvtNoneAcceptsAnythingWithEverySq) {
  for (unsigned sq = 0; sq < 4; ++sq) {
    EXPECT_TRUE(source_id_valid(SourceId{0x1234}, 0, sq, 0xFFFF));
    EXPECT_TRUE(source_id_valid(SourceId{0x0000}, 0, sq, 0x0001));
  }
}

TEST(SourceId, SvtSidSqComparesTheQualifiedBits) {
  const std::uint16_t sid = 0x0308;  // 03:01.0
  // Requester ids differing from sid in bit 0, 1, 2 or 3.
  struct Case {
    std::uint16_t rid;
    bool ok[4];  // expected for SQ = 00, 01, 10, 11
  };
  const Case cases[] = {
      {0x0308, {true, true, true, true}},      // exact
      {0x0309, {false, false, false, true}},   // bit 0
      {0x030A, {false, false, true, true}},    // bit 1
      {0x030C, {false, true, true, true}},     // bit 2
      {0x030E, {false, false, true, true}},    // bits 2:1
      {0x030F, {false, false, false, true}},   // bits 2:0
      {0x0300, {false, false, false, false}},  // bit 3 (device)
      {0x0408, {false, false, false, false}},  // bus
  };
  for (const Case& c : cases) {
    for (unsigned sq = 0; sq < 4; ++sq) {
      EXPECT_EQ(source_id_valid(SourceId{c.rid}, 1, sq, sid), c.ok[sq])
          << "rid " << std::hex << c.rid << " sq " << sq;
    }
  }
}

TEST(SourceId, SvtBusRangeUsesStartHighEndLowAndIgnoresSq) {
  const std::uint16_t sid = 0x0507;  // buses 5..7
  for (unsigned sq = 0; sq < 4; ++sq) {
    EXPECT_FALSE(source_id_valid(SourceId::make(4, 31, 7), 2, sq, sid));
    EXPECT_TRUE(source_id_valid(SourceId::make(5, 0, 0), 2, sq, sid));
    EXPECT_TRUE(source_id_valid(SourceId::make(6, 3, 2), 2, sq, sid));
    EXPECT_TRUE(source_id_valid(SourceId::make(7, 31, 7), 2, sq, sid));
    EXPECT_FALSE(source_id_valid(SourceId::make(8, 0, 0), 2, sq, sid));
  }
  // Start above end: an empty range refuses everything.
  EXPECT_FALSE(source_id_valid(SourceId::make(6, 0, 0), 2, 0, 0x0705));
  // Single bus.
  EXPECT_TRUE(source_id_valid(SourceId::make(9, 1, 1), 2, 0, 0x0909));
}

TEST(SourceId, SvtReservedRefusesEverything) {
  for (unsigned sq = 0; sq < 4; ++sq) {
    EXPECT_FALSE(source_id_valid(SourceId{0x0308}, 3, sq, 0x0308));
    EXPECT_FALSE(source_id_valid(SourceId{0x0000}, 3, sq, 0x0000));
  }
}

// Through the engine: the same matrix decides remapped vs fault 0x26, and FPD qualifies it.
class SourceIdEngine : public testing::IrFixture {};

TEST_F(SourceIdEngine, EverySvtSqThroughRealIrtes) {
  const std::uint16_t sid = kSource.raw ^ 0x0004;  // differs from the requester in bit 2
  for (unsigned svt = 0; svt < 4; ++svt) {
    for (unsigned sq = 0; sq < 4; ++sq) {
      const auto index = static_cast<std::uint16_t>(16 + svt * 4 + sq);
      testing::RemappedIrte t;
      t.sid = svt == 2 ? static_cast<std::uint16_t>(0x0303) : sid;  // bus 3 only
      t.svt = svt;
      t.sq = sq;
      t.fpd = sq == 3;
      put(index, t.build());
      const IrResult r = fire(index);
      const bool expect_ok = svt == 0 || (svt == 1 && sq != 0) || svt == 2;
      if (expect_ok) {
        EXPECT_EQ(r.outcome, IrOutcome::kRemapped) << "svt " << svt << " sq " << sq;
      } else {
        EXPECT_EQ(r.outcome, IrOutcome::kFault) << "svt " << svt << " sq " << sq;
        EXPECT_EQ(r.fault_reason, 0x26);
        EXPECT_EQ(r.fpd, sq == 3);
        EXPECT_EQ(r.index, index);
      }
    }
  }
  // svt 1 sq 0 and svt 3 × 4.
  EXPECT_EQ(ir_.stats().fault_source_id, 5u);
  EXPECT_EQ(ir_.stats().remapped, 11u);
}

}  // namespace
}  // namespace vtdsim::irq_remap
