// End-to-end interrupts through the machine: a NIC's MSI-X message goes through the covering
// unit's interrupt remapping (remapped IRTE → APIC vector; posted IRTE → PIR + notification),
// compatibility MSIs reach the APIC bus directly when no unit covers the device or IR is off,
// and a blocked compatibility MSI is recorded as an IR fault.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>

#include "irq_remap/msi.h"
#include "pci/nic.h"
#include "tests/iommu/unit_test_util.h"
#include "tests/platform/machine_rig.h"

namespace vtdsim::platform {
namespace {

using namespace test_support;
namespace nr = pci::nic_regs;

constexpr std::uint64_t kRing = 0x100000;    // IOVA of RX ring 0 (identity-mapped below)
constexpr std::uint64_t kBuffer = 0x200000;  // IOVA of its receive buffers
const auto kNicSid = model::SourceId::make(1, 0, 0);

MachineConfig nic_machine(bool with_unit) {
  MachineConfig c;
  if (with_unit) c.units.push_back(catch_all_unit());
  c.pci.push_back(port_with("rp1", 1, PciNode::device("nic", NodeKind::kNic, 0)));
  return c;
}

class MachineIrq : public ::testing::Test {
 protected:
  void build(bool with_unit) {
    auto m = Machine::create(nic_machine(with_unit));
    ASSERT_TRUE(m) << m.error().message;
    m_ = std::move(*m);
    nic_ = m_->device<pci::Nic>("nic");
    ASSERT_NE(nic_, nullptr);
    setup_nic();
  }
  // RX queue 0 with 8 descriptors pointing at kBuffer + i * 2 KiB; MSI-X enabled.
  void setup_nic() {
    for (std::uint64_t i = 0; i < 8; ++i) {
      ASSERT_TRUE(m_->memory().write<std::uint64_t>(kRing + i * 16, kBuffer + i * 2048));
    }
    const std::uint64_t bar0 = nic_->bar_address(0);
    const std::uint64_t rx = bar0 + nr::kRxQueues;
    m_->mmio_write(rx + nr::kQBase, 8, kRing);
    m_->mmio_write(rx + nr::kQLen, 4, 8);
    m_->mmio_write(rx + nr::kQTail, 4, 7);
    m_->mmio_write(rx + nr::kQCtrl, 4, 1);
    m_->mmio_write(bar0 + nr::kCtrl, 4, 1);
    const std::uint32_t msix = *nic_->msix_offset();
    m_->config_write(kNicSid, msix + pci::msix::kControl, 2, 0x8000);  // MSI-X enable
  }
  // MSI-X table entry 0 (BAR 3) := address/data, unmasked.
  void program_vector0(std::uint64_t address, std::uint32_t data) {
    const std::uint64_t table = nic_->bar_address(3);
    m_->mmio_write(table + pci::msix::kEntryAddressLo, 4, address & 0xFFFFFFFFu);
    m_->mmio_write(table + pci::msix::kEntryAddressHi, 4, address >> 32);
    m_->mmio_write(table + pci::msix::kEntryData, 4, data);
    m_->mmio_write(table + pci::msix::kEntryVectorControl, 4, 0);
  }
  void receive() {
    std::array<std::byte, 64> packet{};
    packet.fill(std::byte{0x5A});
    auto r = nic_->inject_rx_packet(0, packet);
    ASSERT_TRUE(r);
    ASSERT_EQ(*r, pci::RxOutcome::kDelivered);
  }

