// NIC: RX/TX rings, write-back, faults, interrupt moderation.
#include <gtest/gtest.h>

#include <vector>

#include "fakes.h"
#include "pci/nic.h"

namespace vtdsim::pci {
namespace {

namespace r = nic_regs;

class NicTest : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kRxRing = 0x100000, kTxRing = 0x200000, kBufs = 0x300000;
  void SetUp() override {
    nic.connect(translator, memory, &msi);
    nic.dma().set_source_id(model::SourceId::make(3, 0, 0));
    nic.config_write(cfg::kCommand, 2, command::MSE::kMask | command::BME::kMask);
    const std::uint32_t msix = *find_capability(nic.config(), cap_id::kMsix);
    for (unsigned v = 0; v < 4; ++v) {
      nic.mmio_write(3, 16 * v, 8, 0xFEE00000ull);
      nic.mmio_write(3, 16 * v + 8, 4, 0x40 + v);
      nic.mmio_write(3, 16 * v + 12, 4, 0);
    }
    nic.config_write(msix + 2, 2, 0x8000);
    nic.mmio_write(0, r::kCtrl, 4, 1);
    nic.mmio_write(0, r::kRxBufSize, 4, 1024);
    for (unsigned q = 0; q < 2; ++q) {
      setup_ring(r::kRxQueues + q * r::kQueueStride, kRxRing + q * 0x10000, 8);
      setup_ring(r::kTxQueues + q * r::kQueueStride, kTxRing + q * 0x10000, 8);
    }
    for (unsigned i = 0; i < 8; ++i) {  // RX descriptors of queue 0 point at 2 KiB buffers
      write_desc(kRxRing + 16 * i, kBufs + 0x800 * i, 0);
    }
  }
  void setup_ring(std::uint64_t regs, std::uint64_t base, std::uint32_t len) {
    nic.mmio_write(0, regs + r::kQBase, 8, base);
    nic.mmio_write(0, regs + r::kQLen, 4, len);
    nic.mmio_write(0, regs + r::kQTail + 4, 4, 1);  // QCTRL enable
  }
  void write_desc(std::uint64_t iova, std::uint64_t addr, std::uint64_t qword1) {
    ASSERT_TRUE(memory.write<std::uint64_t>(iova + translator.offset, addr));
    ASSERT_TRUE(memory.write<std::uint64_t>(iova + 8 + translator.offset, qword1));
  }
  std::uint64_t qword1(std::uint64_t iova) {
    return *memory.read<std::uint64_t>(iova + 8 + translator.offset);
  }
  static std::vector<std::byte> packet(std::size_t n, std::uint8_t seed) {
    std::vector<std::byte> p(n);
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::byte>(seed + i);
    return p;
  }
  model::PhysicalMemory memory{40};
  testing::FakeTranslator translator;
  testing::FakeMsiTarget msi;
  Nic nic{NicConfig{{0x8086, 0x10D3, 0x020000, 0}, 2, 2048, 4096, 1024}};
};

TEST_F(NicTest, RxWritesDataAndWritesBackTheDescriptor) {
  nic.mmio_write(0, r::kRxQueues + r::kQTail, 4, 4);  // 4 descriptors for the device
  auto p = packet(1500, 9);
  ASSERT_EQ(*nic.inject_rx_packet(0, p), RxOutcome::kDelivered);
  // 1500 bytes with 1024-byte buffers: two descriptors, EOP on the second.
  std::vector<std::byte> back(1024);
  ASSERT_TRUE(memory.read_bytes(kBufs + translator.offset, back));
  EXPECT_EQ(back, std::vector<std::byte>(p.begin(), p.begin() + 1024));
  ASSERT_TRUE(memory.read_bytes(kBufs + 0x800 + translator.offset, std::span(back).first(476)));
  EXPECT_EQ(std::vector<std::byte>(back.begin(), back.begin() + 476),
            std::vector<std::byte>(p.begin() + 1024, p.end()));
  EXPECT_EQ(qword1(kRxRing), 0x0000000100000400ull);       // DD, length 1024
  EXPECT_EQ(qword1(kRxRing + 16), 0x00000003000001DCull);  // DD | EOP, length 476
  EXPECT_EQ(nic.mmio_read(0, r::kRxQueues + r::kQHead, 4), 2u);
  ASSERT_EQ(msi.messages.size(), 1u);
  EXPECT_EQ(msi.messages[0].data, 0x40u);  // RX queue 0 vector
  EXPECT_EQ(nic.stats().descriptor_fetches, 2u);
  EXPECT_EQ(nic.stats().rx_bytes, 1500u);
}

TEST_F(NicTest, RxWithoutFreeDescriptorsDrops) {
  nic.mmio_write(0, r::kRxQueues + r::kQTail, 4, 1);
  EXPECT_EQ(*nic.inject_rx_packet(0, packet(1500, 1)), RxOutcome::kDroppedNoDescriptor);
  EXPECT_EQ(*nic.inject_rx_packet(0, packet(64, 1)), RxOutcome::kDelivered);
  EXPECT_EQ(*nic.inject_rx_packet(0, packet(64, 1)), RxOutcome::kDroppedNoDescriptor);
  EXPECT_EQ(nic.stats().rx_no_descriptor, 2u);
  EXPECT_EQ(nic.mmio_read(0, r::kRxNoDescriptor, 4), 2u);
  EXPECT_FALSE(nic.inject_rx_packet(2, packet(64, 1)));  // API misuse: no queue 2
}

TEST_F(NicTest, RxBufferFaultWritesNothingAndFlagsTheDescriptor) {
  translator.faulting_pages = {kBufs >> 12};
  nic.mmio_write(0, r::kRxQueues + r::kQTail, 4, 4);
  EXPECT_EQ(*nic.inject_rx_packet(0, packet(100, 1)), RxOutcome::kDmaError);
  EXPECT_EQ(memory.find_frame(kBufs + translator.offset), nullptr);
  EXPECT_EQ(qword1(kRxRing), 0x0000800300000000ull);  // DD | EOP | RXE, length 0
  EXPECT_EQ(nic.stats().rx_dma_errors, 1u);
  EXPECT_EQ(nic.mmio_read(0, r::kRxDmaErrors, 4), 1u);
  EXPECT_TRUE(msi.messages.empty());
}

TEST_F(NicTest, RxDescriptorFetchFaultLeavesHead) {
  translator.faulting_pages = {kRxRing >> 12};
  nic.mmio_write(0, r::kRxQueues + r::kQTail, 4, 4);
  EXPECT_EQ(*nic.inject_rx_packet(0, packet(100, 1)), RxOutcome::kDmaError);
  EXPECT_EQ(nic.mmio_read(0, r::kRxQueues + r::kQHead, 4), 0u);
}

TEST_F(NicTest, TxReadsDescriptorsAndBuffers) {
  const std::uint64_t ring = kTxRing + 0x10000;  // TX queue 1
  auto a = packet(300, 1), b = packet(200, 50);
  ASSERT_TRUE(memory.write_bytes(0x400000 + translator.offset, a));
  ASSERT_TRUE(memory.write_bytes(0x401000 + translator.offset, std::span(b).first(100)));
  ASSERT_TRUE(memory.write_bytes(0x402000 + translator.offset, std::span(b).subspan(100)));
  const std::uint64_t eop = std::uint64_t{1} << 24;
  write_desc(ring, 0x400000, 300 | eop);
  write_desc(ring + 16, 0x401000, 100);
  write_desc(ring + 32, 0x402000, 100 | eop);
  nic.mmio_write(0, r::kTxQueues + r::kQueueStride + r::kQTail, 4, 3);
  auto sent = nic.take_transmitted();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].queue, 1u);
  EXPECT_EQ(sent[0].bytes, a);
  EXPECT_EQ(sent[1].bytes, b);
  EXPECT_EQ(qword1(ring) >> 32, 1u);  // DD written back
  EXPECT_EQ(qword1(ring + 32) >> 32, 1u);
  EXPECT_EQ(nic.mmio_read(0, r::kTxQueues + r::kQueueStride + r::kQHead, 4), 3u);
  ASSERT_EQ(msi.messages.size(), 1u);
  EXPECT_EQ(msi.messages[0].data, 0x43u);  // TX queue 1 vector = queues + 1
  EXPECT_EQ(nic.stats().tx_bytes, 500u);
}

