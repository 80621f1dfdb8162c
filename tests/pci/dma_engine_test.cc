// DMA engine device: copy, completion interrupt, faulted copy.
#include <gtest/gtest.h>

#include <vector>

#include "fakes.h"
#include "pci/dma_engine.h"

namespace vtdsim::pci {
namespace {

namespace r = dma_engine_regs;

class DmaEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dev.connect(translator, memory, &msi);
    dev.dma().set_source_id(model::SourceId::make(1, 0, 0));
    dev.config_write(cfg::kCommand, 2, command::MSE::kMask | command::BME::kMask);
    // MSI: 64-bit with per-vector masking; data at +12.
    msi_cap = *find_capability(dev.config(), cap_id::kMsi);
    dev.config_write(msi_cap + 4, 4, 0xFEE00000u);
    dev.config_write(msi_cap + 12, 2, 0x0041);
    dev.config_write(msi_cap + 2, 2, 0x0001);
    for (std::uint64_t i = 0; i < 0x2000; ++i) {
      (void)memory.write<std::uint8_t>(0x10000 + translator.offset + i,
                                       static_cast<std::uint8_t>(i * 3));
    }
  }
  void program(std::uint64_t src, std::uint64_t dst, std::uint32_t len) {
    dev.mmio_write(0, r::kSrc, 8, src);
    dev.mmio_write(0, r::kDst, 8, dst);
    dev.mmio_write(0, r::kLen, 4, len);
    dev.mmio_write(0, r::kCmd, 4, r::START::kMask | r::IRQ_EN::kMask);
  }
  model::PhysicalMemory memory{40};
  testing::FakeTranslator translator;
  testing::FakeMsiTarget msi;
  DmaEngine dev;
  std::uint32_t msi_cap = 0;
};

TEST_F(DmaEngineTest, CopiesThroughTheTranslatorAndRaisesMsi) {
  program(0x10000, 0x20800, 0x1800);
  EXPECT_EQ(dev.mmio_read(0, r::kStatus, 4), 0x2u);  // DONE
  for (std::uint64_t i = 0; i < 0x1800; i += 0x3FF) {
    EXPECT_EQ(*memory.read<std::uint8_t>(0x20800 + translator.offset + i),
              static_cast<std::uint8_t>(i * 3));
  }
  // 2 read pieces (0x10000-0x11800) + 2 write pieces (0x20800-0x22000), then the MSI.
  EXPECT_EQ(translator.requests.size(), 5u);
  ASSERT_EQ(msi.messages.size(), 1u);
  EXPECT_EQ(msi.messages[0].data, 0x41u);
  EXPECT_EQ(msi.messages[0].source_id, model::SourceId::make(1, 0, 0));
  EXPECT_EQ(dev.mmio_read(0, r::kCompleted, 4), 1u);
  EXPECT_EQ(dev.stats().bytes, 0x1800u);
  dev.mmio_write(0, r::kStatus, 4, r::DONE::kMask);
  EXPECT_EQ(dev.mmio_read(0, r::kStatus, 4), 0u);
  EXPECT_EQ(dev.mmio_read(0, r::kCmd, 4), r::IRQ_EN::kMask);  // START reads 0
}

TEST_F(DmaEngineTest, FaultedDestinationWritesNothingAndReportsError) {
  translator.faulting_pages = {0x21};
  program(0x10000, 0x20800, 0x1000);
  const auto status = static_cast<std::uint32_t>(dev.mmio_read(0, r::kStatus, 4));
  EXPECT_EQ(r::DONE::get(status), 1u);
  EXPECT_EQ(r::ERROR::get(status), 1u);
  EXPECT_EQ(r::CODE::get(status), static_cast<std::uint32_t>(DmaStatus::kFault));
  EXPECT_EQ(r::REASON::get(status), 0x06u);
  EXPECT_EQ(dev.mmio_read(0, r::kFaultAddr, 8), 0x21000u);
  EXPECT_EQ(*memory.read<std::uint8_t>(0x20800 + translator.offset), 0u);
  EXPECT_EQ(memory.find_frame(0x20000 + translator.offset), nullptr);
  EXPECT_EQ(msi.messages.size(), 1u);  // completion interrupt still raised
  dev.mmio_write(0, r::kStatus, 4, r::ERROR::kMask | r::DONE::kMask);
  EXPECT_EQ(dev.mmio_read(0, r::kStatus, 4), 0u);
}

TEST_F(DmaEngineTest, FaultedSourceSetsReceivedMasterAbort) {
  translator.faulting_pages = {0x10};
  program(0x10000, 0x20000, 0x100);
  EXPECT_EQ(r::CODE::get(dev.mmio_read(0, r::kStatus, 4)),
            static_cast<std::uint32_t>(DmaStatus::kFault));
  EXPECT_EQ(dev.config_read(cfg::kStatus, 2) & status::RMA::kMask, status::RMA::kMask);
}

TEST_F(DmaEngineTest, BusMasterOffRefusesTheCopy) {
  dev.config_write(cfg::kCommand, 2, command::MSE::kMask);
  program(0x10000, 0x20000, 0x100);
  EXPECT_EQ(r::CODE::get(dev.mmio_read(0, r::kStatus, 4)),
            static_cast<std::uint32_t>(DmaStatus::kBusMasterDisabled));
  EXPECT_TRUE(translator.requests.empty());
  EXPECT_TRUE(msi.messages.empty());  // MSI is blocked too
  EXPECT_EQ(dev.dma().stats().blocked_bus_master, 1u);
}

TEST_F(DmaEngineTest, OversizedLengthIsAnError) {
  program(0x10000, 0x20000, r::kMaxLength + 1);
  EXPECT_EQ(r::CODE::get(dev.mmio_read(0, r::kStatus, 4)), r::kCodeBadLength);
  EXPECT_EQ(translator.requests.size(), 1u);  // only the MSI
}

TEST_F(DmaEngineTest, MsixVectorIsUsedWhenEnabled) {
  const std::uint32_t msix_cap = *find_capability(dev.config(), cap_id::kMsix);
  dev.mmio_write(2, 0, 4, 0xFEE0A000u);
  dev.mmio_write(2, 8, 4, 0x77);
  dev.mmio_write(2, 12, 4, 0);
  dev.config_write(msix_cap + 2, 2, 0x8000);
  program(0x10000, 0x20000, 0x10);
  ASSERT_EQ(msi.messages.size(), 1u);
  EXPECT_EQ(msi.messages[0].address, 0xFEE0A000u);
  EXPECT_EQ(msi.messages[0].data, 0x77u);
}

}  // namespace
}  // namespace vtdsim::pci
