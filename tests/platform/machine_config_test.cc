// MachineConfig validation (DMAR rules of VT-d ch. 8, the memory map, the topology) and the
// errors Machine::create() adds once scopes are resolved against the enumerated buses.
#include <gtest/gtest.h>

#include <functional>

#include "tests/platform/machine_rig.h"

namespace vtdsim::platform {
namespace {

using namespace test_support;
using model::SourceId;

// rp1 (00:01.0) → dma0 (01:00.0); rp2 (00:02.0) → PCIe-to-PCI bridge (02:00.0) → old1 (03:01.0),
// old2 (03:02.0); one catch-all unit.
MachineConfig base_config() {
  MachineConfig c;
  c.units.push_back(catch_all_unit());
  c.pci.push_back(port_with("rp1", 1, PciNode::device("dma0", NodeKind::kDmaEngine, 0)));
  PciNode old1 = PciNode::device("old1", NodeKind::kEndpoint, 1);
  old1.conventional = true;
  PciNode old2 = PciNode::device("old2", NodeKind::kEndpoint, 2);
  old2.conventional = true;
  c.pci.push_back(port_with(
      "rp2", 2, PciNode::bridge("pcibr", NodeKind::kPcieToPciBridge, 0, 0, 0, {old1, old2})));
  return c;
}

RemappingUnitConfig scoped(std::vector<DeviceScope> scope) {
  RemappingUnitConfig u;
  u.name = "scoped";
  u.scope = std::move(scope);
  return u;
}

// Puts an explicit unit in front of the catch-all.
void add_unit(MachineConfig& c, RemappingUnitConfig u) {
  c.units.insert(c.units.begin(), std::move(u));
}

RmrrConfig rmrr(std::uint64_t base, std::uint64_t limit) {
  return RmrrConfig{base, limit, {DeviceScope::endpoint("dma0")}};
}

struct BadCase {
  const char* name;
  std::function<void(MachineConfig&)> mutate;
  ErrorCode code;
  const char* message;  // a substring the error must contain
};

class InvalidConfig : public ::testing::TestWithParam<BadCase> {};

TEST_P(InvalidConfig, IsRejectedWithANamedError) {
  MachineConfig c = base_config();
  GetParam().mutate(c);
  const Status s = c.validate();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, GetParam().code) << s.error().message;
  EXPECT_NE(s.error().message.find(GetParam().message), std::string::npos) << s.error().message;
  // create() reports the same error.
  auto m = Machine::create(c);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message, s.error().message);
}

