// End-to-end DMA through the machine: a DMA engine programmed by MMIO copies through a unit
// programmed by MMIO and tables in memory; faults carry the device's (or its PCIe-to-PCI
// bridge alias's) source-id; domains isolate devices; bus mastering off stops DMA.
#include <gtest/gtest.h>

#include <array>

#include "pci/dma_engine.h"
#include "tests/platform/machine_rig.h"

namespace vtdsim::platform {
namespace {

using namespace test_support;
namespace de = pci::dma_engine_regs;

constexpr std::uint64_t kPattern = 0x1122334455667788ull;

MachineConfig dma_machine(bool with_unit = true) {
  MachineConfig c;
  if (with_unit) c.units.push_back(catch_all_unit());
  c.pci.push_back(port_with("rp1", 1, PciNode::device("dma0", NodeKind::kDmaEngine, 0)));
  c.pci.push_back(port_with("rp2", 2, PciNode::device("dma1", NodeKind::kDmaEngine, 0)));
  PciNode conventional = PciNode::device("dma2", NodeKind::kDmaEngine, 2);
  c.pci.push_back(port_with(
      "rp3", 3, PciNode::bridge("pcibr", NodeKind::kPcieToPciBridge, 0, 0, 0, {conventional})));
  return c;
}

class MachineDma : public ::testing::Test {
 protected:
  void SetUp() override { build(dma_machine()); }
  void build(const MachineConfig& c) {
    auto m = Machine::create(c);
    ASSERT_TRUE(m) << m.error().message;
    m_ = std::move(*m);
    auto tables = m_->frame_allocator().allocate(512);
    ASSERT_TRUE(tables);
    tables_ = std::make_unique<TableBuilder>(m_->memory(), *tables);
  }
  // Legacy context for sid in domain did with a fresh 4-level page table; returns its root.
  std::uint64_t attach(model::SourceId sid, std::uint16_t did) {
    const std::uint64_t pt = tables_->alloc_table();
    tables_->set_context(sid, ContextSpec{.did = did, .slptptr = pt});
    return pt;
  }
  void map(std::uint64_t pt, std::uint64_t iova, std::uint64_t hpa, std::uint8_t perms = 3) {
    tables_->map(pt, 4, iova, hpa, model::kPageSize, perms);
  }
  void enable_unit() {
    UnitProgrammer p(*m_, 0);
    p.set_root(tables_->root_table());
    p.enable_translation();
    ASSERT_EQ(p.gsts() & (kTE | 1u << 30), kTE | 1u << 30);  // TES, RTPS
  }
  // Programs the DMA engine through its BAR and starts a copy; returns STATUS.
  std::uint32_t copy(const char* name, std::uint64_t src, std::uint64_t dst, std::uint32_t len) {
    const std::uint64_t bar = m_->function(name)->bar_address(0);
    m_->mmio_write(bar + de::kSrc, 8, src);
    m_->mmio_write(bar + de::kDst, 8, dst);
    m_->mmio_write(bar + de::kLen, 4, len);
    m_->mmio_write(bar + de::kCmd, 4, de::START::kMask);
    return static_cast<std::uint32_t>(m_->mmio_read(bar + de::kStatus, 4));
  }
  std::uint64_t read64(std::uint64_t pa) { return *m_->memory().read<std::uint64_t>(pa); }

