// IOMMU group computation for a zoo of topologies.
#include <gtest/gtest.h>

#include "pci/iommu_group.h"

namespace vtdsim::pci {
namespace {

constexpr std::uint16_t kIsolating = acs::kSv | acs::kRr | acs::kCr | acs::kUf;

std::unique_ptr<Function> ep(std::optional<PortType> type = PortType::kEndpoint,
                             std::uint16_t acs_cap = 0) {
  auto f = std::make_unique<Function>(FunctionIdentity{0x8086, 0x10, 0x020000, 0});
  if (type) (void)f->add_pcie_capability(*type);
  if (acs_cap != 0) (void)f->add_acs_capability(acs_cap);
  return f;
}

Bridge* port(Bus& bus, unsigned dev, BridgeKind kind, std::uint16_t acs_cap = 0) {
  Bridge* b = *bus.add<Bridge>(dev, 0, FunctionIdentity{0x8086, 0x20, 0, 0}, kind);
  if (acs_cap != 0) (void)b->add_acs_capability(acs_cap);
  return b;
}

// Group ids of the given functions, for compact comparisons.
std::vector<int> ids(const std::vector<IommuGroup>& g, std::initializer_list<const Function*> fs) {
  std::vector<int> out;
  for (const Function* f : fs) out.push_back(group_of(g, *f));
  return out;
}

TEST(IommuGroups, RootPortsWithAcsIsolateTheirEndpoints) {
  RootComplex rc;
  Bridge* rp1 = port(rc.root_bus(), 1, BridgeKind::kRootPort, kIsolating);
  Bridge* rp2 = port(rc.root_bus(), 2, BridgeKind::kRootPort, kIsolating);
  Function* a = *rp1->secondary().attach(0, 0, ep());
  Function* b = *rp2->secondary().attach(0, 0, ep());
  ASSERT_TRUE(rc.enumerate());
  EXPECT_TRUE(acs_path_enabled(*a));
  const auto g = compute_iommu_groups(rc);
  EXPECT_EQ(g.size(), 4u);
  EXPECT_EQ(ids(g, {rp1, a, rp2, b}), (std::vector<int>{0, 1, 2, 3}));
}

TEST(IommuGroups, AcsCapabilityWithoutEnabledControlsDoesNotIsolate) {
  RootComplex rc;
  Bridge* rp = port(rc.root_bus(), 1, BridgeKind::kRootPort, kIsolating);
  Function* a = *rp->secondary().attach(0, 0, ep());
  EnumerationOptions options;
  options.enable_acs = false;
  ASSERT_TRUE(rc.enumerate(options));
  EXPECT_FALSE(acs_enabled(*rp));
  const auto g = compute_iommu_groups(rc);
  EXPECT_EQ(ids(g, {rp, a}), (std::vector<int>{0, 0}));
}

TEST(IommuGroups, RootPortWithoutAcsJoinsEverythingBelow) {
  RootComplex rc;
  Bridge* rp = port(rc.root_bus(), 1, BridgeKind::kRootPort);
  Bridge* usp = port(rp->secondary(), 0, BridgeKind::kSwitchUpstream);
  Bridge* d1 = port(usp->secondary(), 0, BridgeKind::kSwitchDownstream, kIsolating);
  Bridge* d2 = port(usp->secondary(), 1, BridgeKind::kSwitchDownstream, kIsolating);
  Function* a = *d1->secondary().attach(0, 0, ep());
  Function* b = *d2->secondary().attach(0, 0, ep());
  Bridge* other = port(rc.root_bus(), 2, BridgeKind::kRootPort, kIsolating);
  Function* c = *other->secondary().attach(0, 0, ep());
  ASSERT_TRUE(rc.enumerate());
  const auto g = compute_iommu_groups(rc);
  EXPECT_EQ(ids(g, {rp, usp, d1, d2, a, b, other, c}), (std::vector<int>{0, 0, 0, 0, 0, 0, 1, 2}));
}

TEST(IommuGroups, SwitchWithAcsIsolatesEachPort) {
  RootComplex rc;
  Bridge* rp = port(rc.root_bus(), 1, BridgeKind::kRootPort, kIsolating);
  Bridge* usp = port(rp->secondary(), 0, BridgeKind::kSwitchUpstream);
  Bridge* d1 = port(usp->secondary(), 0, BridgeKind::kSwitchDownstream, kIsolating);
  Bridge* d2 = port(usp->secondary(), 1, BridgeKind::kSwitchDownstream, kIsolating);
  Function* a = *d1->secondary().attach(0, 0, ep());
  Function* b = *d2->secondary().attach(0, 0, ep());
  ASSERT_TRUE(rc.enumerate());
  const auto g = compute_iommu_groups(rc);
  EXPECT_EQ(ids(g, {rp, usp, d1, a, d2, b}), (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST(IommuGroups, DownstreamPortWithoutAcsJoinsItsSubtree) {
  // Linux's rule: climbing stops at the first bridge whose path to the root is isolated, so
  // each non-ACS downstream port anchors the group of what lies below it.
  RootComplex rc;
  Bridge* rp = port(rc.root_bus(), 1, BridgeKind::kRootPort, kIsolating);
  Bridge* usp = port(rp->secondary(), 0, BridgeKind::kSwitchUpstream);
  Bridge* d1 = port(usp->secondary(), 0, BridgeKind::kSwitchDownstream);
  Bridge* d2 = port(usp->secondary(), 1, BridgeKind::kSwitchDownstream, kIsolating);
  Function* a = *d1->secondary().attach(0, 0, ep());
  Function* b = *d2->secondary().attach(0, 0, ep());
  ASSERT_TRUE(rc.enumerate());
  const auto g = compute_iommu_groups(rc);
  EXPECT_EQ(ids(g, {rp, usp, d1, a, d2, b}), (std::vector<int>{0, 1, 2, 2, 3, 4}));
}

TEST(IommuGroups, MultiFunctionWithoutAcsShares) {
  RootComplex rc;
  Bridge* rp = port(rc.root_bus(), 1, BridgeKind::kRootPort, kIsolating);
  Function* f0 = *rp->secondary().attach(0, 0, ep());
  Function* f1 = *rp->secondary().attach(0, 1, ep());
  Function* f2 = *rp->secondary().attach(0, 2, ep(PortType::kEndpoint, kIsolating));
  ASSERT_TRUE(rc.enumerate());
  EXPECT_FALSE(acs_enabled(*f0));
  EXPECT_TRUE(acs_enabled(*f2));
  const auto g = compute_iommu_groups(rc);
  EXPECT_EQ(ids(g, {rp, f0, f1, f2}), (std::vector<int>{0, 1, 1, 2}));
}

TEST(IommuGroups, MultiFunctionWithAcsIsolatesEachFunction) {
  RootComplex rc;
  Bridge* rp = port(rc.root_bus(), 1, BridgeKind::kRootPort, kIsolating);
  Function* f0 = *rp->secondary().attach(0, 0, ep(PortType::kEndpoint, kIsolating));
  Function* f1 = *rp->secondary().attach(0, 1, ep(PortType::kEndpoint, kIsolating));
  ASSERT_TRUE(rc.enumerate());
  const auto g = compute_iommu_groups(rc);
  EXPECT_EQ(ids(g, {rp, f0, f1}), (std::vector<int>{0, 1, 2}));
}

TEST(IommuGroups, PcieToPciBridgeSharesOneGroupWithEverythingBehindIt) {
  RootComplex rc;
  Bridge* rp = port(rc.root_bus(), 1, BridgeKind::kRootPort, kIsolating);
  Bridge* p2p = port(rp->secondary(), 0, BridgeKind::kPcieToPci);
  Function* a = *p2p->secondary().attach(1, 0, ep(std::nullopt));
  Function* b = *p2p->secondary().attach(2, 0, ep(std::nullopt));
  Bridge* legacy = port(p2p->secondary(), 3, BridgeKind::kPciToPci);
  Function* c = *legacy->secondary().attach(4, 0, ep(std::nullopt));
  ASSERT_TRUE(rc.enumerate());
  const auto g = compute_iommu_groups(rc);
  EXPECT_EQ(ids(g, {rp, p2p, a, b, legacy, c}), (std::vector<int>{0, 1, 1, 1, 1, 1}));
}

TEST(IommuGroups, RootComplexIntegratedEndpoints) {
  RootComplex rc;
  Function* gpu = *rc.root_bus().attach(2, 0, ep(PortType::kRcIntegratedEndpoint));
  Function* audio = *rc.root_bus().attach(3, 0, ep(PortType::kRcIntegratedEndpoint));
  Function* lpc = *rc.root_bus().attach(0x1F, 0, ep(PortType::kRcIntegratedEndpoint));
  Function* smbus = *rc.root_bus().attach(0x1F, 3, ep(PortType::kRcIntegratedEndpoint));
  Function* legacy = *rc.root_bus().attach(0x1E, 0, ep(std::nullopt));  // conventional
  ASSERT_TRUE(rc.enumerate());
  const auto g = compute_iommu_groups(rc);
  EXPECT_EQ(ids(g, {gpu, audio, legacy, lpc, smbus}), (std::vector<int>{0, 1, 2, 3, 3}));
}

TEST(IommuGroups, QuirkDmaAliasesShareAGroup) {
  RootComplex rc;
  Function* a = *rc.root_bus().attach(4, 0, ep(PortType::kRcIntegratedEndpoint));
  Function* b = *rc.root_bus().attach(5, 0, ep(PortType::kRcIntegratedEndpoint));
  Function* c = *rc.root_bus().attach(6, 0, ep(PortType::kRcIntegratedEndpoint));
  b->set_dma_alias_devfn(static_cast<std::uint8_t>(4 << 3));  // b also issues DMA as 00:04.0
  ASSERT_TRUE(rc.enumerate());
  const auto g = compute_iommu_groups(rc);
  EXPECT_EQ(ids(g, {a, b, c}), (std::vector<int>{0, 0, 1}));
}

}  // namespace
}  // namespace vtdsim::pci