const BadCase kBadCases[] = {
    {"address_width", [](MachineConfig& c) { c.address_width = 31; }, ErrorCode::kInvalidArgument,
     "address_width 31"},
    {"ram_unaligned", [](MachineConfig& c) { c.ram_size = 0x1000'0800; },
     ErrorCode::kInvalidArgument, "ram_size"},
    {"ram_beyond_width",
     [](MachineConfig& c) {
       c.address_width = 32;
       c.units[0].unit.host_address_width = 32;
       c.ram_size = std::uint64_t{4} << 30;
     },
     ErrorCode::kOutOfRange, "does not fit"},
    {"host_region_too_big", [](MachineConfig& c) { c.host_memory_size = c.ram_size * 2; },
     ErrorCode::kInvalidArgument, "host_memory_size"},
    {"no_cpus", [](MachineConfig& c) { c.cpus = 0; }, ErrorCode::kInvalidArgument, "cpus 0"},
    {"bar_window_over_interrupts", [](MachineConfig& c) { c.enumeration.mmio_limit = 0xFF000000; },
     ErrorCode::kInvalidArgument, "BAR window"},
    {"unit_config", [](MachineConfig& c) { c.units[0].unit.nfr = 0; }, ErrorCode::kInvalidArgument,
     "unit 0 'drhd-all': "},
    {"unit_width_mismatch", [](MachineConfig& c) { c.units[0].unit.host_address_width = 39; },
     ErrorCode::kInvalidArgument, "host_address_width 39 differs"},
    {"registers_in_interrupt_window",
     [](MachineConfig& c) { c.units[0].register_base = 0xFEE00000; }, ErrorCode::kInvalidArgument,
     "register window [0xfee00000"},
    {"registers_unaligned", [](MachineConfig& c) { c.units[0].register_base = 0xFED90800; },
     ErrorCode::kInvalidArgument, "4 KiB aligned"},
    {"registers_overlap",
     [](MachineConfig& c) {
       add_unit(c, scoped({DeviceScope::endpoint("dma0")}));
       c.units[0].register_base = 0xFED91000;
       c.units[1].register_base = 0xFED91000;
     },
     ErrorCode::kInvalidArgument, "overlaps unit 0's"},
    {"two_include_pci_all", [](MachineConfig& c) { c.units.push_back(catch_all_unit()); },
     ErrorCode::kInvalidArgument, "at most one unit"},
    {"include_pci_all_not_last",
     [](MachineConfig& c) { c.units.push_back(scoped({DeviceScope::endpoint("dma0")})); },
     ErrorCode::kInvalidArgument, "must be the last"},
    {"include_pci_all_with_scope",
     [](MachineConfig& c) { c.units[0].scope = {DeviceScope::endpoint("dma0")}; },
     ErrorCode::kInvalidArgument, "lists no PCI device scope"},
    {"empty_scope", [](MachineConfig& c) { add_unit(c, scoped({})); }, ErrorCode::kInvalidArgument,
     "covers nothing"},
    {"unknown_device",
     [](MachineConfig& c) { add_unit(c, scoped({DeviceScope::endpoint("gpu")})); },
     ErrorCode::kNotFound, "'gpu'"},
    {"sub_hierarchy_of_endpoint",
     [](MachineConfig& c) { add_unit(c, scoped({DeviceScope::sub_hierarchy("dma0")})); },
     ErrorCode::kInvalidArgument, "not a bridge"},
    {"endpoint_names_bridge",
     [](MachineConfig& c) { add_unit(c, scoped({DeviceScope::endpoint("rp1")})); },
     ErrorCode::kInvalidArgument, "use a sub-hierarchy"},
    {"empty_bus_range", [](MachineConfig& c) { add_unit(c, scoped({DeviceScope::buses(5, 4)})); },
     ErrorCode::kInvalidArgument, "is empty"},
    {"overlapping_bus_ranges",
     [](MachineConfig& c) {
       add_unit(c, scoped({DeviceScope::buses(4, 5)}));
       add_unit(c, scoped({DeviceScope::buses(1, 4)}));
     },
     ErrorCode::kInvalidArgument, "scope buses 04-05 overlaps unit 0's scope buses 01-04"},
    {"endpoint_inside_other_units_buses",
     [](MachineConfig& c) {
       add_unit(c, scoped({DeviceScope::endpoint(SourceId::make(2, 3, 0))}));
       add_unit(c, scoped({DeviceScope::buses(1, 2)}));
     },
     ErrorCode::kInvalidArgument, "overlaps"},
    {"named_sub_hierarchy_contains_endpoint",
     [](MachineConfig& c) {
       add_unit(c, scoped({DeviceScope::endpoint("old2")}));
       add_unit(c, scoped({DeviceScope::sub_hierarchy("rp2")}));
     },
     ErrorCode::kInvalidArgument, "endpoint 'old2' overlaps unit 0's scope sub-hierarchy 'rp2'"},
    {"rmrr_base_unaligned", [](MachineConfig& c) { c.rmrrs = {rmrr(0x100800, 0x101FFF)}; },
     ErrorCode::kInvalidArgument, "4 KiB aligned"},
    {"rmrr_limit_unaligned", [](MachineConfig& c) { c.rmrrs = {rmrr(0x100000, 0x101000)}; },
     ErrorCode::kInvalidArgument, "limit + 1"},
    {"rmrr_outside_ram", [](MachineConfig& c) { c.rmrrs = {rmrr(0xC0000000, 0xC0000FFF)}; },
     ErrorCode::kOutOfRange, "not inside RAM"},
    {"rmrr_in_host_region",
     [](MachineConfig& c) {
       const std::uint64_t at = c.low_ram_end() - model::kPageSize;
       c.rmrrs = {rmrr(at, at + 0xFFF)};
     },
     ErrorCode::kInvalidArgument, "host frame region"},
    {"rmrrs_overlap",
     [](MachineConfig& c) {
       c.rmrrs = {rmrr(0x100000, 0x10FFFF), rmrr(0x10F000, 0x110FFF)};
     },
     ErrorCode::kInvalidArgument, "overlaps rmrr 0"},
    {"rmrr_without_devices",
     [](MachineConfig& c) {
       c.rmrrs = {RmrrConfig{0x100000, 0x100FFF, {}}};
     },
     ErrorCode::kInvalidArgument, "lists no device"},
    {"rmrr_sub_hierarchy",
     [](MachineConfig& c) {
       c.rmrrs = {RmrrConfig{0x100000, 0x100FFF, {DeviceScope::sub_hierarchy("rp1")}}};
     },
     ErrorCode::kInvalidArgument, "is not an endpoint"},
    {"duplicate_names", [](MachineConfig& c) { c.pci[1].children[0].children[1].name = "dma0"; },
     ErrorCode::kAlreadyExists, "'dma0' is used twice"},
    {"children_on_endpoint", [](MachineConfig& c) { c.pci[0].children[0].children = {PciNode{}}; },
     ErrorCode::kInvalidArgument, "node 'dma0': a DMA engine cannot have children"},
    {"slot_out_of_range", [](MachineConfig& c) { c.pci[0].fn = 8; }, ErrorCode::kInvalidArgument,
     "slot 1.8"},
    {"nic_queues",
     [](MachineConfig& c) {
       PciNode nic = PciNode::device("nic", NodeKind::kNic, 7);
       nic.nic.queues = 0;
       c.pci.push_back(nic);
     },
     ErrorCode::kInvalidArgument, "nic.queues 0"},
};

INSTANTIATE_TEST_SUITE_P(Cases, InvalidConfig, ::testing::ValuesIn(kBadCases),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(MachineConfig, BaseConfigIsValidAndBuilds) {
  const MachineConfig c = base_config();
  EXPECT_TRUE(c.validate());
  EXPECT_TRUE(Machine::create(c));
}

TEST(MachineConfig, DefaultRegisterBasesArePackedInTableOrder) {
  MachineConfig c = base_config();
  add_unit(c, scoped({DeviceScope::endpoint("dma0")}));
  c.units[0].unit.fro = 0x100;  // fault registers at 0x1000: an 8 KiB window
  ASSERT_TRUE(c.validate());
  EXPECT_EQ(c.unit_register_base(0), kUnitRegisterBase);
  EXPECT_EQ(c.units[0].unit.mmio_window_size(), 0x2000u);
  EXPECT_EQ(c.unit_register_base(1), kUnitRegisterBase + 0x2000);
}

TEST(MachineConfig, RamAboveTheHoleIsRelocatedAboveFourGiB) {
  MachineConfig c = base_config();
  c.ram_size = std::uint64_t{4} << 30;
  EXPECT_EQ(c.low_ram_end(), kMmioHoleBase);
  EXPECT_EQ(c.high_ram_size(), std::uint64_t{1} << 30);
  c.rmrrs = {rmrr(kHighRamBase, kHighRamBase + 0xFFFF)};
  EXPECT_TRUE(c.validate());
  c.rmrrs = {rmrr(kHighRamBase + (std::uint64_t{1} << 30), kHighRamBase + (1ull << 30) + 0xFFF)};
  EXPECT_FALSE(c.validate());
}

TEST(MachineConfig, OverlapVisibleOnlyAfterEnumerationFailsCreate) {
  MachineConfig c = base_config();
  add_unit(c, scoped({DeviceScope::endpoint(SourceId::make(1, 0, 0))}));  // that is dma0
  add_unit(c, scoped({DeviceScope::endpoint("dma0")}));
  ASSERT_TRUE(c.validate());
  auto m = Machine::create(c);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message,
            "unit 1: scope endpoint 01:00.0 overlaps unit 0's scope endpoint 'dma0' (01:00.0)");
}

TEST(MachineConfig, DevicesSharingABridgeAliasMustShareAUnit) {
  MachineConfig c = base_config();
  add_unit(c, scoped({DeviceScope::endpoint("old1")}));  // old2 stays with the catch-all
  ASSERT_TRUE(c.validate());
  auto m = Machine::create(c);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("both issue DMA as 03:00.0"), std::string::npos)
      << m.error().message;
}

TEST(MachineConfig, AnEndpointScopeOnAConventionalDeviceCoversItsBridgeAlias) {
  MachineConfig c = base_config();
  add_unit(c, scoped({DeviceScope::endpoint("old1"), DeviceScope::endpoint("old2")}));
  auto m = Machine::create(c);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ((*m)->unit_index_for(SourceId::make(3, 0, 0)), 0u);  // the alias their DMA carries
  EXPECT_EQ((*m)->unit_index_for(SourceId::make(1, 0, 0)), 1u);
}

TEST(MachineConfig, TopologyErrorsNameTheNode) {
  MachineConfig c = base_config();
  c.pci.push_back(PciNode::device("clash", NodeKind::kEndpoint, 1));  // 00:01.0 is rp1
  auto m = Machine::create(c);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("node 'clash'"), std::string::npos) << m.error().message;

  c = base_config();
  c.pci[0].children[0].dev = 3;  // below a root port only device 0 exists
  m = Machine::create(c);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("node 'dma0'"), std::string::npos) << m.error().message;
}

}  // namespace
}  // namespace vtdsim::platform
