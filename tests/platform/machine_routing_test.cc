// Routing in the machine: device scopes pick the unit (explicit scope, then INCLUDE_PCI_ALL),
// RMRRs are exposed resolved, MMIO reaches unit registers and BARs (memory decode respected,
// the rest master-aborts), configuration requests reach functions, and IOMMU groups come out
// right for a zoo of topologies built from a MachineConfig.
#include <gtest/gtest.h>

#include "iommu/registers.h"
#include "pci/dma_engine.h"
#include "pci/nvme.h"
#include "tests/platform/machine_rig.h"

namespace vtdsim::platform {
namespace {

using namespace test_support;
namespace de = pci::dma_engine_regs;
using model::SourceId;

// Unit 0 covers the endpoint dma0 only, unit 1 the sub-hierarchy below rp2 (a switch with
// dma1 and nic), unit 2 everything else (INCLUDE_PCI_ALL).
MachineConfig three_units() {
  MachineConfig c;
  RemappingUnitConfig gfx;
  gfx.name = "gfx";
  gfx.scope = {DeviceScope::endpoint("dma0")};
  RemappingUnitConfig io;
  io.name = "io";
  io.scope = {DeviceScope::sub_hierarchy("rp2")};
  c.units = {gfx, io, catch_all_unit()};
  c.pci.push_back(PciNode::device("dma0", NodeKind::kDmaEngine, 2));
  PciNode usp = PciNode::bridge(
      "usp", NodeKind::kSwitchUpstream, 0, 0, 0,
      {PciNode::bridge("dsp1", NodeKind::kSwitchDownstream, 1, 0, pci::kIsolationAcsFlags,
                       {PciNode::device("dma1", NodeKind::kDmaEngine, 0)}),
       PciNode::bridge("dsp2", NodeKind::kSwitchDownstream, 2, 0, pci::kIsolationAcsFlags,
                       {PciNode::device("nic", NodeKind::kNic, 0)})});
  c.pci.push_back(
      PciNode::bridge("rp2", NodeKind::kRootPort, 3, 0, pci::kIsolationAcsFlags, {usp}));
  c.pci.push_back(port_with("rp3", 4, PciNode::device("dma2", NodeKind::kDmaEngine, 0)));
  RmrrConfig rmrr;
  rmrr.base = 0x0800'0000;
  rmrr.limit = 0x080F'FFFF;
  rmrr.devices = {DeviceScope::endpoint("dma1"), DeviceScope::endpoint(SourceId::make(9, 1, 0))};
  c.rmrrs = {rmrr};
  return c;
}

class MachineRouting : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = Machine::create(three_units());
    ASSERT_TRUE(m) << m.error().message;
    m_ = std::move(*m);
  }
  SourceId sid(const char* name) { return m_->function(name)->requester_id(); }
  std::unique_ptr<Machine> m_;
};

TEST_F(MachineRouting, ScopesPickTheUnit) {
  EXPECT_EQ(sid("dma0"), SourceId::make(0, 2, 0));
  EXPECT_EQ(sid("dma1"), SourceId::make(3, 0, 0));  // rp2 → 1, usp → 2, dsp1 → 3
  EXPECT_EQ(sid("nic"), SourceId::make(4, 0, 0));
  EXPECT_EQ(m_->unit_index_for(sid("dma0")), 0u);
  EXPECT_EQ(m_->unit_index_for(sid("rp2")), 1u);  // the bridge itself is in its scope
  EXPECT_EQ(m_->unit_index_for(sid("usp")), 1u);
  EXPECT_EQ(m_->unit_index_for(sid("dma1")), 1u);
  EXPECT_EQ(m_->unit_index_for(sid("nic")), 1u);
  EXPECT_EQ(m_->unit_index_for(sid("rp3")), 2u);
  EXPECT_EQ(m_->unit_index_for(sid("dma2")), 2u);
  EXPECT_EQ(m_->unit_index_for(SourceId::make(0, 2, 1)), 2u);  // next to dma0: not its scope
  EXPECT_EQ(m_->unit_for(sid("dma1")), &m_->unit(1));

  ASSERT_EQ(m_->scopes().size(), 2u);
  EXPECT_EQ(m_->scopes()[1].first_bus, 1u);
  EXPECT_EQ(m_->scopes()[1].last_bus, 4u);
}

