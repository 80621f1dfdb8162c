// Config space masks, RW1C, access validity; BAR sizing values.
#include <gtest/gtest.h>

#include "pci/bridge.h"
#include "pci/config_space.h"
#include "pci/function.h"

namespace vtdsim::pci {
namespace {

TEST(ConfigSpace, MasksDecideWhichBitsAWriteChanges) {
  ConfigSpace cs;
  cs.set32(0x40, 0xAABBCCDD);
  cs.set_masks(0x40, 4, 0x0000FF00u, 0x000000F0u);
  ASSERT_TRUE(cs.write(0x40, 4, 0x12345678u));
  // Bits 15:8 take 0x56; bits 7:4 (RW1C) clear where written 1 (0x7 -> clears bits 4,5,6);
  // RO bits keep their value.
  EXPECT_EQ(cs.read(0x40, 4), 0xAABB568Du);
  ASSERT_TRUE(cs.write(0x40, 1, 0x80));
  EXPECT_EQ(cs.read(0x40, 4), 0xAABB560Du);
}

TEST(ConfigSpace, MisalignedAndOutOfRangeAccesses) {
  ConfigSpace cs;
  cs.set_masks(0x40, 4, 0xFFFFFFFFu);
  EXPECT_EQ(cs.read(0x41, 2), 0xFFFFFFFFu);
  EXPECT_EQ(cs.read(0x42, 4), 0xFFFFFFFFu);
  EXPECT_EQ(cs.read(0x40, 3), 0xFFFFFFFFu);
  EXPECT_EQ(cs.read(4096, 1), 0xFFFFFFFFu);
  EXPECT_EQ(cs.read(4094, 4), 0xFFFFFFFFu);
  EXPECT_FALSE(cs.write(0x41, 2, 0x1234));
  EXPECT_FALSE(cs.write(0x40, 8, 0x1234));
  EXPECT_EQ(cs.read(0x40, 4), 0u);
  EXPECT_EQ(cs.read(4092, 4), 0u);
  EXPECT_EQ(cs.read(0x42, 2), 0u);
}

TEST(Function, CommandRegisterAndStatusRw1c) {
  Function f(FunctionIdentity{0x8086, 0x1234, 0x020000, 3});
  EXPECT_EQ(f.config_read(cfg::kVendorId, 4), 0x12348086u);
  EXPECT_EQ(f.config_read(cfg::kRevisionId, 4), 0x02000003u);
  f.config_write(cfg::kCommand, 2, 0xFFFF);
  EXPECT_EQ(f.config_read(cfg::kCommand, 2), 0x0547u);
  EXPECT_TRUE(f.bus_master_enabled());
  EXPECT_TRUE(f.dma().bus_master());
  f.set_status_bits(static_cast<std::uint16_t>(status::RMA::kMask | status::RTA::kMask));
  EXPECT_EQ(f.config_read(cfg::kStatus, 2), 0x3000u);
  f.config_write(cfg::kStatus, 2, 0x2000);  // clear RMA only
  EXPECT_EQ(f.config_read(cfg::kStatus, 2), 0x1000u);
  f.config_write(cfg::kVendorId, 2, 0);  // read-only
  EXPECT_EQ(f.config_read(cfg::kVendorId, 2), 0x8086u);
  // A dword write covering command and status: command written, status RW1C.
  f.config_write(cfg::kCommand, 4, 0x10000000u);
  EXPECT_EQ(f.config_read(cfg::kCommand, 4), 0u);
  EXPECT_FALSE(f.dma().bus_master());
}

TEST(Function, ConventionalFunctionHasOnly256Bytes) {
  Function conventional(FunctionIdentity{0x8086, 1, 0, 0});
  EXPECT_EQ(conventional.config_read(0x100, 4), 0xFFFFFFFFu);
  EXPECT_EQ(conventional.config_read(0xFC, 4), 0u);
  Function express(FunctionIdentity{0x8086, 2, 0, 0});
  ASSERT_TRUE(express.add_pcie_capability(PortType::kEndpoint));
  EXPECT_EQ(express.config_read(0x100, 4), 0u);
}

TEST(Bar, SizingReadsBackTheMaskAndTypeBits) {
  Function f(FunctionIdentity{0x8086, 3, 0, 0});
  ASSERT_TRUE(f.define_bar(0, BarSpec{BarKind::kMemory32, 0x1000, false}));
  ASSERT_TRUE(f.define_bar(2, BarSpec{BarKind::kMemory64, 0x4000, true}));
  ASSERT_TRUE(f.define_bar(4, BarSpec{BarKind::kIo, 32, false}));
  for (unsigned i = 0; i < 6; ++i) f.config_write(cfg::kBar0 + 4 * i, 4, 0xFFFFFFFFu);
  EXPECT_EQ(f.config_read(0x10, 4), 0xFFFFF000u);
  EXPECT_EQ(f.config_read(0x14, 4), 0u);  // unimplemented
  EXPECT_EQ(f.config_read(0x18, 4), 0xFFFFC00Cu);
  EXPECT_EQ(f.config_read(0x1C, 4), 0xFFFFFFFFu);
  EXPECT_EQ(f.config_read(0x20, 4), 0xFFFFFFE1u);
  EXPECT_EQ(f.config_read(0x24, 4), 0u);
  f.config_write(0x18, 4, 0x12345678u);
  f.config_write(0x1C, 4, 0x9u);
  EXPECT_EQ(f.config_read(0x18, 4), 0x1234400Cu);
  EXPECT_EQ(f.bar_address(2), 0x912344000ull);
}

TEST(Bar, LargeSixtyFourBitBarMasksTheHighDword) {
  Function f(FunctionIdentity{0x8086, 3, 0, 0});
  ASSERT_TRUE(f.define_bar(0, BarSpec{BarKind::kMemory64, std::uint64_t{1} << 33, false}));
  f.config_write(0x10, 4, 0xFFFFFFFFu);
  f.config_write(0x14, 4, 0xFFFFFFFFu);
  EXPECT_EQ(f.config_read(0x10, 4), 0x00000004u);
  EXPECT_EQ(f.config_read(0x14, 4), 0xFFFFFFFEu);
}

TEST(Bar, DefinitionErrors) {
  Function f(FunctionIdentity{0x8086, 3, 0, 0});
  EXPECT_FALSE(f.define_bar(0, BarSpec{BarKind::kMemory32, 0x1800, false}));
  EXPECT_FALSE(f.define_bar(5, BarSpec{BarKind::kMemory64, 0x1000, false}));
  EXPECT_FALSE(f.define_bar(6, BarSpec{BarKind::kMemory32, 0x1000, false}));
  EXPECT_FALSE(f.define_bar(0, BarSpec{BarKind::kIo, 512, false}));
  ASSERT_TRUE(f.define_bar(0, BarSpec{BarKind::kMemory64, 0x1000, false}));
  auto upper = f.define_bar(1, BarSpec{BarKind::kMemory32, 0x1000, false});
  ASSERT_FALSE(upper);
  EXPECT_EQ(upper.error().message, "BAR1 is the upper half of a 64-bit BAR");
  Bridge b(FunctionIdentity{0x8086, 4, 0, 0}, BridgeKind::kRootPort);
  EXPECT_FALSE(b.define_bar(2, BarSpec{BarKind::kMemory32, 0x1000, false}));
}

TEST(Bar, MemoryDecodeNeedsMseAndAnAssignedBase) {
  Function f(FunctionIdentity{0x8086, 3, 0, 0});
  ASSERT_TRUE(f.define_bar(0, BarSpec{BarKind::kMemory32, 0x1000, false}));
  f.config_write(0x10, 4, 0xC0001000u);
  EXPECT_FALSE(f.decode_mmio(0xC0001010, 4).has_value());
  f.config_write(cfg::kCommand, 2, command::MSE::kMask);
  auto hit = f.decode_mmio(0xC0001010, 4);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->bar, 0u);
  EXPECT_EQ(hit->offset, 0x10u);
  EXPECT_FALSE(f.decode_mmio(0xC0001FFE, 4).has_value());  // straddles the end
  EXPECT_FALSE(f.decode_mmio(0xC0002000, 4).has_value());
  EXPECT_EQ(f.mmio_read(0, 0x1000, 4), ~std::uint64_t{0});
}

TEST(Bridge, Type1HeaderRegisters) {
  Bridge b(FunctionIdentity{0x8086, 5, 0, 0}, BridgeKind::kSwitchDownstream);
  EXPECT_EQ(b.config_read(cfg::kHeaderType, 1), 1u);
  EXPECT_EQ(b.config_read(cfg::kRevisionId, 4) >> 8, kBridgeClassCode);
  EXPECT_EQ(b.config_read(cfg::kClassCode, 4), 0xFFFFFFFFu);  // misaligned
  b.config_write(cfg::kPrimaryBus, 4, 0x00050302u);
  EXPECT_EQ(b.primary_bus_number(), 2u);
  EXPECT_EQ(b.secondary_bus_number(), 3u);
  EXPECT_EQ(b.subordinate_bus_number(), 5u);
  b.config_write(cfg::kMemoryBase, 4, 0xFFFFFFFFu);
  EXPECT_EQ(b.config_read(cfg::kMemoryBase, 4), 0xFFF0FFF0u);
  b.config_write(cfg::kPrefMemoryBase, 4, 0xFFFFFFFFu);
  EXPECT_EQ(b.config_read(cfg::kPrefMemoryBase, 4), 0xFFF1FFF1u);
  ASSERT_TRUE(b.port_type().has_value());
  EXPECT_EQ(*b.port_type(), PortType::kDownstreamPort);
}

}  // namespace
}  // namespace vtdsim::pci
