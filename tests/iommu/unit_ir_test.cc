// Interrupt remapping wired through the unit: IRTA/SIRTP/IRE/CFI programmed by MMIO, remapped
// and passed-through messages delivered, IR faults 0x20–0x26 recorded (FI[63:48] = index),
// IRTE.FPD honoured, and the IEC invalidated by queued invalidation.
#include <gtest/gtest.h>

#include "iommu/registers.h"
#include "irq_remap/irte.h"
#include "irq_remap/msi.h"
#include "tests/iommu/unit_test_util.h"

namespace vtdsim::iommu {
namespace {

using namespace test_support;
using namespace reg_offset;

constexpr std::uint64_t kIrt = 0x80000;
constexpr std::uint64_t kQueue = 0x40000;
constexpr model::SourceId kSrc = model::SourceId::make(2, 1, 0);

model::U128 remapped_irte(std::uint8_t vector, std::uint32_t dst, bool present = true,
                          bool fpd = false) {
  model::Entry128 e;
  e.set<irq_remap::irte::P>(present ? 1 : 0);
  e.set<irq_remap::irte::FPD>(fpd ? 1 : 0);
  e.set<irq_remap::irte::V>(vector);
  e.set<irq_remap::irte::DST>(dst);
  return {e.q[0], e.q[1]};
}

class UnitIr : public ::testing::Test {
 protected:
  UnitIr() {
    rig_.wr64(kIrta, kIrt | (1u << 11) | 7);  // 256 entries, x2APIC
    rig_.gcmd(kSIRTP);
    rig_.gcmd(kIRE);
  }
  void put(std::uint16_t index, model::U128 e) {
    ASSERT_TRUE(rig_.memory.write(kIrt + 16ull * index, e));
  }
  irq_remap::IrResult fire(std::uint16_t handle, model::SourceId src = kSrc) {
    const irq_remap::MsiMessage m = irq_remap::encode_remappable_msi(handle, true, 0);
    return rig_.unit.remap_interrupt(src, m.address, m.data, 100);
  }
  void expect_ir_fault(unsigned record, std::uint8_t reason, std::uint16_t index,
                       model::SourceId src = kSrc) {
    EXPECT_EQ(rig_.frcd_lo(record), std::uint64_t{index} << 48);
    EXPECT_EQ(rig_.frcd_hi(record), (1ull << 63) | (std::uint64_t{reason} << 32) | src.raw);
  }