TEST_F(MachineRouting, DeviceDmaReachesOnlyItsUnit) {
  ASSERT_TRUE(m_->memory().write<std::uint64_t>(0x200000, 7));
  const std::uint64_t bar = m_->function("dma1")->bar_address(0);
  m_->mmio_write(bar + de::kSrc, 8, 0x200000);
  m_->mmio_write(bar + de::kDst, 8, 0x300000);
  m_->mmio_write(bar + de::kLen, 4, 8);
  m_->mmio_write(bar + de::kCmd, 4, de::START::kMask);
  EXPECT_EQ(*m_->memory().read<std::uint64_t>(0x300000), 7u);
  EXPECT_EQ(m_->unit(0).dma_remapper().stats().translations, 0u);
  EXPECT_EQ(m_->unit(1).dma_remapper().stats().translations, 2u);
  EXPECT_EQ(m_->unit(2).dma_remapper().stats().translations, 0u);
}

TEST_F(MachineRouting, RmrrsAreExposedResolved) {
  ASSERT_EQ(m_->rmrrs().size(), 1u);
  EXPECT_EQ(m_->rmrrs()[0].base, 0x0800'0000u);
  EXPECT_EQ(m_->rmrrs()[0].limit, 0x080F'FFFFu);
  EXPECT_EQ(m_->rmrrs()[0].devices,
            (std::vector<SourceId>{SourceId::make(3, 0, 0), SourceId::make(9, 1, 0)}));
}

TEST_F(MachineRouting, MmioReachesUnitRegisterWindows) {
  for (std::size_t i = 0; i < 3; ++i) {
    const std::uint64_t base = m_->unit_register_base(i);
    EXPECT_EQ(base, kUnitRegisterBase + 0x1000 * i);
    EXPECT_EQ(m_->mmio_read(base + iommu::reg_offset::kVer, 4), 0x10u);
    EXPECT_EQ(m_->mmio_read(base + iommu::reg_offset::kCap, 8), m_->unit(i).config().cap());
  }
  // A register write lands in that unit only.
  m_->mmio_write(m_->unit_register_base(1) + iommu::reg_offset::kRtaddr, 8, 0x5000);
  EXPECT_EQ(m_->mmio_read(m_->unit_register_base(1) + iommu::reg_offset::kRtaddr, 8), 0x5000u);
  EXPECT_EQ(m_->mmio_read(m_->unit_register_base(0) + iommu::reg_offset::kRtaddr, 8), 0u);
  EXPECT_EQ(m_->stats().mmio_unclaimed_reads, 0u);
}

TEST_F(MachineRouting, MmioReachesBarsOnlyWithMemoryDecode) {
  const std::uint64_t bar = m_->function("dma2")->bar_address(0);
  EXPECT_GE(bar, m_->config().enumeration.mmio_base);
  m_->mmio_write(bar + de::kSrc, 8, 0xABCD000);
  EXPECT_EQ(m_->mmio_read(bar + de::kSrc, 8), 0xABCD000u);

  const SourceId dma2 = sid("dma2");
  const std::uint32_t cmd = m_->config_read(dma2, pci::cfg::kCommand, 2);
  m_->config_write(dma2, pci::cfg::kCommand, 2, cmd & ~2u);  // MSE off
  EXPECT_EQ(m_->mmio_read(bar + de::kSrc, 8), ~std::uint64_t{0});
  EXPECT_EQ(m_->mmio_read(bar + de::kSrc, 4), 0xFFFFFFFFu);
  m_->mmio_write(bar + de::kSrc, 8, 0x1000);
  EXPECT_EQ(m_->stats().mmio_unclaimed_reads, 2u);
  EXPECT_EQ(m_->stats().mmio_dropped_writes, 1u);
  m_->config_write(dma2, pci::cfg::kCommand, 2, cmd);
  EXPECT_EQ(m_->mmio_read(bar + de::kSrc, 8), 0xABCD000u);  // the dropped write changed nothing
}

TEST_F(MachineRouting, UnclaimedMmioMasterAborts) {
  const std::uint64_t hole = m_->config().enumeration.mmio_base + m_->enumeration().mmio_used;
  EXPECT_EQ(m_->mmio_read(hole + 0x100000, 2), 0xFFFFu);
  EXPECT_EQ(m_->mmio_read(0x1000, 4), 0xFFFFFFFFu);  // RAM is not MMIO
  m_->mmio_write(hole + 0x100000, 4, 1);
  const MachineStats s = m_->stats();
  EXPECT_EQ(s.mmio_reads, 2u);
  EXPECT_EQ(s.mmio_unclaimed_reads, 2u);
  EXPECT_EQ(s.mmio_dropped_writes, 1u);
}

TEST_F(MachineRouting, ConfigRequestsReachFunctions) {
  EXPECT_EQ(m_->config_read(sid("dma0"), 0, 4), 0x0B25'8086u);
  EXPECT_EQ(m_->config_read(sid("rp2"), pci::cfg::kSecondaryBus, 1), 1u);
  EXPECT_EQ(m_->config_read(sid("rp2"), pci::cfg::kSubordinateBus, 1), 4u);
  EXPECT_EQ(m_->config_read(SourceId::make(0, 9, 0), 0, 4), 0xFFFFFFFFu);  // empty slot
  EXPECT_EQ(m_->config_read(SourceId::make(7, 0, 0), 0, 4), 0xFFFFFFFFu);  // unclaimed bus
}

TEST_F(MachineRouting, FrameAllocatorServesTheHostRegion) {
  const auto& c = m_->config();
  EXPECT_EQ(m_->frame_allocator().base(), c.low_ram_end() - c.host_memory_size);
  EXPECT_EQ(m_->frame_allocator().size(), c.host_memory_size);
  EXPECT_EQ(m_->cpu_count(), 4u);
  EXPECT_EQ(m_->apic(3).apic_id(), 3u);
}

TEST(MachineNvme, NvmeControllerIsBuiltAndDecodes) {
  MachineConfig c;
  PciNode nvme = PciNode::device("nvme", NodeKind::kNvme, 0);
  nvme.nvme.io_queues = 2;
  c.pci.push_back(port_with("rp1", 1, nvme));
  auto m = Machine::create(c);
  ASSERT_TRUE(m) << m.error().message;
  const SourceId sid = (*m)->function("nvme")->requester_id();
  EXPECT_EQ((*m)->config_read(sid, pci::cfg::kRevisionId, 4) >> 8, 0x010802u);
  const std::uint64_t bar = (*m)->function("nvme")->bar_address(0);
  EXPECT_EQ((*m)->mmio_read(bar + pci::nvme_regs::kVs, 4), 0x00010400u);
  // io_queues + 1 MSI-X vectors.
  EXPECT_EQ((*m)->function("nvme")->msix_table()->size(), 3u);
}

// ---- IOMMU groups for a zoo of topologies ----

int group(const std::vector<pci::IommuGroup>& g, Machine& m, const char* name) {
  return pci::group_of(g, *m.function(name));
}

TEST(MachineGroups, ZooOfTopologies) {
  MachineConfig c;
  c.units.push_back(catch_all_unit());
  // 00:01.0 ACS root port → endpoint: isolated.
  c.pci.push_back(port_with("rp1", 1, PciNode::device("solo", NodeKind::kDmaEngine, 0)));
  // 00:02.0 ACS root port → PCIe-to-PCI bridge → two conventional devices: one group with
  // the bridge (their DMA carries its alias).
  PciNode old1 = PciNode::device("old1", NodeKind::kEndpoint, 1);
  old1.conventional = true;
  PciNode old2 = PciNode::device("old2", NodeKind::kEndpoint, 2);
  old2.conventional = true;
  c.pci.push_back(port_with(
      "rp2", 2, PciNode::bridge("pcibr", NodeKind::kPcieToPciBridge, 0, 0, 0, {old1, old2})));
  // 00:03.0 root port without ACS → switch with ACS ports: everything below joins rp3.
  PciNode sw = PciNode::bridge(
      "usp", NodeKind::kSwitchUpstream, 0, 0, 0,
      {PciNode::bridge("dsp1", NodeKind::kSwitchDownstream, 0, 0, pci::kIsolationAcsFlags,
                       {PciNode::device("swa", NodeKind::kEndpoint, 0)}),
       PciNode::bridge("dsp2", NodeKind::kSwitchDownstream, 1, 0, pci::kIsolationAcsFlags,
                       {PciNode::device("swb", NodeKind::kEndpoint, 0)})});
  c.pci.push_back(PciNode::bridge("rp3", NodeKind::kRootPort, 3, 0, 0, {sw}));
  // 00:04.0 ACS root port → multi-function device without ACS: functions share a group.
  c.pci.push_back(PciNode::bridge("rp4", NodeKind::kRootPort, 4, 0, pci::kIsolationAcsFlags,
                                  {PciNode::device("mf0", NodeKind::kEndpoint, 0, 0),
                                   PciNode::device("mf1", NodeKind::kEndpoint, 0, 1)}));
  // 00:05.0 ACS root port → multi-function device whose functions have ACS: apart.
  PciNode acs0 = PciNode::device("acs0", NodeKind::kEndpoint, 0, 0);
  acs0.acs = pci::kIsolationAcsFlags;
  PciNode acs1 = PciNode::device("acs1", NodeKind::kEndpoint, 0, 1);
  acs1.acs = pci::kIsolationAcsFlags;
  c.pci.push_back(
      PciNode::bridge("rp5", NodeKind::kRootPort, 5, 0, pci::kIsolationAcsFlags, {acs0, acs1}));
  // 00:06.0 / 00:06.1: a root-bus device with a quirk alias onto its sibling.
  PciNode q0 = PciNode::device("q0", NodeKind::kEndpoint, 6, 0);
  PciNode q1 = PciNode::device("q1", NodeKind::kEndpoint, 6, 1);
  q1.acs = pci::kIsolationAcsFlags;
  q1.dma_alias_devfn = (6u << 3) | 0u;
  q0.acs = pci::kIsolationAcsFlags;
  c.pci.push_back(q0);
  c.pci.push_back(q1);

  auto made = Machine::create(c);
  ASSERT_TRUE(made) << made.error().message;
  Machine& m = **made;
  const auto g = m.iommu_groups();
  auto gid = [&](const char* n) { return group(g, m, n); };

  EXPECT_NE(gid("rp1"), gid("solo"));
  EXPECT_EQ(gid("pcibr"), gid("old1"));
  EXPECT_EQ(gid("pcibr"), gid("old2"));
  EXPECT_NE(gid("pcibr"), gid("rp2"));
  for (const char* n : {"usp", "dsp1", "dsp2", "swa", "swb"}) EXPECT_EQ(gid(n), gid("rp3")) << n;
  EXPECT_EQ(gid("mf0"), gid("mf1"));
  EXPECT_NE(gid("mf0"), gid("rp4"));
  EXPECT_NE(gid("acs0"), gid("acs1"));
  EXPECT_EQ(gid("q0"), gid("q1"));
  // rp1, solo, rp2, pcibr+old, rp3+switch, rp4, mf, rp5, acs0, acs1, q0+q1.
  EXPECT_EQ(g.size(), 11u);
  for (const char* n : {"solo", "old1", "swa", "mf0", "acs0", "q0"}) {
    EXPECT_EQ(m.unit_index_for(m.function(n)->dma().source_id()), 0u) << n;
  }
}

}  // namespace
}  // namespace vtdsim::platform
