// Register file of the remapping unit: reset values, RO/RW/RW1C/reserved masks, split 32-bit
// writes, bad accesses, window size, CAP/ECAP encoding and config validation.
#include <gtest/gtest.h>

#include <stdexcept>

#include "iommu/registers.h"
#include "iommu/remapping_unit.h"
#include "tests/iommu/unit_test_util.h"

namespace vtdsim::iommu {
namespace {

using test_support::UnitRig;
using namespace reg_offset;

constexpr std::uint64_t kAllOnes = ~std::uint64_t{0};

TEST(UnitRegisters, ResetValues) {
  UnitRig rig;
  EXPECT_EQ(rig.rd32(kVer), 0x10u);
  EXPECT_EQ(rig.rd64(kCap), 0x08D2078C222F0606u);
  EXPECT_EQ(rig.rd32(kCap), 0x222F0606u);
  EXPECT_EQ(rig.rd32(kCap + 4), 0x08D2078Cu);
  EXPECT_EQ(rig.rd64(kEcap), 0xF0205Bu);
  EXPECT_EQ(rig.rd32(kGcmd), 0u);
  EXPECT_EQ(rig.rd32(kGsts), 0u);
  EXPECT_EQ(rig.rd64(kRtaddr), 0u);
  EXPECT_EQ(rig.rd64(kCcmd), 0u);
  EXPECT_EQ(rig.rd32(kFsts), 0u);
  EXPECT_EQ(rig.rd32(kFectl), 0x80000000u);  // IM set
  EXPECT_EQ(rig.rd32(kFedata), 0u);
  EXPECT_EQ(rig.rd32(kFeaddr), 0u);
  EXPECT_EQ(rig.rd32(kFeuaddr), 0u);
  EXPECT_EQ(rig.rd64(kIqh), 0u);
  EXPECT_EQ(rig.rd64(kIqt), 0u);
  EXPECT_EQ(rig.rd64(kIqa), 0u);
  EXPECT_EQ(rig.rd32(kIcs), 0u);
  EXPECT_EQ(rig.rd32(kIectl), 0x80000000u);
  EXPECT_EQ(rig.rd64(kIqer), 0u);
  EXPECT_EQ(rig.rd64(kIrta), 0u);
  EXPECT_EQ(rig.rd64(0x200), 0u);  // IVA at IRO×16
  EXPECT_EQ(rig.rd64(0x208), 0u);  // IOTLB
  for (unsigned i = 0; i < 8; ++i) {
    EXPECT_EQ(rig.frcd_lo(i), 0u);
    EXPECT_EQ(rig.frcd_hi(i), 0u);
  }
  EXPECT_EQ(rig.unit.mmio_size(), 0x1000u);
}

TEST(UnitRegisters, CapEcapFollowConfig) {
  UnitConfig c;
  c.nd = 2;
  c.rwbf = true;
  c.caching_mode = true;
  c.sagaw = 0b1100;
  c.mgaw = 57;
  c.fro = 0x40;
  c.nfr = 1;
  c.sl_1g_pages = false;
  c.psi = false;
  c.mamv = 9;
  c.dwd = false;
  c.drd = false;
  c.posted_interrupts = false;
  c.esrtps = true;
  c.esirtps = true;
  EXPECT_EQ(c.cap(), (2ull) | (1ull << 4) | (1ull << 7) | (0b1100ull << 8) | (56ull << 16) |
                         (0x40ull << 24) | (1ull << 34) | (9ull << 48) | (1ull << 62) |
                         (1ull << 63));
  c.queued_invalidation = false;
  c.interrupt_remapping = false;
  c.eim = false;
  c.device_tlb = true;
  c.snoop_control = true;
  c.iro = 0x30;
  c.mhmv = 3;
  c.coherent = false;
  EXPECT_EQ(c.ecap(), (1ull << 2) | (1ull << 6) | (1ull << 7) | (0x30ull << 8) | (3ull << 20));
  ASSERT_TRUE(c.validate());
}

TEST(UnitRegisters, ReadOnlyRegistersIgnoreWrites) {
  UnitRig rig;
  rig.wr32(kVer, 0xFF);
  rig.wr64(kCap, kAllOnes);
  rig.wr32(kEcap + 4, 0xFFFFFFFF);
  rig.wr32(kGsts, 0xFFFFFFFF);
  rig.wr64(kIqh, 0x7FFF0);
  rig.wr64(kIqer, kAllOnes);
  EXPECT_EQ(rig.rd32(kVer), 0x10u);
  EXPECT_EQ(rig.rd64(kCap), 0x08D2078C222F0606u);
  EXPECT_EQ(rig.rd64(kEcap), 0xF0205Bu);
  EXPECT_EQ(rig.rd32(kGsts), 0u);
  EXPECT_EQ(rig.rd64(kIqh), 0u);
  EXPECT_EQ(rig.rd64(kIqer), 0u);
  EXPECT_EQ(rig.unit.stats().register_writes_ignored, 6u);
  EXPECT_EQ(rig.unit.stats().bad_accesses, 0u);
}

TEST(UnitRegisters, WritableMasksAndReservedBitsReadZero) {
  UnitRig rig;  // HAW 46, MGAW 48, EIM, no scalable mode
  rig.wr64(kRtaddr, kAllOnes);
  EXPECT_EQ(rig.rd64(kRtaddr), 0x3FFFFFFFF000u);    // RTA 45:12; TTM not writable without SMTS
  rig.wr64(kCcmd, kAllOnes >> 1);                   // ICC clear: no command
  EXPECT_EQ(rig.rd64(kCcmd), 0x60000003FFFFFFFFu);  // DID, SID, FM, CIRG; CAIG is RO
  rig.wr32(kFedata, 0xFFFFFFFF);
  EXPECT_EQ(rig.rd32(kFedata), 0xFFFFu);
  rig.wr32(kFeaddr, 0xFFFFFFFF);
  EXPECT_EQ(rig.rd32(kFeaddr), 0xFFFFFFFCu);
  rig.wr32(kFeuaddr, 0xFFFFFFFF);
  EXPECT_EQ(rig.rd32(kFeuaddr), 0xFFFFFFFFu);
  rig.wr32(kFectl, 0xFFFFFFFF);
  EXPECT_EQ(rig.rd32(kFectl), 0x80000000u);  // IP is RO, reserved bits read 0
  rig.wr32(kFectl, 0x40000000);
  EXPECT_EQ(rig.rd32(kFectl), 0u);
  rig.wr32(kFsts, 0xFFFFFFFF);
  EXPECT_EQ(rig.rd32(kFsts), 0u);
  rig.wr64(kIqt, kAllOnes);
  EXPECT_EQ(rig.rd64(kIqt), 0x7FFF0u);
  rig.wr64(kIqa, kAllOnes);
  EXPECT_EQ(rig.rd64(kIqa), 0x3FFFFFFFF007u);  // base 45:12, QS; DW needs SMTS
  rig.wr32(kIcs, 0xFFFFFFFF);
  EXPECT_EQ(rig.rd32(kIcs), 0u);
  rig.wr32(kIedata, 0x12345678);
  EXPECT_EQ(rig.rd32(kIedata), 0x5678u);
  rig.wr32(kIeaddr, 0xFEE01003);
  EXPECT_EQ(rig.rd32(kIeaddr), 0xFEE01000u);
  rig.wr64(kIrta, kAllOnes);
  EXPECT_EQ(rig.rd64(kIrta), 0x3FFFFFFFF80Fu);  // base, EIME, S
  rig.wr64(0x200, kAllOnes);
  EXPECT_EQ(rig.rd64(0x200), 0xFFFFFFFFF07Fu);  // IVA: ADDR 47:12 (MGAW), IH, AM
  rig.wr64(0x208, kAllOnes >> 1);
  EXPECT_EQ(rig.rd64(0x208), 0x3003FFFF00000000u);  // DID, DW, DR, IIRG
  EXPECT_EQ(rig.unit.stats().register_writes_ignored, 0u);
}

TEST(UnitRegisters, FeatureDependentMasks) {
  UnitConfig c;
  c.scalable_mode = true;
  c.eim = false;
  c.dwd = false;
  c.drd = false;
  c.host_address_width = 39;
  UnitRig rig(c);
  rig.wr64(kRtaddr, kAllOnes);
  EXPECT_EQ(rig.rd64(kRtaddr), 0x7FFFFFF400u);  // RTA 38:12 + TTM bit 10
  rig.wr32(kFeuaddr, 0xFFFFFFFF);
  EXPECT_EQ(rig.rd32(kFeuaddr), 0u);  // RsvdZ without EIM
  rig.wr64(kIqa, kAllOnes);
  EXPECT_EQ(rig.rd64(kIqa), 0x7FFFFFF807u);  // DW writable with SMTS
  rig.wr64(kIrta, kAllOnes);
  EXPECT_EQ(rig.rd64(kIrta), 0x7FFFFFF00Fu);  // no EIME without EIM
  rig.wr64(0x208, kAllOnes >> 1);
  EXPECT_EQ(rig.rd64(0x208), 0x3000FFFF00000000u);  // no DW/DR
}

TEST(UnitRegisters, SplitWritesOf64BitRegisters) {
  UnitRig rig;
  rig.wr32(kRtaddr, 0x12345FFF);
  EXPECT_EQ(rig.rd64(kRtaddr), 0x12345000u);
  rig.wr32(kRtaddr + 4, 0x2A);
  EXPECT_EQ(rig.rd64(kRtaddr), 0x2A12345000u);
  EXPECT_EQ(rig.rd32(kRtaddr), 0x12345000u);
  EXPECT_EQ(rig.rd32(kRtaddr + 4), 0x2Au);
  rig.wr32(kRtaddr, 0);
  EXPECT_EQ(rig.rd64(kRtaddr), 0x2A00000000u);  // the other half is kept
  rig.wr32(kIrta + 4, 0xFFFFFFFF);
  EXPECT_EQ(rig.rd64(kIrta), 0x3FFF00000000u);
}

TEST(UnitRegisters, QueueAndIrRegistersAbsentWithoutTheFeature) {
  UnitConfig c;
  c.queued_invalidation = false;
  c.interrupt_remapping = false;
  c.eim = false;
  c.posted_interrupts = false;
  UnitRig rig(c);
  for (std::uint32_t off : {kIqh, kIqt, kIqa, kIqer, kIrta}) {
    rig.wr64(off, kAllOnes);
    EXPECT_EQ(rig.rd64(off), 0u) << std::hex << off;
  }
  for (std::uint32_t off : {kIcs, kIectl, kIedata, kIeaddr, kIeuaddr}) {
    rig.wr32(off, 0xFFFFFFFF);
    EXPECT_EQ(rig.rd32(off), 0u) << std::hex << off;
  }
  EXPECT_EQ(rig.unit.stats().bad_accesses, 10u);
  EXPECT_EQ(rig.unit.stats().register_writes_ignored, 10u);
}

TEST(UnitRegisters, BadAccessesReadZeroAndAreCounted) {
  UnitRig rig;
  rig.wr64(kRtaddr, 0x5000);
  EXPECT_EQ(rig.unit.mmio_read(kRtaddr, 2), 0u);
  EXPECT_EQ(rig.unit.mmio_read(kRtaddr, 16), 0u);
  EXPECT_EQ(rig.unit.mmio_read(kRtaddr + 2, 4), 0u);
  EXPECT_EQ(rig.unit.mmio_read(kRtaddr + 4, 8), 0u);  // misaligned qword
  EXPECT_EQ(rig.unit.mmio_read(kFsts, 8), 0u);        // misaligned
  EXPECT_EQ(rig.unit.mmio_read(kGcmd, 8), 0u);        // 8 bytes on a 32-bit register
  EXPECT_EQ(rig.unit.mmio_read(0x1000, 4), 0u);       // beyond the window
  EXPECT_EQ(rig.unit.mmio_read(0x50, 4), 0u);         // hole
  EXPECT_EQ(rig.unit.mmio_read(~std::uint64_t{0} - 3, 4), 0u);
  rig.unit.mmio_write(kRtaddr, 1, 0xFF);
  rig.unit.mmio_write(kRtaddr, 2, 0xFFFF);
  rig.unit.mmio_write(kRtaddr, 0, 0);
  rig.unit.mmio_write(kRtaddr, 16, 0);
  rig.unit.mmio_write(kRtaddr + 1, 4, 0);
  rig.unit.mmio_write(kFectl, 8, 0);         // 8 bytes on a 32-bit register
  rig.unit.mmio_write(0x64, 4, 0x80000000);  // PMEN: not implemented
  rig.unit.mmio_write(0x1000, 8, 0);
  rig.unit.mmio_write(~std::uint64_t{0} & ~std::uint64_t{7}, 8, 0);
  EXPECT_EQ(rig.rd64(kRtaddr), 0x5000u);
  EXPECT_EQ(rig.rd32(kFectl), 0x80000000u);
  EXPECT_EQ(rig.unit.stats().bad_accesses, 9u);
  EXPECT_EQ(rig.unit.stats().register_writes_ignored, 9u);
}

TEST(UnitRegisters, FaultRecordLowHalfIsReadOnly) {
  UnitRig rig;
  rig.wr64(0x220, kAllOnes);
  rig.wr32(0x224, 0xFFFFFFFF);
  rig.wr32(0x228, 0xFFFFFFFF);
  EXPECT_EQ(rig.frcd_lo(0), 0u);
  EXPECT_EQ(rig.frcd_hi(0), 0u);
  EXPECT_EQ(rig.unit.stats().register_writes_ignored, 2u);
}

TEST(UnitRegisters, WindowSizeFollowsFroNfrIro) {
  UnitConfig c;
  c.fro = 0x100;
  c.nfr = 256;
  UnitRig rig(c);
  EXPECT_EQ(rig.unit.mmio_size(), 0x2000u);
  EXPECT_EQ(rig.frcd_hi(255), 0u);
  rig.wr32(0x1000 + 255 * 16 + 12, 0x80000000);
  EXPECT_EQ(rig.unit.stats().bad_accesses, 0u);
  c = UnitConfig{};
  c.iro = 0x3FF;
  EXPECT_EQ(c.mmio_window_size(), 0x4000u);
  c = UnitConfig{};
  c.iro = 0x10;  // IVA at 0x100, QEMU-like FRO 0x22
  EXPECT_EQ(c.mmio_window_size(), 0x1000u);
}

TEST(UnitRegisters, ConfigValidationNamesTheField) {
  auto expect_error = [](UnitConfig c, const char* word) {
    auto s = c.validate();
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find(word), std::string::npos) << s.error().message;
    model::PhysicalMemory mem(40);
    auto unit = RemappingUnit::create(mem, c);
    ASSERT_FALSE(unit);
    EXPECT_EQ(unit.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THROW(RemappingUnit(mem, c), std::invalid_argument);
  };
  UnitConfig c;
  c.nd = 7;
  expect_error(c, "nd");
  c = UnitConfig{};
  c.nfr = 0;
  expect_error(c, "nfr");
  c = UnitConfig{};
  c.nfr = 257;
  expect_error(c, "nfr");
  c = UnitConfig{};
  c.iro = 0x8;
  expect_error(c, "iro");
  c = UnitConfig{};
  c.fro = 0x20;  // FRCD 0x200..0x27F overlaps IVA/IOTLB at 0x200
  expect_error(c, "overlap");
  c = UnitConfig{};
  c.sagaw = 0;
  expect_error(c, "sagaw");
  c = UnitConfig{};
  c.sagaw = 0b10001;
  expect_error(c, "sagaw");
  c = UnitConfig{};
  c.mgaw = 64;
  expect_error(c, "mgaw");
  c = UnitConfig{};
  c.iotlb.sets = 3;
  expect_error(c, "iotlb");
  c = UnitConfig{};
  c.interrupt_remapping = false;
  expect_error(c, "interrupt_remapping");
  EXPECT_TRUE(UnitConfig{}.validate());
}

}  // namespace
}  // namespace vtdsim::iommu