  UnitRig rig_;
};

TEST_F(UnitIr, RemappedInterruptDelivered) {
  put(3, remapped_irte(0x55, 7));
  const irq_remap::IrResult r = fire(3);
  EXPECT_EQ(r.outcome, irq_remap::IrOutcome::kRemapped);
  ASSERT_EQ(rig_.interrupts.messages.size(), 1u);
  EXPECT_EQ(rig_.interrupts.messages[0].vector, 0x55);
  EXPECT_EQ(rig_.interrupts.messages[0].destination, 7u);
  EXPECT_EQ(rig_.interrupts.messages[0].time, r.completion);
  EXPECT_TRUE(rig_.events.messages.empty());
  EXPECT_EQ(rig_.unit.stats().interrupts_delivered, 1u);
}

TEST_F(UnitIr, PassThroughWhenRemappingIsOff) {
  rig_.gcmd(0);
  rig_.unit.remap_interrupt(kSrc, 0xFEE04000, 0x0033, 5);
  ASSERT_EQ(rig_.interrupts.messages.size(), 1u);
  EXPECT_EQ(rig_.interrupts.messages[0].vector, 0x33);
  EXPECT_EQ(rig_.interrupts.messages[0].destination, 4u);
}

TEST_F(UnitIr, IecInvalidatedByQueuedDescriptor) {
  rig_.enable_qi(kQueue);  // level bits kept: IRE stays on
  EXPECT_EQ(rig_.gsts() & (kIRE | kQIE), kIRE | kQIE);
  put(3, remapped_irte(0x55, 7));
  fire(3);
  put(3, remapped_irte(0x66, 7));
  fire(3);
  EXPECT_EQ(rig_.interrupts.messages.back().vector, 0x55);  // cached
  rig_.submit({iec_descriptor(true, 2, 1)});                // indices 2..3
  fire(3);
  EXPECT_EQ(rig_.interrupts.messages.back().vector, 0x66);
  put(3, remapped_irte(0x77, 7));
  rig_.submit({iec_descriptor(false)});
  fire(3);
  EXPECT_EQ(rig_.interrupts.messages.back().vector, 0x77);
  EXPECT_EQ(rig_.unit.stats().int_cache_inv_index, 1u);
  EXPECT_EQ(rig_.unit.stats().int_cache_inv_global, 1u);
}

TEST_F(UnitIr, IndexBeyondTableRecorded21) {
  const irq_remap::IrResult r = fire(300);
  EXPECT_EQ(r.outcome, irq_remap::IrOutcome::kFault);
  EXPECT_EQ(r.fault_reason, 0x21);
  expect_ir_fault(0, 0x21, 300);
  EXPECT_EQ(rig_.fsts(), 0x2u);
  EXPECT_TRUE(rig_.interrupts.messages.empty());
}

TEST_F(UnitIr, ReservedRequestRecorded20) {
  const irq_remap::MsiMessage m = irq_remap::encode_remappable_msi(3, true, 0);
  rig_.unit.remap_interrupt(kSrc, m.address, 0x10000, 0);  // data[31:16] != 0 with SHV
  EXPECT_EQ((rig_.frcd_hi(0) >> 32) & 0xFF, 0x20u);
  EXPECT_EQ(rig_.frcd_hi(0) & 0xFFFF, kSrc.raw);
}

TEST_F(UnitIr, NotPresentRecorded22UnlessFpd) {
  put(4, remapped_irte(0x40, 1, /*present=*/false));
  put(5, remapped_irte(0x40, 1, /*present=*/false, /*fpd=*/true));
  fire(4);
  expect_ir_fault(0, 0x22, 4);
  fire(5);
  EXPECT_EQ(rig_.frcd_hi(1), 0u);
  EXPECT_EQ(rig_.unit.stats().faults_recorded, 1u);
  EXPECT_EQ(rig_.unit.stats().faults_suppressed, 1u);
}

TEST_F(UnitIr, EntryReadErrorRecorded23) {
  rig_.wr64(kIrta, (std::uint64_t{1} << 42) | 7);  // beyond the 40-bit memory
  rig_.gcmd(kIRE | kSIRTP);
  fire(1);
  expect_ir_fault(0, 0x23, 1);
}

TEST_F(UnitIr, ReservedIrteRecorded24) {
  model::U128 e = remapped_irte(0x40, 1);
  e.hi |= 1ull << 63;  // bit 127 reserved
  put(6, e);
  fire(6);
  expect_ir_fault(0, 0x24, 6);
}

TEST_F(UnitIr, CompatibilityFormatBlockedRecorded25) {
  rig_.wr64(kIrta, kIrt | 7);  // xAPIC mode, so CFI can allow compatibility format
  rig_.gcmd(kIRE | kSIRTP);
  rig_.unit.remap_interrupt(kSrc, 0xFEE01000, 0x0030, 0);
  EXPECT_EQ((rig_.frcd_hi(0) >> 32) & 0xFF, 0x25u);
  rig_.gcmd(kIRE | kCFI);
  rig_.unit.remap_interrupt(kSrc, 0xFEE01000, 0x0030, 0);
  ASSERT_EQ(rig_.interrupts.messages.size(), 1u);
  EXPECT_EQ(rig_.interrupts.messages[0].vector, 0x30);
  EXPECT_EQ(rig_.unit.stats().faults_recorded, 1u);
}

TEST_F(UnitIr, SourceIdMismatchRecorded26) {
  model::Entry128 e;
  e.set<irq_remap::irte::P>(1);
  e.set<irq_remap::irte::V>(0x40);
  e.set<irq_remap::irte::SID>(0x0300);
  e.set<irq_remap::irte::SVT>(1);
  put(7, {e.q[0], e.q[1]});
  fire(7);
  expect_ir_fault(0, 0x26, 7);
}

TEST_F(UnitIr, PostedInterruptNotificationDelivered) {
  constexpr std::uint64_t kPid = 0x90040;
  model::Entry128 e;
  e.set<irq_remap::posted_irte::P>(1);
  e.set<irq_remap::posted_irte::IM>(1);
  e.set<irq_remap::posted_irte::VV>(0x61);
  e.set<irq_remap::posted_irte::PDA_L>((kPid >> 6) & 0x3FFFFFFu);
  e.set<irq_remap::posted_irte::PDA_H>(kPid >> 32);
  put(9, {e.q[0], e.q[1]});
  model::Entry512 pd;
  pd.set<irq_remap::pid::NV>(0xF2);
  pd.set<irq_remap::pid::NDST>(5);
  ASSERT_TRUE(rig_.memory.write(kPid + 32, pd.q[4]));
  const irq_remap::IrResult r = fire(9);
  EXPECT_EQ(r.outcome, irq_remap::IrOutcome::kPosted);
  ASSERT_EQ(rig_.interrupts.messages.size(), 1u);
  EXPECT_EQ(rig_.interrupts.messages[0].vector, 0xF2);
  EXPECT_EQ(rig_.interrupts.messages[0].destination, 5u);
  EXPECT_EQ(rig_.memory.read<std::uint64_t>(kPid + 8).value(), 1ull << 33);  // PIR bit 0x61
  fire(9);  // ON already set: no second notification
  EXPECT_EQ(rig_.interrupts.messages.size(), 1u);
  EXPECT_EQ(rig_.unit.stats().posted_notifications, 1u);
}

}  // namespace
}  // namespace vtdsim::iommu
