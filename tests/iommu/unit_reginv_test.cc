// Register-based invalidation: CCMD and IOTLB/IVA commands on a fake target (granularity
// requested, performed and reported in CAIG/IAIG), the upper-dword trigger, and on the real
// unit (ignored while QIE=1).
#include <gtest/gtest.h>

#include "iommu/register_file.h"
#include "iommu/register_invalidation.h"
#include "iommu/registers.h"
#include "tests/iommu/unit_test_util.h"

namespace vtdsim::iommu {
namespace {

using namespace test_support;
using namespace reg_offset;

constexpr std::uint64_t kIcc = 1ull << 63;
constexpr std::uint64_t cirg(unsigned g) {
  return std::uint64_t{g} << 61;
}
constexpr std::uint64_t caig(unsigned g) {
  return std::uint64_t{g} << 59;
}
constexpr std::uint64_t kIvt = 1ull << 63;
constexpr std::uint64_t iirg(unsigned g) {
  return std::uint64_t{g} << 60;
}
constexpr std::uint64_t iaig(unsigned g) {
  return std::uint64_t{g} << 57;
}
constexpr std::uint32_t kIva = 0x200;
constexpr std::uint32_t kIotlb = 0x208;

class RegisterInvalidationTest : public ::testing::Test {
 protected:
  explicit RegisterInvalidationTest(const UnitConfig& c = UnitConfig{})
      : config_(c), regs_(config_), inv_(regs_, config_, target_, stats_) {}

  // A register write followed by the command trigger the unit applies.
  void write(std::uint32_t off, unsigned size, std::uint64_t v) {
    const WriteResult w = regs_.write(off, size, v);
    if (!w.high) return;
    if (w.reg == Reg::kCcmd) inv_.on_ccmd_write();
    if (w.reg == Reg::kIotlb) inv_.on_iotlb_write();
  }