  std::unique_ptr<Machine> m_;
  pci::Nic* nic_ = nullptr;
};

TEST_F(MachineIrq, NicMsixThroughRemappedIrteReachesTheApicVector) {
  build(true);
  const std::uint64_t irt = *m_->frame_allocator().allocate();
  ASSERT_TRUE(m_->memory().write(irt + 16 * 5, remapped_irte(0x41, 2)));
  UnitProgrammer p(*m_, 0);
  p.enable_ir(irt);
  const irq_remap::MsiMessage msg = irq_remap::encode_remappable_msi(5, false, 0);
  program_vector0(msg.address, msg.data);

  receive();
  EXPECT_EQ(nic_->stats().interrupts, 1u);
  EXPECT_TRUE(m_->apic(2).pending(0x41));
  ASSERT_EQ(m_->apic(2).log().size(), 1u);
  EXPECT_EQ(m_->apic(2).log()[0].vector, 0x41);
  EXPECT_EQ(m_->apic(2).log()[0].destination, 2u);
  for (std::size_t cpu : {0u, 1u, 3u}) EXPECT_TRUE(m_->apic(cpu).log().empty());
  EXPECT_EQ(m_->stats().msi_writes, 1u);
  EXPECT_EQ(m_->stats().msi_unremapped, 0u);
  EXPECT_EQ(m_->unit(0).interrupt_remapper().stats().remapped, 1u);
  // The packet itself went through the (pass-through, TE=0) DMA path.
  EXPECT_EQ(*m_->memory().read<std::uint8_t>(kBuffer), 0x5A);
}

TEST_F(MachineIrq, PostedIrteSetsThePirAndNotifies) {
  build(true);
  const std::uint64_t irt = *m_->frame_allocator().allocate();
  const std::uint64_t pid = *m_->frame_allocator().allocate();
  model::Entry512 d;
  d.set<irq_remap::pid::NV>(0xF2);
  d.set<irq_remap::pid::NDST>(3);
  for (unsigned i = 0; i < 8; ++i)
    ASSERT_TRUE(m_->memory().write<std::uint64_t>(pid + 8 * i, d.q[i]));
  ASSERT_TRUE(m_->memory().write(irt + 16 * 6, posted_irte(0x52, pid)));
  UnitProgrammer p(*m_, 0);
  p.enable_ir(irt);
  const irq_remap::MsiMessage msg = irq_remap::encode_remappable_msi(6, false, 0);
  program_vector0(msg.address, msg.data);

  receive();
  // PIR bit 0x52 (qword 1, bit 18) and ON (bit 256) set; notification NV to NDST.
  EXPECT_EQ(*m_->memory().read<std::uint64_t>(pid + 8), std::uint64_t{1} << (0x52 - 64));
  EXPECT_EQ(*m_->memory().read<std::uint64_t>(pid + 32) & 1u, 1u);
  ASSERT_EQ(m_->apic(3).log().size(), 1u);
  EXPECT_EQ(m_->apic(3).log()[0].vector, 0xF2);
  EXPECT_FALSE(m_->apic(3).pending(0x52));  // the posted vector is in the PIR, not the IRR

  // A second posting finds ON set: PIR updated, no new notification.
  receive();
  EXPECT_EQ(m_->apic(3).log().size(), 1u);
}

TEST_F(MachineIrq, CompatibilityMsiGoesStraightToTheApicWithoutAUnit) {
  build(false);
  program_vector0(0xFEE01000, 0x33);  // destination 1, vector 0x33, fixed, edge
  receive();
  EXPECT_TRUE(m_->apic(1).pending(0x33));
  EXPECT_EQ(m_->stats().msi_unremapped, 1u);
}

TEST_F(MachineIrq, CompatibilityMsiPassesThroughWhenRemappingIsOff) {
  build(true);
  program_vector0(0xFEE03000, 0x44);
  receive();
  EXPECT_TRUE(m_->apic(3).pending(0x44));
  EXPECT_EQ(m_->stats().msi_unremapped, 0u);  // the unit passed it through
  EXPECT_EQ(m_->unit(0).stats().interrupts_delivered, 1u);
}

TEST_F(MachineIrq, CompatibilityMsiIsBlockedWhenRemappingIsOnWithoutCfi) {
  build(true);
  const std::uint64_t irt = *m_->frame_allocator().allocate();
  UnitProgrammer p(*m_, 0);
  p.enable_ir(irt);
  program_vector0(0xFEE03000, 0x44);
  receive();
  EXPECT_FALSE(m_->apic(3).pending(0x44));
  EXPECT_EQ(p.frcd_hi(0), (1ull << 63) | (std::uint64_t{0x25} << 32) | kNicSid.raw);
}

TEST_F(MachineIrq, InvalidationCompletionEventReachesTheApic) {
  build(true);
  UnitProgrammer p(*m_, 0);
  p.enable_qi(*m_->frame_allocator().allocate());
  p.wr32(iommu::reg_offset::kIedata, 0x61);
  p.wr32(iommu::reg_offset::kIeaddr, 0xFEE02000);  // APIC 2
  p.wr32(iommu::reg_offset::kIectl, 0);
  p.submit({iommu::test_support::wait_descriptor(false, true)});
  EXPECT_TRUE(m_->apic(2).pending(0x61));
  EXPECT_EQ(p.rd32(iommu::reg_offset::kIcs), 1u);  // IWC
}

}  // namespace
}  // namespace vtdsim::platform
