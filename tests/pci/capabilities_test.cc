// Capability chain layout and walking, capability register masks.
#include <gtest/gtest.h>

#include "pci/capabilities.h"
#include "pci/function.h"

namespace vtdsim::pci {
namespace {

class FullFunction : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(f.define_bar(0, BarSpec{BarKind::kMemory64, 0x4000, false}));
    ASSERT_EQ(*f.add_pm_capability(), 0x40u);
    ASSERT_EQ(*f.add_msi_capability(MsiConfig{4, true, true}), 0x48u);
    ASSERT_EQ(*f.add_msix_capability(MsixConfig{8, 0, 0x2000, 0, 0x3000}), 0x60u);
    ASSERT_EQ(*f.add_pcie_capability(PortType::kEndpoint), 0x6Cu);
    ASSERT_EQ(*f.add_acs_capability(acs::kSv | acs::kRr | acs::kCr | acs::kUf), 0x100u);
    ASSERT_EQ(*f.add_ats_capability(AtsConfig{5, true, true}), 0x108u);
    ASSERT_EQ(*f.add_pasid_capability(PasidConfig{16, true, false}), 0x110u);
  }
  Function f{FunctionIdentity{0x8086, 0x10, 0, 0}};
};

TEST_F(FullFunction, ChainWalksInOrder) {
  const std::vector<CapabilityEntry> expected = {
      {false, cap_id::kPowerManagement, 0x40},
      {false, cap_id::kMsi, 0x48},
      {false, cap_id::kMsix, 0x60},
      {false, cap_id::kPciExpress, 0x6C},
      {true, ext_cap_id::kAcs, 0x100},
      {true, ext_cap_id::kAts, 0x108},
      {true, ext_cap_id::kPasid, 0x110},
  };
  EXPECT_EQ(list_capabilities(f.config()), expected);
  EXPECT_EQ(f.config_read(cfg::kStatus, 2) & 0x10u, 0x10u);
  EXPECT_EQ(f.config_read(cfg::kCapabilitiesPointer, 1), 0x40u);
  EXPECT_EQ(f.config_read(0x40, 2), 0x4801u);       // PM id, next = 0x48
  EXPECT_EQ(f.config_read(0x100, 4), 0x1081000Du);  // ACS v1, next 0x108
  EXPECT_EQ(f.config_read(0x110, 4), 0x0001001Bu);  // PASID, end of list
  EXPECT_EQ(find_capability(f.config(), cap_id::kMsix), 0x60u);
  EXPECT_EQ(find_extended_capability(f.config(), ext_cap_id::kAts), 0x108u);
  EXPECT_FALSE(find_extended_capability(f.config(), 0x0010).has_value());
}

TEST_F(FullFunction, CapabilityRegisterMasks) {
  // MSI control: 64-bit, PVM, MMC = log2(4) = 2; only ENABLE and MME writable.
  EXPECT_EQ(f.config_read(0x4A, 2), 0x0184u);
  f.config_write(0x4A, 2, 0xFFFF);
  EXPECT_EQ(f.config_read(0x4A, 2), 0x01F5u);
  // MSI-X control: table size 7; function mask and enable writable; locators RO.
  EXPECT_EQ(f.config_read(0x62, 2), 0x0007u);
  f.config_write(0x62, 2, 0xFFFF);
  EXPECT_EQ(f.config_read(0x62, 2), 0xC007u);
  EXPECT_EQ(f.config_read(0x64, 4), 0x2000u);
  EXPECT_EQ(f.config_read(0x68, 4), 0x3000u);
  // PCIe flags: version 2, endpoint.
  EXPECT_EQ(f.config_read(0x6E, 2), 0x0002u);
  // ACS control follows the capability bits.
  EXPECT_EQ(f.config_read(0x104, 2), 0x001Du);
  f.config_write(0x106, 2, 0xFFFF);
  EXPECT_EQ(f.config_read(0x106, 2), 0x001Du);
  // ATS: IQD 5, PAR, GIS; control STU and enable writable.
  EXPECT_EQ(f.config_read(0x10C, 2), 0x0065u);
  f.config_write(0x10E, 2, 0xFFFF);
  EXPECT_EQ(f.config_read(0x10E, 2), 0x801Fu);
  EXPECT_TRUE(f.ats_enabled());
  // PASID: width 16, execute supported; privileged enable stays 0.
  EXPECT_EQ(f.config_read(0x114, 2), 0x1002u);
  f.config_write(0x116, 2, 0xFFFF);
  EXPECT_EQ(f.config_read(0x116, 2), 0x0003u);
  EXPECT_TRUE(f.pasid_enabled());
  // PM: power state and PME_En writable, PME_Status RW1C.
  f.config_write(0x44, 2, 0xFFFF);
  EXPECT_EQ(f.config_read(0x44, 2), 0x010Bu);
}

TEST(Capabilities, MsiLayoutsBySize) {
  Function a(FunctionIdentity{});
  ASSERT_EQ(*a.add_msi_capability(MsiConfig{1, false, false}), 0x40u);
  ASSERT_EQ(*a.add_pm_capability(), 0x4Cu);  // 32-bit without masking: 10 bytes, aligned 12
  Function b(FunctionIdentity{});
  ASSERT_EQ(*b.add_msi_capability(MsiConfig{32, true, true}), 0x40u);
  ASSERT_EQ(*b.add_pm_capability(), 0x58u);  // 64-bit with masking: 24 bytes
  b.config_write(0x50, 4, 0xFFFFFFFFu);      // mask bits: all 32 vectors
  EXPECT_EQ(b.config_read(0x50, 4), 0xFFFFFFFFu);
  b.config_write(0x54, 4, 0xFFFFFFFFu);  // pending: read-only
  EXPECT_EQ(b.config_read(0x54, 4), 0u);
}

TEST(Capabilities, BuilderErrors) {
  Function f(FunctionIdentity{});
  EXPECT_FALSE(f.add_msi_capability(MsiConfig{3, true, true}));
  EXPECT_FALSE(f.add_acs_capability(acs::kSv));  // needs PCIe first
  auto msix = f.add_msix_capability(MsixConfig{4, 0, 0, 0, 0x100});
  ASSERT_FALSE(msix);
  EXPECT_EQ(msix.error().message, "MSI-X structures need a memory BAR defined first (BAR0)");
  ASSERT_TRUE(f.define_bar(0, BarSpec{BarKind::kMemory32, 0x100, false}));
  EXPECT_FALSE(f.add_msix_capability(MsixConfig{4, 0, 0, 0, 0x20}));   // overlap
  EXPECT_FALSE(f.add_msix_capability(MsixConfig{16, 0, 0, 0, 0xF8}));  // table too big
  ConfigSpace cs;
  CapabilityChain chain;
  for (int i = 0; i < 32; ++i) (void)add_standard_capability(cs, chain, 0x09, 8);
  EXPECT_FALSE(add_standard_capability(cs, chain, 0x09, 8));
}

TEST(Capabilities, WalkerSurvivesALoop) {
  ConfigSpace cs;
  cs.set16(cfg::kStatus, 0x10);
  cs.set8(cfg::kCapabilitiesPointer, 0x40);
  cs.set8(0x40, 0x01);
  cs.set8(0x41, 0x40);  // points at itself
  EXPECT_FALSE(find_capability(cs, cap_id::kMsi).has_value());
  cs.set32(0x100, 0x10000001u);  // extended header pointing at itself
  EXPECT_FALSE(find_extended_capability(cs, ext_cap_id::kAcs).has_value());
}

}  // namespace
}  // namespace vtdsim::pci
