// Scalable mode end to end through MMIO: RTADDR.TTM = 01, 256-bit queued invalidation with
// the PASID-cache (7), PASID-based IOTLB (6) and PASID-based device-TLB (8) descriptors (stale
// entries used until the descriptor, not after), queue errors for the new types, and scalable
// fault records (PP/PV, FPD suppression).
#include <gtest/gtest.h>

#include <vector>

#include "tests/iommu/sm_table_builder.h"
#include "tests/iommu/unit_test_util.h"

namespace vtdsim::iommu {
namespace {

using model::SourceId;
using model::TranslationStatus;
using namespace test_support;
using namespace reg_offset;

constexpr SourceId kSid = SourceId::make(1, 4, 0);
constexpr std::uint32_t kPasid = 0x123;
constexpr std::uint16_t kDid = 4;
constexpr std::uint64_t kVa = 0x10'0000;
constexpr std::uint64_t kQueue = 0x8000;
constexpr std::uint64_t kStatus = 0x9000;

struct Desc256 {
  std::uint64_t q[4] = {0, 0, 0, 0};
};
Desc256 pc_desc(unsigned g, std::uint16_t did, std::uint32_t pasid) {
  return {{7u | (std::uint64_t{g} << 4) | (std::uint64_t{did} << 16) | (std::uint64_t{pasid} << 32),
           0, 0, 0}};
}
Desc256 p_iotlb_desc(unsigned g, std::uint16_t did, std::uint32_t pasid, std::uint64_t addr = 0,
                     unsigned am = 0) {
  return {{6u | (std::uint64_t{g} << 4) | (std::uint64_t{did} << 16) | (std::uint64_t{pasid} << 32),
           (addr & ~std::uint64_t{0xFFF}) | am, 0, 0}};
}
Desc256 p_dev_tlb_desc(std::uint16_t sid, std::uint32_t pasid, bool g, std::uint64_t addr, bool s) {
  return {{8u | (std::uint64_t{sid} << 16) | (std::uint64_t{pasid} << 32),
           (g ? 1u : 0u) | (s ? (1u << 11) : 0u) | (addr & ~std::uint64_t{0xFFF}), 0, 0}};
}
Desc256 widen(model::U128 d) {
  return {{d.lo, d.hi, 0, 0}};
}

class RecordingSink final : public DeviceTlbSink {
 public:
  void invalidate_device_tlb(const DeviceTlbInvalidation& r) override { seen.push_back(r); }
  std::vector<DeviceTlbInvalidation> seen;
};

struct UnitSm : ::testing::Test {
  UnitSm() : rig(scalable_config()), tables(rig.memory), sm(tables) {}
  void SetUp() override {
    dir = tables.alloc_table();
    sm.set_context(kSid, SmContextSpec{.fpd = false, .dte = true, .pasid_dir = dir});
    fs_root = tables.alloc_table();
    sm.map_fs(fs_root, 4, kVa, 0xA000, 0x1000, kFsUser);
    sm.set_pasid(dir, kPasid, PasidSpec{.did = kDid, .fsptptr = fs_root});
    rig.wr64(kRtaddr, tables.root_table() | (1u << 10));  // TTM = 01
    rig.gcmd(rig.level_bits() | kSRTP);
    rig.enable_te();
    rig.wr64(kIqt, 0);
    rig.wr64(kIqa, kQueue | (1u << 11));  // DW = 1
    rig.gcmd(rig.level_bits() | kQIE);
    rig.unit.set_device_tlb_sink(&sink);
  }
  void submit(const std::vector<Desc256>& ds) {
    std::uint64_t tail = rig.rd64(kIqt);
    for (const auto& d : ds) {
      for (unsigned i = 0; i < 4; ++i) (void)rig.memory.write(kQueue + tail + 8 * i, d.q[i]);
      tail = (tail + 32) % 0x1000;
    }
    rig.wr64(kIqt, tail);
  }
  model::Translation go(std::uint64_t va = kVa) {
    model::DmaRequest req = SmRig::with_pasid(kSid, kPasid, va);
    return rig.unit.translate(req);
  }
  UnitRig rig;
  TableBuilder tables;
  SmTables sm;
  RecordingSink sink;
  std::uint64_t dir = 0, fs_root = 0;
};

TEST_F(UnitSm, PasidCacheDescriptorEndsTheStalePasidEntry) {
  EXPECT_EQ(go().hpa, 0xA000u);
  const std::uint64_t other = tables.alloc_table();
  sm.map_fs(other, 4, kVa, 0xB000, 0x1000, kFsUser);
  sm.set_pasid(dir, kPasid, PasidSpec{.did = kDid, .fsptptr = other});
  submit({p_iotlb_desc(0b10, kDid, kPasid)});
  EXPECT_EQ(go().hpa, 0xA000u);  // the PASID cache still holds the old entry
  submit({pc_desc(0b01, kDid, kPasid), p_iotlb_desc(0b10, kDid, kPasid),
          widen(wait_descriptor(true, false, 0xD0E, kStatus))});
  EXPECT_EQ(go().hpa, 0xB000u);
  EXPECT_EQ(rig.memory.read<std::uint32_t>(kStatus).value(), 0xD0Eu);
  EXPECT_EQ(rig.fsts() & 0x10u, 0u);
  EXPECT_EQ(rig.unit.stats().pasid_cache_inv, 1u);
  EXPECT_EQ(rig.unit.stats().p_iotlb_inv, 2u);
  EXPECT_EQ(rig.unit.stats().qi_descriptors, 4u);
}

TEST_F(UnitSm, PageSelectivePasidIotlbDescriptorEndsTheStaleMapping) {
  EXPECT_EQ(go().hpa, 0xA000u);
  sm.map_fs(fs_root, 4, kVa, 0xC000, 0x1000, kFsUser);
  submit({p_iotlb_desc(0b11, kDid, kPasid + 1, kVa)});  // another PASID
  EXPECT_EQ(go().hpa, 0xA000u);
  submit({p_iotlb_desc(0b11, kDid, kPasid, kVa)});
  EXPECT_EQ(go().hpa, 0xC000u);
}

TEST_F(UnitSm, LegacyIotlbDescriptorInA256BitQueueDropsTheDomain) {
  EXPECT_EQ(go().hpa, 0xA000u);
  sm.map_fs(fs_root, 4, kVa, 0xC000, 0x1000, kFsUser);
  submit({widen(iotlb_descriptor(0b10, kDid + 1))});
  EXPECT_EQ(go().hpa, 0xA000u);
  submit({widen(iotlb_descriptor(0b10, kDid))});
  EXPECT_EQ(go().hpa, 0xC000u);
}

TEST_F(UnitSm, PasidDeviceTlbDescriptorReachesTheSink) {
  submit({p_dev_tlb_desc(kSid.raw, kPasid, false, 0x5000, false),
          p_dev_tlb_desc(kSid.raw, 0, true, 0x4000 | 0x1000, true)});
  ASSERT_EQ(sink.seen.size(), 2u);
  EXPECT_EQ(sink.seen[0].sid, kSid);
  EXPECT_TRUE(sink.seen[0].has_pasid);
  EXPECT_EQ(sink.seen[0].pasid, kPasid);
  EXPECT_FALSE(sink.seen[0].global);
  EXPECT_EQ(sink.seen[0].address, 0x5000u);
  EXPECT_EQ(sink.seen[0].size_order, 12u);
  EXPECT_TRUE(sink.seen[1].global);
  EXPECT_EQ(sink.seen[1].address, 0x4000u);  // one trailing 1 from bit 12: 16 KiB
  EXPECT_EQ(sink.seen[1].size_order, 14u);
  EXPECT_EQ(rig.unit.stats().dev_tlb_inv, 2u);
}

TEST_F(UnitSm, ReservedBitsAndGranularitiesOfTheNewTypesRaiseIqe) {
  Desc256 d = pc_desc(0b01, kDid, kPasid);
  d.q[2] = 1;  // bits 255:128 reserved
  submit({d});
  EXPECT_EQ(rig.fsts() & 0x10u, 0x10u);
  EXPECT_EQ(rig.rd64(kIqer) & 0xF, 4u);
  EXPECT_EQ(rig.rd64(kIqh), 0u);
  ASSERT_TRUE(rig.memory.write(kQueue + 16, std::uint64_t{0}));  // software repairs the slot
  rig.wr32(kFsts, 0x10);
  submit({pc_desc(0b10, kDid, kPasid)});  // PC G = 10 invalid
  EXPECT_EQ(rig.fsts() & 0x10u, 0x10u);
  EXPECT_EQ(rig.rd64(kIqer) & 0xF, 4u);
  EXPECT_EQ(rig.rd64(kIqh), 32u);  // the repaired descriptor ran, the bad one is at IQH
  EXPECT_EQ(rig.unit.stats().pasid_cache_inv, 1u);
}

TEST_F(UnitSm, PasidTypesInALegacy128BitQueueAreInvalidTypes) {
  UnitRig legacy;  // default config: no SMTS
  legacy.enable_qi(kQueue);
  legacy.submit({{6u | (0b10u << 4), 0}});
  EXPECT_EQ(legacy.fsts() & 0x10u, 0x10u);
  EXPECT_EQ(legacy.rd64(kIqer) & 0xF, 3u);
}

TEST_F(UnitSm, ScalableFaultRecordCarriesThePasid) {
  const model::Translation t = go(0x999'0000);
  EXPECT_EQ(t.status, TranslationStatus::kFault);
  EXPECT_EQ(t.fault_reason, 0x71u);
  EXPECT_TRUE(t.fault_recorded);
  const std::uint64_t hi = rig.frcd_hi(0);
  EXPECT_EQ((hi >> 31) & 1, 1u);            // PP
  EXPECT_EQ((hi >> 32) & 0xFF, 0x71u);      // FR
  EXPECT_EQ((hi >> 40) & 0xFFFFF, kPasid);  // PV
  EXPECT_EQ(rig.frcd_lo(0), 0x999'0000u);
}

TEST_F(UnitSm, PasidEntryFpdSuppressesQualifiedFaults) {
  sm.set_pasid(dir, kPasid + 1, PasidSpec{.present = false, .fpd = true});
  model::DmaRequest req = SmRig::with_pasid(kSid, kPasid + 1, kVa);
  const model::Translation t = rig.unit.translate(req);
  EXPECT_EQ(t.fault_reason, 0x59u);
  EXPECT_FALSE(t.fault_recorded);
  EXPECT_EQ(rig.unit.stats().faults_suppressed, 1u);
}

}  // namespace
}  // namespace vtdsim::iommu