  UnitConfig config_;
  UnitStats stats_{};
  RegisterFile regs_;
  FakeTarget target_;
  RegisterInvalidation inv_;
};

TEST_F(RegisterInvalidationTest, CcmdGlobal) {
  write(kCcmd, 8, kIcc | cirg(1));
  ASSERT_EQ(target_.contexts.size(), 1u);
  EXPECT_EQ(target_.contexts[0].granularity, Granularity::kGlobal);
  EXPECT_EQ(regs_.read(kCcmd, 8), cirg(1) | caig(1));  // ICC clear, CAIG global
}

TEST_F(RegisterInvalidationTest, CcmdDomainReportedAsPerformed) {
  write(kCcmd, 8, kIcc | cirg(2) | 42);
  EXPECT_EQ(target_.contexts.at(0).did, 42u);
  EXPECT_EQ(regs_.read(kCcmd, 8), cirg(2) | caig(2) | 42);
  target_.context_result = Granularity::kGlobal;  // hardware chose a coarser invalidation
  write(kCcmd, 8, kIcc | cirg(2) | 43);
  EXPECT_EQ(regs_.read(kCcmd, 8), cirg(2) | caig(1) | 43);
}

TEST_F(RegisterInvalidationTest, CcmdDeviceWithFunctionMaskInTwoHalves) {
  write(kCcmd, 4, (0x0318u << 16) | 9);  // low dword: DID, SID: no command yet
  EXPECT_TRUE(target_.contexts.empty());
  write(kCcmd + 4, 4, static_cast<std::uint32_t>((kIcc | cirg(3) | (3ull << 32)) >> 32));
  ASSERT_EQ(target_.contexts.size(), 1u);
  const ContextInvalidation& c = target_.contexts[0];
  EXPECT_EQ(c.granularity, Granularity::kSelective);
  EXPECT_EQ(c.did, 9u);
  EXPECT_EQ(c.sid.raw, 0x0318u);
  EXPECT_EQ(c.function_mask, 3u);
  EXPECT_EQ(regs_.read(kCcmd, 8), cirg(3) | caig(3) | (3ull << 32) | (0x0318u << 16) | 9);
}

TEST_F(RegisterInvalidationTest, CcmdInvalidGranularity) {
  write(kCcmd, 8, kIcc);
  EXPECT_TRUE(target_.contexts.empty());
  EXPECT_EQ(regs_.read(kCcmd, 8), 0u);  // ICC cleared, CAIG 00
}

TEST_F(RegisterInvalidationTest, IotlbGlobalAndDomain) {
  write(kIotlb, 8, kIvt | iirg(1));
  write(kIotlb, 8, kIvt | iirg(2) | (7ull << 32) | (3ull << 48));  // DR, DW
  ASSERT_EQ(target_.iotlbs.size(), 2u);
  EXPECT_EQ(target_.iotlbs[0].granularity, Granularity::kGlobal);
  EXPECT_EQ(target_.iotlbs[1].granularity, Granularity::kDomain);
  EXPECT_EQ(target_.iotlbs[1].did, 7u);
  EXPECT_TRUE(target_.iotlbs[1].drain_reads);
  EXPECT_TRUE(target_.iotlbs[1].drain_writes);
  EXPECT_EQ(regs_.read(kIotlb, 8), iirg(2) | iaig(2) | (7ull << 32) | (3ull << 48));
}

TEST_F(RegisterInvalidationTest, IotlbPageSelectiveUsesIva) {
  write(kIva, 8, 0xABCDE000 | 0x40 | 2);  // IH, AM = 2
  write(kIotlb, 4, 0);
  EXPECT_TRUE(target_.iotlbs.empty());
  write(kIotlb + 4, 4, static_cast<std::uint32_t>((kIvt | iirg(3) | (5ull << 32)) >> 32));
  ASSERT_EQ(target_.iotlbs.size(), 1u);
  const IotlbInvalidation& r = target_.iotlbs[0];
  EXPECT_EQ(r.granularity, Granularity::kSelective);
  EXPECT_EQ(r.did, 5u);
  EXPECT_EQ(r.address, 0xABCDE000u);
  EXPECT_EQ(r.am, 2u);
  EXPECT_TRUE(r.ih);
  EXPECT_EQ(regs_.read(kIotlb, 8), iirg(3) | iaig(3) | (5ull << 32));
}

TEST_F(RegisterInvalidationTest, AddressMaskBeyondMamvFails) {
  write(kIva, 8, 0x100000 | 19);  // MAMV = 18
  write(kIotlb, 8, kIvt | iirg(3) | (5ull << 32));
  EXPECT_TRUE(target_.iotlbs.empty());
  EXPECT_EQ(regs_.read(kIotlb, 8), iirg(3) | (5ull << 32));  // IAIG 0
  EXPECT_EQ(stats_.iotlb_inv_failed, 1u);
  write(kIotlb, 8, kIvt);  // IIRG 00
  EXPECT_EQ(regs_.read(kIotlb, 8), 0u);
  EXPECT_EQ(stats_.iotlb_inv_failed, 2u);
}

UnitConfig no_psi() {
  UnitConfig c;
  c.psi = false;
  return c;
}

class NoPsiTest : public RegisterInvalidationTest {
 protected:
  NoPsiTest() : RegisterInvalidationTest(no_psi()) {}
};

TEST_F(NoPsiTest, PageSelectiveFallsBackToDomain) {
  write(kIva, 8, 0x100000 | 40);  // AM beyond MAMV does not matter without PSI
  write(kIotlb, 8, kIvt | iirg(3) | (5ull << 32));
  ASSERT_EQ(target_.iotlbs.size(), 1u);
  EXPECT_EQ(target_.iotlbs[0].granularity, Granularity::kDomain);
  EXPECT_EQ(regs_.read(kIotlb, 8), iirg(3) | iaig(2) | (5ull << 32));
}

// On the real unit.
TEST(UnitRegisterInvalidation, ReportsGranularityAndCounts) {
  UnitRig rig;
  rig.wr64(kCcmd, kIcc | cirg(1));
  EXPECT_EQ(rig.rd64(kCcmd), cirg(1) | caig(1));
  rig.wr64(kCcmd, kIcc | cirg(3) | (0x10ull << 16) | 1);
  EXPECT_EQ(rig.rd64(kCcmd) >> 59, (cirg(3) | caig(3)) >> 59);
  rig.wr64(kIva, 0x5000);
  rig.wr64(kIotlb, kIvt | iirg(3) | (1ull << 32));
  EXPECT_EQ(rig.rd64(kIotlb), iirg(3) | iaig(3) | (1ull << 32));
  rig.wr64(kIotlb, kIvt | iirg(1));
  EXPECT_EQ(rig.rd64(kIotlb), iirg(1) | iaig(1));
  const UnitStats& s = rig.unit.stats();
  EXPECT_EQ(s.ctxt_inv_global, 1u);
  EXPECT_EQ(s.ctxt_inv_device, 1u);
  EXPECT_EQ(s.iotlb_inv_page, 1u);
  EXPECT_EQ(s.iotlb_inv_global, 1u);
  EXPECT_EQ(s.register_invalidations, 4u);
  EXPECT_EQ(rig.unit.dma_remapper().stats().ctxt_inval_global, 1u);
  EXPECT_EQ(rig.unit.dma_remapper().stats().iotlb_inval_page, 1u);
}

TEST(UnitRegisterInvalidation, IgnoredWhileQueuedInvalidationIsEnabled) {
  UnitRig rig;
  rig.wr64(kCcmd, 5);  // DID 5, no command
  rig.enable_qi(0x40000);
  rig.wr64(kCcmd, kIcc | cirg(1));
  rig.wr32(kCcmd, 7);
  EXPECT_EQ(rig.rd64(kCcmd), 5u);
  rig.wr64(kIotlb, kIvt | iirg(1));
  EXPECT_EQ(rig.rd64(kIotlb), 0u);
  EXPECT_EQ(rig.unit.stats().register_writes_ignored, 3u);
  EXPECT_EQ(rig.unit.stats().register_invalidations, 0u);
  EXPECT_EQ(rig.unit.dma_remapper().stats().ctxt_inval_global, 0u);
  EXPECT_EQ(rig.unit.dma_remapper().stats().iotlb_inval_global, 0u);
}

}  // namespace
}  // namespace vtdsim::iommu