TEST_F(NicTest, TxBufferFaultDropsThePacket) {
  translator.faulting_pages = {0x400};
  write_desc(kTxRing, 0x400000, 64 | (std::uint64_t{1} << 24));
  nic.mmio_write(0, r::kTxQueues + r::kQTail, 4, 1);
  EXPECT_TRUE(nic.take_transmitted().empty());
  EXPECT_EQ(qword1(kTxRing) >> 32, 0x8001u);  // DD | TXE
  EXPECT_EQ(nic.stats().tx_dma_errors, 1u);
  EXPECT_EQ(nic.mmio_read(0, r::kTxDmaErrors, 4), 1u);
}

TEST_F(NicTest, ModerationByPacketCount) {
  nic.mmio_write(0, r::kItrPackets, 4, 3);
  nic.mmio_write(0, r::kRxQueues + r::kQTail, 4, 7);
  for (int i = 0; i < 7; ++i)
    ASSERT_EQ(*nic.inject_rx_packet(0, packet(64, 1)), RxOutcome::kDelivered);
  EXPECT_EQ(msi.messages.size(), 2u);
  EXPECT_EQ(nic.stats().interrupts_by_count, 2u);
  nic.advance(1'000'000);  // no timer: the 7th packet waits for more
  EXPECT_EQ(msi.messages.size(), 2u);
}

TEST_F(NicTest, ModerationTimeout) {
  nic.mmio_write(0, r::kItrPackets, 8, (std::uint64_t{500} << 32) | 4);  // N = 4, 500 cycles
  nic.mmio_write(0, r::kRxQueues + r::kQTail, 4, 7);
  nic.advance(1000);
  ASSERT_EQ(*nic.inject_rx_packet(0, packet(64, 1)), RxOutcome::kDelivered);
  nic.advance(1200);
  ASSERT_EQ(*nic.inject_rx_packet(0, packet(64, 1)), RxOutcome::kDelivered);
  nic.advance(1499);
  EXPECT_TRUE(msi.messages.empty());
  nic.advance(1500);  // 500 cycles after the first pending packet
  ASSERT_EQ(msi.messages.size(), 1u);
  EXPECT_EQ(msi.messages[0].time, 1500u + translator.latency);
  EXPECT_EQ(nic.stats().interrupts_by_timeout, 1u);
  nic.advance(5000);
  EXPECT_EQ(msi.messages.size(), 1u);
}

TEST_F(NicTest, DisabledQueueDropsAndBadRegistersAreIgnored) {
  nic.mmio_write(0, r::kRxQueues + r::kQTail, 4, 9);  // beyond the ring: ignored
  EXPECT_EQ(nic.mmio_read(0, r::kRxQueues + r::kQTail, 4), 0u);
  nic.mmio_write(0, r::kCtrl, 4, 0);
  EXPECT_EQ(*nic.inject_rx_packet(0, packet(64, 1)), RxOutcome::kDroppedDisabled);
}

}  // namespace
}  // namespace vtdsim::pci
