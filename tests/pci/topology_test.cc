// Enumeration bus numbers, config routing, BAR placement, requester ids and DMA aliases.
#include <gtest/gtest.h>

#include "fakes.h"
#include "pci/topology.h"

namespace vtdsim::pci {
namespace {

using model::SourceId;

std::unique_ptr<Function> endpoint(std::uint16_t id, bool pcie = true) {
  auto f = std::make_unique<Function>(FunctionIdentity{0x8086, id, 0x020000, 0});
  if (pcie) (void)f->add_pcie_capability(PortType::kEndpoint);
  (void)f->define_bar(0, BarSpec{BarKind::kMemory32, 0x1000, false});
  return f;
}

// 00:00.0 RCiEP; 00:01.0 root port -> switch (USP 01:00.0, DSPs 02:00.0 / 02:01.0) -> 03:00.0,
// 04:00.0; 00:02.0 root port -> PCIe-to-PCI bridge 05:00.0 -> 06:01.0, conventional bridge
// 06:02.0 -> 07:03.0.
class Tree : public ::testing::Test {
 protected:
  void SetUp() override {
    Bus& root = rc.root_bus();
    auto rciep = std::make_unique<Function>(FunctionIdentity{0x8086, 1, 0, 0});
    ASSERT_TRUE(rciep->add_pcie_capability(PortType::kRcIntegratedEndpoint));
    ASSERT_TRUE(root.attach(0, 0, std::move(rciep)));
    rp1 = *root.add<Bridge>(1, 0, FunctionIdentity{0x8086, 2, 0, 0}, BridgeKind::kRootPort);
    usp = *rp1->secondary().add<Bridge>(0, 0, FunctionIdentity{0x8086, 3, 0, 0},
                                        BridgeKind::kSwitchUpstream);
    dsp_a = *usp->secondary().add<Bridge>(0, 0, FunctionIdentity{0x8086, 4, 0, 0},
                                          BridgeKind::kSwitchDownstream);
    dsp_b = *usp->secondary().add<Bridge>(1, 0, FunctionIdentity{0x8086, 4, 0, 0},
                                          BridgeKind::kSwitchDownstream);
    ep_a = *dsp_a->secondary().attach(0, 0, endpoint(10));
    ep_b = *dsp_b->secondary().attach(0, 0, endpoint(11));
    rp2 = *root.add<Bridge>(2, 0, FunctionIdentity{0x8086, 2, 0, 0}, BridgeKind::kRootPort);
    p2p = *rp2->secondary().add<Bridge>(0, 0, FunctionIdentity{0x8086, 5, 0, 0},
                                        BridgeKind::kPcieToPci);
    conv1 = *p2p->secondary().attach(1, 0, endpoint(12, false));
    legacy = *p2p->secondary().add<Bridge>(2, 0, FunctionIdentity{0x8086, 6, 0, 0},
                                           BridgeKind::kPciToPci);
    conv2 = *legacy->secondary().attach(3, 0, endpoint(13, false));
    rc.connect(translator, memory, &msi);
  }
  RootComplex rc;
  model::PhysicalMemory memory{40};
  testing::FakeTranslator translator;
  testing::FakeMsiTarget msi;
  Bridge *rp1 = nullptr, *usp = nullptr, *dsp_a = nullptr, *dsp_b = nullptr, *rp2 = nullptr,
         *p2p = nullptr, *legacy = nullptr;
  Function *ep_a = nullptr, *ep_b = nullptr, *conv1 = nullptr, *conv2 = nullptr;
};

TEST_F(Tree, EnumerationNumbersBusesDepthFirst) {
  auto result = rc.enumerate();
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->buses, 8u);
  EXPECT_EQ(result->functions, 12u);
  EXPECT_EQ(result->bridges, 7u);
  auto bus_regs = [](const Bridge* b) {
    return std::array<unsigned, 3>{b->primary_bus_number(), b->secondary_bus_number(),
                                   b->subordinate_bus_number()};
  };
  EXPECT_EQ(bus_regs(rp1), (std::array<unsigned, 3>{0, 1, 4}));
  EXPECT_EQ(bus_regs(usp), (std::array<unsigned, 3>{1, 2, 4}));
  EXPECT_EQ(bus_regs(dsp_a), (std::array<unsigned, 3>{2, 3, 3}));
  EXPECT_EQ(bus_regs(dsp_b), (std::array<unsigned, 3>{2, 4, 4}));
  EXPECT_EQ(bus_regs(rp2), (std::array<unsigned, 3>{0, 5, 7}));
  EXPECT_EQ(bus_regs(p2p), (std::array<unsigned, 3>{5, 6, 7}));
  EXPECT_EQ(bus_regs(legacy), (std::array<unsigned, 3>{6, 7, 7}));
  EXPECT_EQ(ep_a->requester_id(), SourceId::make(3, 0, 0));
  EXPECT_EQ(ep_b->requester_id(), SourceId::make(4, 0, 0));
  EXPECT_EQ(conv2->requester_id(), SourceId::make(7, 3, 0));
  EXPECT_EQ(rc.route(SourceId::make(4, 0, 0)), ep_b);
  EXPECT_EQ(rc.route(SourceId::make(6, 1, 0)), conv1);
  EXPECT_EQ(rc.route(SourceId::make(8, 0, 0)), nullptr);
  EXPECT_EQ(rc.route(SourceId::make(3, 1, 0)), nullptr);  // link: device 0 only
  EXPECT_EQ(rc.find(SourceId::make(7, 3, 0)), conv2);
  EXPECT_EQ(rc.config_read(SourceId::make(9, 0, 0), 0, 4), 0xFFFFFFFFu);
}

TEST_F(Tree, BeforeEnumerationOnlyTheRootBusAnswers) {
  EXPECT_EQ(rc.config_read(SourceId::make(0, 1, 0), 0, 2), 0x8086u);
  EXPECT_EQ(rc.config_read(SourceId::make(1, 0, 0), 0, 2), 0xFFFFu);
}

TEST_F(Tree, BarsArePlacedAlignedAndDecoded) {
  ASSERT_TRUE(rc.enumerate());
  // Depth-first: the RCiEP has no BAR; 03:00.0 gets the first 1 MiB-aligned window slot.
  EXPECT_EQ(ep_a->bar_address(0), 0xC0000000u);
  EXPECT_EQ(ep_b->bar_address(0), 0xC0100000u);
  EXPECT_EQ(conv1->bar_address(0), 0xC0200000u);
  EXPECT_EQ(conv2->bar_address(0), 0xC0300000u);
  EXPECT_TRUE(ep_a->memory_enabled());
  EXPECT_TRUE(ep_a->bus_master_enabled());
  EXPECT_EQ(rp1->config_read(cfg::kMemoryBase, 4), 0xC010C000u);  // 0xC0000000-0xC01FFFFF
  auto hit = rc.decode_mmio(0xC0100010, 4);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->function, ep_b);
  EXPECT_EQ(hit->offset, 0x10u);
  std::uint64_t v = 0;
  EXPECT_FALSE(rc.mmio_read(0xB0000000, 4, &v));
  EXPECT_EQ(v, ~std::uint64_t{0});
}

