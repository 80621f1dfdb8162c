// DMA port: bus master gating, 4 KiB splitting, fault atomicity, interrupt window.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "fakes.h"
#include "pci/dma_port.h"

namespace vtdsim::pci {
namespace {

using testing::FakeMsiTarget;
using testing::FakeTranslator;

class DmaPortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port.connect(translator, memory, &target);
    port.set_source_id(model::SourceId::make(2, 3, 1));
    port.set_bus_master(true);
  }
  static std::vector<std::byte> pattern(std::size_t n) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>(i * 7 + 1);
    return v;
  }
  model::PhysicalMemory memory{40};
  FakeTranslator translator;
  FakeMsiTarget target;
  DmaPort port;
};

TEST_F(DmaPortTest, BusMasterOffRefusesAndCounts) {
  port.set_bus_master(false);
  auto data = pattern(16);
  EXPECT_EQ(port.write(0x1000, data).status, DmaStatus::kBusMasterDisabled);
  std::array<std::byte, 8> buf{};
  EXPECT_EQ(port.read(0x1000, buf).status, DmaStatus::kBusMasterDisabled);
  EXPECT_EQ(port.stats().blocked_bus_master, 2u);
  EXPECT_TRUE(translator.requests.empty());
  EXPECT_EQ(memory.frames_resident(), 0u);
}

TEST_F(DmaPortTest, SplitsAtFourKibBoundariesWithTheSourceId) {
  auto data = pattern(0x2100);
  DmaAttrs attrs;
  attrs.arrival = 100;
  const DmaResult r = port.write(0x0F80, data, attrs);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.pieces, 4u);
  EXPECT_EQ(r.completion, 110u);
  ASSERT_EQ(translator.requests.size(), 4u);
  const std::array<std::pair<std::uint64_t, std::uint32_t>, 4> expected = {
      {{0x0F80, 0x80}, {0x1000, 0x1000}, {0x2000, 0x1000}, {0x3000, 0x80}}};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(translator.requests[i].address, expected[i].first);
    EXPECT_EQ(translator.requests[i].size, expected[i].second);
    EXPECT_EQ(translator.requests[i].source_id, model::SourceId::make(2, 3, 1));
    EXPECT_EQ(translator.requests[i].access, model::AccessType::kWrite);
    EXPECT_EQ(translator.requests[i].arrival, 100u);
  }
  std::vector<std::byte> back(data.size());
  ASSERT_TRUE(memory.read_bytes(0x0F80 + translator.offset, back));
  EXPECT_EQ(back, data);
  std::vector<std::byte> via_port(data.size());
  ASSERT_TRUE(port.read(0x0F80, via_port).ok());
  EXPECT_EQ(via_port, data);
  EXPECT_EQ(port.stats().bytes_written, 0x2100u);
  EXPECT_EQ(port.stats().bytes_read, 0x2100u);
}

TEST_F(DmaPortTest, AFaultOnAnyPieceWritesNothing) {
  translator.faulting_pages = {0x3};
  auto data = pattern(0x3000);
  const DmaResult r = port.write(0x1800, data);
  EXPECT_EQ(r.status, DmaStatus::kFault);
  EXPECT_EQ(r.fault_reason, 0x06);
  EXPECT_EQ(r.fault_address, 0x3000u);
  EXPECT_EQ(r.pieces, 3u);
  EXPECT_EQ(memory.frames_resident(), 0u);
  EXPECT_EQ(port.stats().faults, 1u);
  std::vector<std::byte> buf(0x100, std::byte{0xAA});
  EXPECT_EQ(port.read(0x3010, buf).status, DmaStatus::kFault);
  EXPECT_EQ(buf[0], std::byte{0xAA});  // untouched
}

TEST_F(DmaPortTest, ScatterGatherIsAllOrNothing) {
  translator.faulting_pages = {0x9};
  auto data = pattern(0x1800);
  const std::array<DmaSegment, 2> segs = {{{0x5000, 0x1000}, {0x9000, 0x800}}};
  EXPECT_EQ(port.write_sg(segs, data).status, DmaStatus::kFault);
  EXPECT_EQ(memory.frames_resident(), 0u);
  translator.faulting_pages.clear();
  ASSERT_TRUE(port.write_sg(segs, data).ok());
  EXPECT_EQ(*memory.read<std::uint8_t>(0x9000 + translator.offset),
            static_cast<std::uint8_t>(data[0x1000]));
  std::vector<std::byte> back(0x1800);
  ASSERT_TRUE(port.read_sg(segs, back).ok());
  EXPECT_EQ(back, data);
}

TEST_F(DmaPortTest, DwordWriteToTheInterruptWindowIsAnInterrupt) {
  const std::uint32_t data = 0x4021;
  const DmaResult r = port.write_value(0xFEE00000ull, data);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.interrupt);
  ASSERT_EQ(target.messages.size(), 1u);
  EXPECT_EQ(target.messages[0].source_id, model::SourceId::make(2, 3, 1));
  EXPECT_EQ(target.messages[0].data, 0x4021u);
  auto big = pattern(16);
  EXPECT_EQ(port.write(0xFEE00000ull, big).status, DmaStatus::kInterruptWindow);
  std::array<std::byte, 4> buf{};
  EXPECT_EQ(port.read(0xFEE00000ull, buf).status, DmaStatus::kInterruptWindow);
  EXPECT_EQ(port.stats().interrupt_window_aborts, 2u);
  EXPECT_EQ(port.send_msi(0xFEE01000ull, 7, 50).status, DmaStatus::kOk);
  EXPECT_EQ(target.messages.back().time, 60u);
}

TEST_F(DmaPortTest, TranslationBeyondMemoryIsOutOfRange) {
  translator.offset = std::uint64_t{1} << 40;
  std::array<std::byte, 4> buf{};
  EXPECT_EQ(port.read(0, buf).status, DmaStatus::kOutOfRange);
}

TEST(DmaPortUnconnected, ReportsNotConnected) {
  DmaPort port;
  port.set_bus_master(true);
  std::array<std::byte, 4> buf{};
  EXPECT_EQ(port.read(0, buf).status, DmaStatus::kNotConnected);
  EXPECT_EQ(port.send_msi(0xFEE00000, 0, 0).status, DmaStatus::kNotConnected);
}

}  // namespace
}  // namespace vtdsim::pci
