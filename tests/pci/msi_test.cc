// MSI and MSI-X programming, masking, pending bits and delivery.
#include <gtest/gtest.h>

#include "fakes.h"
#include "pci/function.h"

namespace vtdsim::pci {
namespace {

using testing::FakeMsiTarget;
using testing::FakeTranslator;
using testing::MsiRecord;

class MsiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(f.define_bar(0, BarSpec{BarKind::kMemory32, 0x4000, false}));
    ASSERT_EQ(*f.add_msi_capability(MsiConfig{8, true, true}), 0x40u);
    ASSERT_EQ(*f.add_msix_capability(MsixConfig{4, 0, 0x2000, 0, 0x3000}), 0x58u);
    f.connect(translator, memory, &target);
    f.dma().set_source_id(model::SourceId::make(3, 0, 0));
    f.config_write(cfg::kCommand, 2, command::BME::kMask);
  }
  model::PhysicalMemory memory{40};
  FakeTranslator translator;
  FakeMsiTarget target;
  Function f{FunctionIdentity{}};
};

TEST_F(MsiTest, NothingEnabledDropsTheInterrupt) {
  EXPECT_EQ(f.signal_interrupt(0), InterruptOutcome::kNotEnabled);
  EXPECT_TRUE(target.messages.empty());
}

TEST_F(MsiTest, MultipleMessageVectorsReplaceLowDataBits) {
  f.config_write(0x44, 4, 0xFEE01000u);
  f.config_write(0x48, 4, 0);
  f.config_write(0x4C, 2, 0x4041);
  f.config_write(0x42, 2, 0x0021);  // enable, MME = 2 (4 vectors)
  EXPECT_EQ(f.signal_interrupt(3), InterruptOutcome::kDelivered);
  EXPECT_EQ(f.signal_interrupt(4), InterruptOutcome::kBadVector);
  ASSERT_EQ(target.messages.size(), 1u);
  EXPECT_EQ(target.messages[0],
            (MsiRecord{model::SourceId::make(3, 0, 0), 0xFEE01000u, 0x4043u, 10}));
}

TEST_F(MsiTest, MaskedMsiVectorPendsUntilUnmasked) {
  f.config_write(0x44, 4, 0xFEE00000u);
  f.config_write(0x4C, 2, 0x0030);
  f.config_write(0x50, 4, 0x2);     // mask vector 1
  f.config_write(0x42, 2, 0x0031);  // enable, 8 vectors
  EXPECT_EQ(f.signal_interrupt(1), InterruptOutcome::kPended);
  EXPECT_TRUE(f.msi_pending(1));
  EXPECT_EQ(f.config_read(0x54, 4), 0x2u);
  EXPECT_TRUE(target.messages.empty());
  f.config_write(0x50, 4, 0x0);
  ASSERT_EQ(target.messages.size(), 1u);
  EXPECT_EQ(target.messages[0].data, 0x0031u);
  EXPECT_FALSE(f.msi_pending(1));
}

TEST_F(MsiTest, MsixTableProgrammingAndVectorMask) {
  // Entries reset masked.
  EXPECT_EQ(f.mmio_read(0, 0x200C, 4), 1u);
  f.mmio_write(0, 0x2010, 8, 0x00000000FEE02000ull);  // entry 1 address
  f.mmio_write(0, 0x2018, 4, 0x55);                   // entry 1 data
  EXPECT_EQ(f.mmio_read(0, 0x2010, 8), 0xFEE02000ull);
  f.config_write(0x5A, 2, 0x8000);  // MSI-X enable
  EXPECT_EQ(f.signal_interrupt(1), InterruptOutcome::kPended);
  EXPECT_EQ(f.mmio_read(0, 0x3000, 8), 0x2u);
  f.mmio_write(0, 0x3000, 8, 0);  // PBA is read-only
  EXPECT_EQ(f.mmio_read(0, 0x3000, 4), 0x2u);
  f.mmio_write(0, 0x201C, 4, 0);  // unmask: the pending message goes out
  ASSERT_EQ(target.messages.size(), 1u);
  EXPECT_EQ(target.messages[0].address, 0xFEE02000ull);
  EXPECT_EQ(target.messages[0].data, 0x55u);
  EXPECT_EQ(f.mmio_read(0, 0x3000, 8), 0u);
  EXPECT_EQ(f.signal_interrupt(1), InterruptOutcome::kDelivered);
  EXPECT_EQ(f.signal_interrupt(4), InterruptOutcome::kBadVector);
  EXPECT_EQ(target.messages.size(), 2u);
}

TEST_F(MsiTest, MsixFunctionMaskHoldsEveryVector) {
  f.mmio_write(0, 0x2000, 4, 0xFEE00000u);
  f.mmio_write(0, 0x2008, 4, 0x21);
  f.mmio_write(0, 0x200C, 4, 0);
  f.config_write(0x5A, 2, 0xC000);  // enable + function mask
  EXPECT_EQ(f.signal_interrupt(0), InterruptOutcome::kPended);
  EXPECT_TRUE(f.msix_pending(0));
  EXPECT_TRUE(target.messages.empty());
  f.config_write(0x5A, 2, 0x8000);  // clear function mask
  ASSERT_EQ(target.messages.size(), 1u);
  EXPECT_EQ(target.messages[0].data, 0x21u);
  EXPECT_FALSE(f.msix_pending(0));
  EXPECT_EQ(f.interrupt_stats().pended, 1u);
  EXPECT_EQ(f.interrupt_stats().delivered, 1u);
}

TEST_F(MsiTest, MsixTakesPrecedenceOverMsi) {
  f.config_write(0x44, 4, 0xFEE00000u);
  f.config_write(0x42, 2, 0x0001);
  f.mmio_write(0, 0x2000, 4, 0xFEE0F000u);
  f.mmio_write(0, 0x200C, 4, 0);
  f.config_write(0x5A, 2, 0x8000);
  EXPECT_EQ(f.signal_interrupt(0), InterruptOutcome::kDelivered);
  EXPECT_EQ(target.messages.at(0).address, 0xFEE0F000ull);
}

TEST_F(MsiTest, BusMasterOffBlocksMsi) {
  f.config_write(0x44, 4, 0xFEE00000u);
  f.config_write(0x42, 2, 0x0001);
  f.config_write(cfg::kCommand, 2, 0);
  EXPECT_EQ(f.signal_interrupt(0), InterruptOutcome::kFailed);
  EXPECT_TRUE(target.messages.empty());
  EXPECT_EQ(f.dma().stats().msi_blocked, 1u);
}

TEST_F(MsiTest, MsiToAnOrdinaryAddressIsAMemoryWrite) {
  f.config_write(0x44, 4, 0x00100000u);
  f.config_write(0x4C, 2, 0xBEEF);
  f.config_write(0x42, 2, 0x0001);
  EXPECT_EQ(f.signal_interrupt(0), InterruptOutcome::kDelivered);
  EXPECT_TRUE(target.messages.empty());
  EXPECT_EQ(*memory.read<std::uint32_t>(0x00100000u + translator.offset), 0xBEEFu);
}

TEST_F(MsiTest, BadMsixTableAccessesAreHarmless) {
  EXPECT_EQ(f.mmio_read(0, 0x2002, 4), ~std::uint64_t{0});  // misaligned
  EXPECT_EQ(f.mmio_read(0, 0x2000, 2), ~std::uint64_t{0});  // not dword/qword
  f.mmio_write(0, 0x2004, 8, 0x1234);                       // misaligned qword: dropped
  EXPECT_EQ(f.mmio_read(0, 0x2004, 4), 0u);
}

}  // namespace
}  // namespace vtdsim::pci
