// GCMD → GSTS handshakes of the remapping unit: level bits (TE, QIE, IRE, CFI), one-shot
// bits (SRTP, SIRTP, WBF), latching of RTADDR and IRTA, ignored commands.
#include <gtest/gtest.h>

#include "iommu/registers.h"
#include "tests/iommu/unit_test_util.h"

namespace vtdsim::iommu {
namespace {

using namespace test_support;
using namespace reg_offset;

TEST(UnitGcmd, SrtpLatchesRtaddrAndSetsRtps) {
  UnitRig rig;
  rig.wr64(kRtaddr, 0x1234000);
  EXPECT_FALSE(rig.unit.root_state().root_table_pointer_set);
  rig.gcmd(kSRTP);
  EXPECT_EQ(rig.gsts(), kSRTP);    // RTPS
  EXPECT_EQ(rig.rd32(kGcmd), 0u);  // write-only
  EXPECT_EQ(rig.unit.root_state().root_table, 0x1234000u);
  EXPECT_EQ(rig.unit.root_state().ttm, 0u);
  EXPECT_TRUE(rig.unit.root_state().root_table_pointer_set);
  // A later RTADDR write does not take effect until the next SRTP.
  rig.wr64(kRtaddr, 0x5678000);
  EXPECT_EQ(rig.unit.root_state().root_table, 0x1234000u);
  rig.gcmd(kSRTP);
  EXPECT_EQ(rig.unit.root_state().root_table, 0x5678000u);
  EXPECT_EQ(rig.gsts(), kSRTP);
  EXPECT_EQ(rig.unit.stats().srtp, 2u);
}

TEST(UnitGcmd, SrtpLatchesScalableTtm) {
  UnitConfig c;
  c.scalable_mode = true;
  UnitRig rig(c);
  rig.wr64(kRtaddr, 0x9000 | (1u << 10));
  rig.gcmd(kSRTP);
  EXPECT_EQ(rig.unit.root_state().root_table, 0x9000u);
  EXPECT_EQ(rig.unit.root_state().ttm, 1u);
}

TEST(UnitGcmd, TranslationEnableIsALevelBit) {
  UnitRig rig;
  rig.set_root(0x4000);
  rig.gcmd(kTE);  // shadow TE, no one-shot: RTPS stays set
  EXPECT_EQ(rig.gsts(), kTE | kSRTP);
  EXPECT_TRUE(rig.unit.root_state().translation_enabled);
  rig.gcmd(kTE);  // same value again: nothing changes
  EXPECT_EQ(rig.gsts(), kTE | kSRTP);
  rig.gcmd(0);
  EXPECT_EQ(rig.gsts(), kSRTP);
  EXPECT_FALSE(rig.unit.root_state().translation_enabled);
  EXPECT_EQ(rig.unit.stats().register_writes_ignored, 0u);
}

TEST(UnitGcmd, QueuedInvalidationEnableAndDisable) {
  UnitRig rig;
  rig.enable_qi(0x40000);
  EXPECT_EQ(rig.gsts(), kQIE);
  rig.submit({wait_descriptor(false, false), wait_descriptor(false, false)});
  EXPECT_EQ(rig.rd64(kIqh), 0x20u);
  rig.gcmd(0);
  EXPECT_EQ(rig.gsts(), 0u);
  EXPECT_EQ(rig.rd64(kIqh), 0u);  // IQH resets when QIES clears
  EXPECT_EQ(rig.rd64(kIqt), 0x20u);
}

TEST(UnitGcmd, QieProcessesDescriptorsQueuedBeforeEnable) {
  UnitRig rig;
  (void)rig.memory.write(0x40000, wait_descriptor(true, false, 0xABCD, 0x9000));
  rig.wr64(kIqa, 0x40000);
  rig.wr64(kIqt, 0x10);  // QIE still 0: nothing happens
  EXPECT_EQ(rig.memory.read<std::uint32_t>(0x9000).value(), 0u);
  rig.gcmd(kQIE);
  EXPECT_EQ(rig.memory.read<std::uint32_t>(0x9000).value(), 0xABCDu);
  EXPECT_EQ(rig.rd64(kIqh), 0x10u);
}

TEST(UnitGcmd, InterruptRemappingHandshake) {
  UnitRig rig;
  rig.wr64(kIrta, 0x77000 | (1u << 11) | 7);
  rig.gcmd(kSIRTP);
  EXPECT_EQ(rig.gsts(), kSIRTP);  // IRTPS
  const auto& ir = rig.unit.ir_state();
  EXPECT_EQ(ir.table, 0x77000u);
  EXPECT_EQ(ir.size_field, 7u);
  EXPECT_TRUE(ir.eime);
  EXPECT_TRUE(ir.table_set);
  EXPECT_FALSE(ir.enabled);
  rig.gcmd(kIRE);
  EXPECT_EQ(rig.gsts(), kIRE | kSIRTP);
  EXPECT_TRUE(rig.unit.ir_state().enabled);
  rig.gcmd(kIRE | kCFI);
  EXPECT_EQ(rig.gsts(), kIRE | kSIRTP | kCFI);
  EXPECT_TRUE(rig.unit.ir_state().cfi);
  rig.gcmd(kIRE);  // Linux clears CFI after enabling IR
  EXPECT_EQ(rig.gsts(), kIRE | kSIRTP);
  EXPECT_FALSE(rig.unit.ir_state().cfi);
  // IRTA changes take effect only on SIRTP.
  rig.wr64(kIrta, 0x88000);
  EXPECT_EQ(rig.unit.ir_state().table, 0x77000u);
  rig.gcmd(kIRE | kSIRTP);
  EXPECT_EQ(rig.unit.ir_state().table, 0x88000u);
  EXPECT_FALSE(rig.unit.ir_state().eime);
  EXPECT_EQ(rig.unit.stats().sirtp, 2u);
}

TEST(UnitGcmd, WriteBufferFlushCompletesAtOnce) {
  UnitConfig c;
  c.rwbf = true;
  UnitRig rig(c);
  rig.gcmd(kWBF);
  EXPECT_EQ(rig.gsts(), 0u);  // WBFS already clear again
  EXPECT_EQ(rig.unit.stats().register_writes_ignored, 0u);
}

TEST(UnitGcmd, CommandsForAbsentFeaturesAreIgnored) {
  UnitConfig c;
  c.queued_invalidation = false;
  c.interrupt_remapping = false;
  c.eim = false;
  c.posted_interrupts = false;
  UnitRig rig(c);  // RWBF = 0, AFL = 0
  rig.gcmd(kWBF);
  rig.gcmd(kQIE);
  rig.gcmd(kIRE);
  rig.gcmd(kSIRTP);
  rig.gcmd(kCFI);
  rig.gcmd(1u << 28);  // EAFL
  rig.gcmd(1u << 29);  // SFL
  EXPECT_EQ(rig.gsts(), 0u);
  EXPECT_EQ(rig.unit.stats().register_writes_ignored, 7u);
  rig.gcmd(0x7FFFFF);  // reserved bits only
  EXPECT_EQ(rig.gsts(), 0u);
  EXPECT_EQ(rig.unit.stats().register_writes_ignored, 7u);
}

TEST(UnitGcmd, FaultRecordIndexResetsWhenTeAndIreAreClear) {
  // Exercised through IR faults: index beyond the table (0x21) is recorded round-robin.
  UnitRig rig;
  rig.wr64(kIrta, 0x50000);  // S = 0: 2 entries
  rig.gcmd(kSIRTP);
  rig.gcmd(kIRE);
  rig.gcmd(kIRE | kTE);
  const std::uint64_t msi = 0xFEE00000u | (1u << 4) | (5u << 5);  // remappable, handle 5
  rig.unit.remap_interrupt(model::SourceId{0x10}, msi, 0);
  rig.unit.remap_interrupt(model::SourceId{0x10}, msi, 0);
  EXPECT_EQ(frcd::F::get(rig.frcd_hi(1)), 1u);
  rig.gcmd(kTE);  // IRE off, TE on: index kept
  rig.wr32(0x220 + 12, 0x80000000);
  rig.wr32(0x230 + 12, 0x80000000);
  rig.gcmd(kIRE);
  rig.unit.remap_interrupt(model::SourceId{0x10}, msi, 0);
  EXPECT_EQ(frcd::F::get(rig.frcd_hi(2)), 1u);
  rig.wr32(0x240 + 12, 0x80000000);
  rig.gcmd(0);  // both clear: index back to 0
  rig.gcmd(kIRE);
  rig.unit.remap_interrupt(model::SourceId{0x10}, msi, 0);
  EXPECT_EQ(frcd::F::get(rig.frcd_hi(0)), 1u);
  EXPECT_EQ(frcd::F::get(rig.frcd_hi(3)), 0u);
  EXPECT_EQ(rig.unit.stats().faults_recorded, 4u);
}

}  // namespace
}  // namespace vtdsim::iommu