  std::unique_ptr<Machine> m_;
  std::unique_ptr<TableBuilder> tables_;
};

TEST_F(MachineDma, EnumerationAssignsTheExpectedSourceIds) {
  EXPECT_EQ(m_->function("dma0")->requester_id(), model::SourceId::make(1, 0, 0));
  EXPECT_EQ(m_->function("dma1")->requester_id(), model::SourceId::make(2, 0, 0));
  EXPECT_EQ(m_->function("pcibr")->requester_id(), model::SourceId::make(3, 0, 0));
  EXPECT_EQ(m_->function("dma2")->requester_id(), model::SourceId::make(4, 2, 0));
  // The conventional device's DMA carries the bridge's (secondary bus, 0, 0) alias.
  EXPECT_EQ(m_->function("dma2")->dma().source_id(), model::SourceId::make(4, 0, 0));
}

TEST_F(MachineDma, CopyThroughTheUnitLandsAtTheMappedHostAddress) {
  const auto sid = model::SourceId::make(1, 0, 0);
  const std::uint64_t pt = attach(sid, 1);
  map(pt, 0x10000, 0x200000);
  map(pt, 0x20000, 0x300000);
  enable_unit();
  ASSERT_TRUE(m_->memory().write<std::uint64_t>(0x200008, kPattern));

  const std::uint32_t status = copy("dma0", 0x10000, 0x20000, 4096);
  EXPECT_EQ(status, de::DONE::kMask);
  EXPECT_EQ(read64(0x300008), kPattern);
  EXPECT_EQ(read64(0x20008), 0u);  // the IOVA itself is not touched
  EXPECT_EQ(m_->device<pci::DmaEngine>("dma0")->stats().transfers, 1u);
  EXPECT_EQ(m_->stats().dma_requests, 2u);  // one 4 KiB read piece, one write piece
  EXPECT_EQ(m_->stats().dma_unremapped, 0u);
  EXPECT_EQ(m_->unit(0).dma_remapper().stats().translations, 2u);
}

TEST_F(MachineDma, UnmappedIovaFaultsWithTheDeviceSourceIdAndWritesNothing) {
  const auto sid = model::SourceId::make(1, 0, 0);
  const std::uint64_t pt = attach(sid, 1);
  map(pt, 0x20000, 0x300000);
  enable_unit();
  UnitProgrammer p(*m_, 0);
  p.enable_fault_events(1, 0x30);
  ASSERT_TRUE(m_->memory().write<std::uint64_t>(0x300000, kPattern));

  const std::uint32_t status = copy("dma0", 0x50000, 0x20000, 64);
  EXPECT_EQ(de::ERROR::get(status), 1u);
  EXPECT_EQ(de::CODE::get(status), static_cast<std::uint32_t>(pci::DmaStatus::kFault));
  EXPECT_EQ(de::REASON::get(status), 0x06u);  // read of a not-present second-stage entry
  EXPECT_EQ(m_->mmio_read(m_->function("dma0")->bar_address(0) + de::kFaultAddr, 8), 0x50000u);
  EXPECT_EQ(read64(0x300000), kPattern);  // destination untouched

  EXPECT_EQ(p.fsts() & 2u, 2u);  // PPF
  EXPECT_EQ(p.frcd_lo(0), 0x50000u);
  EXPECT_EQ(p.frcd_hi(0), frcd_hi(0x06, sid, true));
  // The fault event reached CPU 1 over the APIC bus.
  EXPECT_TRUE(m_->apic(1).pending(0x30));
  EXPECT_FALSE(m_->apic(0).pending(0x30));
}

TEST_F(MachineDma, DeviceBehindPcieToPciBridgeIsSeenWithTheBridgeAlias) {
  const auto alias = model::SourceId::make(4, 0, 0);
  const std::uint64_t pt = attach(alias, 3);
  map(pt, 0x10000, 0x200000);
  map(pt, 0x20000, 0x300000, 1);  // read-only: the copy's write faults
  enable_unit();
  ASSERT_TRUE(m_->memory().write<std::uint64_t>(0x200000, kPattern));

  std::uint32_t status = copy("dma2", 0x10000, 0x20000, 8);
  EXPECT_EQ(de::REASON::get(status), 0x05u);  // write to a non-writable page
  EXPECT_EQ(read64(0x300000), 0u);
  UnitProgrammer p(*m_, 0);
  EXPECT_EQ(p.frcd_lo(0), 0x20000u);
  EXPECT_EQ(p.frcd_hi(0), frcd_hi(0x05, alias, false));

  // With a writable destination the same device copies through the alias's context.
  map(pt, 0x30000, 0x380000);
  m_->mmio_write(m_->function("dma2")->bar_address(0) + de::kStatus, 4, de::ERROR::kMask);
  status = copy("dma2", 0x10000, 0x30000, 8);
  EXPECT_EQ(de::ERROR::get(status), 0u);
  EXPECT_EQ(read64(0x380000), kPattern);
}

TEST_F(MachineDma, TwoDomainsCannotReachEachOthersMemory) {
  const auto a = model::SourceId::make(1, 0, 0);
  const auto b = model::SourceId::make(2, 0, 0);
  const std::uint64_t pt_a = attach(a, 1);
  const std::uint64_t pt_b = attach(b, 2);
  map(pt_a, 0x10000, 0x200000);  // A's private buffer
  map(pt_a, 0x20000, 0x210000);
  map(pt_b, 0x10000, 0x400000);  // same IOVA, B's own buffer
  map(pt_b, 0x30000, 0x410000);
  enable_unit();
  ASSERT_TRUE(m_->memory().write<std::uint64_t>(0x200000, kPattern));
  ASSERT_TRUE(m_->memory().write<std::uint64_t>(0x400000, 0xBBBB));

  // B reading "its" IOVA 0x10000 gets its own page, never A's.
  EXPECT_EQ(de::ERROR::get(copy("dma1", 0x10000, 0x30000, 8)), 0u);
  EXPECT_EQ(read64(0x410000), 0xBBBBu);
  // A's other IOVA does not exist in B's domain: the write faults, A's page stays.
  const std::uint32_t status = copy("dma1", 0x10000, 0x20000, 8);
  EXPECT_EQ(de::REASON::get(status), 0x05u);
  EXPECT_EQ(read64(0x210000), 0u);
  UnitProgrammer p(*m_, 0);
  EXPECT_EQ(p.frcd_hi(0), frcd_hi(0x05, b, false));
}

TEST_F(MachineDma, BusMasterOffMeansNoDma) {
  const auto sid = model::SourceId::make(1, 0, 0);
  const std::uint64_t pt = attach(sid, 1);
  map(pt, 0x10000, 0x200000);
  map(pt, 0x20000, 0x300000);
  enable_unit();
  ASSERT_TRUE(m_->memory().write<std::uint64_t>(0x200000, kPattern));
  const std::uint32_t cmd = m_->config_read(sid, pci::cfg::kCommand, 2);
  EXPECT_EQ(cmd & 6u, 6u);  // firmware enabled MSE and BME
  m_->config_write(sid, pci::cfg::kCommand, 2, cmd & ~4u);

  const std::uint32_t status = copy("dma0", 0x10000, 0x20000, 8);
  EXPECT_EQ(de::CODE::get(status), static_cast<std::uint32_t>(pci::DmaStatus::kBusMasterDisabled));
  EXPECT_EQ(read64(0x300000), 0u);
  EXPECT_EQ(m_->stats().dma_requests, 0u);  // nothing left the function

  m_->config_write(sid, pci::cfg::kCommand, 2, cmd);
  m_->mmio_write(m_->function("dma0")->bar_address(0) + de::kStatus, 4, de::ERROR::kMask);
  EXPECT_EQ(de::ERROR::get(copy("dma0", 0x10000, 0x20000, 8)), 0u);
  EXPECT_EQ(read64(0x300000), kPattern);
}

TEST_F(MachineDma, TranslationDisabledPassesDmaThrough) {
  ASSERT_TRUE(m_->memory().write<std::uint64_t>(0x200000, kPattern));
  EXPECT_EQ(de::ERROR::get(copy("dma0", 0x200000, 0x300000, 8)), 0u);
  EXPECT_EQ(read64(0x300000), kPattern);
  EXPECT_EQ(m_->unit(0).dma_remapper().stats().passthrough, 2u);
}

TEST(MachineDmaNoUnit, DeviceCoveredByNoUnitIsNotRemapped) {
  auto m = Machine::create(dma_machine(false));
  ASSERT_TRUE(m) << m.error().message;
  Machine& machine = **m;
  EXPECT_EQ(machine.unit_for(model::SourceId::make(1, 0, 0)), nullptr);
  ASSERT_TRUE(machine.memory().write<std::uint64_t>(0x200000, kPattern));
  const std::uint64_t bar = machine.function("dma0")->bar_address(0);
  machine.mmio_write(bar + de::kSrc, 8, 0x200000);
  machine.mmio_write(bar + de::kDst, 8, 0x300000);
  machine.mmio_write(bar + de::kLen, 4, 8);
  machine.mmio_write(bar + de::kCmd, 4, de::START::kMask);
  EXPECT_EQ(machine.mmio_read(bar + de::kStatus, 4), de::DONE::kMask);
  EXPECT_EQ(*machine.memory().read<std::uint64_t>(0x300000), kPattern);
  EXPECT_EQ(machine.stats().dma_unremapped, 2u);
}

TEST(MachineDmaNoUnit, TranslateWithoutUnitAnswersIdentityWindowAndAtsRules) {
  auto m = Machine::create(dma_machine(false));
  ASSERT_TRUE(m);
  model::DmaRequest req;
  req.source_id = model::SourceId::make(1, 0, 0);
  req.address = 0x12345678;
  req.arrival = 40;
  model::Translation t = (*m)->translate(req);
  EXPECT_EQ(t.status, model::TranslationStatus::kOk);
  EXPECT_EQ(t.hpa, 0x12345678u);
  EXPECT_EQ(t.completion, 40u);
  req.address = 0xFEE01000;
  req.access = model::AccessType::kWrite;
  EXPECT_EQ((*m)->translate(req).status, model::TranslationStatus::kInterruptWindow);
  req.address = 0x1000;
  req.address_type = model::AddressType::kTranslationRequest;
  t = (*m)->translate(req);
  EXPECT_EQ(t.status, model::TranslationStatus::kFault);
  EXPECT_FALSE(t.fault_recorded);
}

}  // namespace
}  // namespace vtdsim::platform