TEST_F(Tree, DmaAliasesFollowTheBridgeRules) {
  ASSERT_TRUE(rc.enumerate());
  const std::vector<DmaAlias> a = rc.dma_aliases(*ep_a);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].id, SourceId::make(3, 0, 0));
  // Conventional device behind a PCIe-to-PCI bridge: (secondary bus, 00.0), owned by the bridge.
  const std::vector<DmaAlias> c1 = rc.dma_aliases(*conv1);
  ASSERT_EQ(c1.size(), 2u);
  EXPECT_EQ(c1[1], (DmaAlias{SourceId::make(6, 0, 0), p2p}));
  // Behind a conventional bridge too: the legacy bridge's own id, then the PCIe-to-PCI alias.
  const std::vector<DmaAlias> c2 = rc.dma_aliases(*conv2);
  ASSERT_EQ(c2.size(), 3u);
  EXPECT_EQ(c2[0].id, SourceId::make(7, 3, 0));
  EXPECT_EQ(c2[1], (DmaAlias{SourceId::make(6, 2, 0), legacy}));
  EXPECT_EQ(c2[2], (DmaAlias{SourceId::make(6, 0, 0), p2p}));
  EXPECT_EQ(conv2->dma().source_id(), SourceId::make(6, 0, 0));
  EXPECT_EQ(ep_b->dma().source_id(), SourceId::make(4, 0, 0));
  // The alias is what the translator sees.
  std::array<std::byte, 4> buf{};
  ASSERT_TRUE(conv2->dma().read(0x1000, buf).ok());
  EXPECT_EQ(translator.requests.back().source_id, SourceId::make(6, 0, 0));
}

TEST_F(Tree, QuirkAliasDevfnIsTheLastAliasOnTheRootBus) {
  auto* f = *rc.root_bus().attach(0x1F, 0, endpoint(20));
  f->set_dma_alias_devfn(0xF9);  // 1f.1
  rc.refresh_source_ids();
  EXPECT_EQ(f->dma().source_id(), SourceId::make(0, 0x1F, 1));
}

TEST_F(Tree, AttachErrors) {
  EXPECT_FALSE(dsp_a->secondary().attach(1, 0, endpoint(30)));  // link carries device 0 only
  EXPECT_FALSE(rc.root_bus().attach(0, 0, endpoint(31)));       // taken
  auto fn3 = rc.root_bus().attach(5, 3, endpoint(32));
  ASSERT_FALSE(fn3);
  EXPECT_EQ(fn3.error().message, "slot 5.3: attach function 0 of the device first");
  EXPECT_FALSE(rc.root_bus().attach(32, 0, endpoint(33)));
}

TEST_F(Tree, MultiFunctionBitIsSetOnEveryFunction) {
  auto* f0 = *rc.root_bus().attach(3, 0, endpoint(40));
  EXPECT_FALSE(f0->multifunction());
  auto* f1 = *rc.root_bus().attach(3, 1, endpoint(41));
  EXPECT_TRUE(f0->multifunction());
  EXPECT_TRUE(f1->multifunction());
  ASSERT_TRUE(rc.enumerate());
  EXPECT_EQ(rc.route(SourceId::make(0, 3, 1)), f1);
}

TEST(Enumeration, RunsOutOfMmioWindow) {
  RootComplex rc;
  auto f = std::make_unique<Function>(FunctionIdentity{0x8086, 1, 0, 0});
  ASSERT_TRUE(f->define_bar(0, BarSpec{BarKind::kMemory32, 0x100000, false}));
  ASSERT_TRUE(rc.root_bus().attach(0, 0, std::move(f)));
  EnumerationOptions options;
  options.mmio_base = 0xC0000000;
  options.mmio_limit = 0xC0080000;
  auto r = rc.enumerate(options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kExhausted);
}

}  // namespace
}  // namespace vtdsim::pci
