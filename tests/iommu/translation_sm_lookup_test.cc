// Scalable mode: root/context/PASID-directory/PASID-entry lookup, every PGTT, RID_PASID, FPD
// ORed down the chain, and each lookup-stage fault reason (0x38–0x5D) raised exactly.
#include <gtest/gtest.h>

#include "tests/iommu/sm_table_builder.h"

namespace vtdsim::iommu {
namespace {

using model::SourceId;
using model::TranslationStatus;
using test_support::kFsUser;
using test_support::kRW;
using test_support::PasidSpec;
using test_support::SmContextSpec;
using test_support::SmRig;

constexpr SourceId kSid = SourceId::make(3, 1, 0);        // lower context table
constexpr SourceId kUpperSid = SourceId::make(3, 17, 2);  // devfn 0x8A: upper table
constexpr std::uint32_t kPasid = 0x45;
constexpr std::uint64_t kVa = 0x7000'1000;
constexpr std::uint64_t kPa = 0x3'4000;

struct SmLookup : ::testing::Test {
  void SetUp() override {
    dir = rig.tables.alloc_table();
    fs_root = rig.tables.alloc_table();
    rig.sm.map_fs(fs_root, 4, kVa, kPa, 0x1000, kFsUser);
  }
  void context(SmContextSpec c = {}, SourceId sid = kSid) {
    if (c.pasid_dir == 0) c.pasid_dir = dir;
    rig.sm.set_context(sid, c);
  }
  void fs_pasid(std::uint32_t pasid = kPasid, PasidSpec p = {}) {
    if (p.fsptptr == 0) p.fsptptr = fs_root;
    rig.sm.set_pasid(dir, pasid, p);
  }
  RemapResult go(const model::DmaRequest& req) { return rig.access(req); }
  RemapResult go_pasid(std::uint64_t va = kVa) { return go(SmRig::with_pasid(kSid, kPasid, va)); }
  void expect_fault(const RemapResult& r, FaultReason reason, bool fpd = false) {
    EXPECT_EQ(r.translation.status, TranslationStatus::kFault);
    EXPECT_EQ(r.reason, reason) << std::hex << int(code(r.reason));
    EXPECT_EQ(r.translation.fault_reason, code(reason));
    EXPECT_EQ(r.fpd, fpd);
  }
  SmRig rig;
  std::uint64_t dir = 0;
  std::uint64_t fs_root = 0;
};

TEST_F(SmLookup, FirstStageOnlyTranslatesARequestWithPasid) {
  context();
  fs_pasid();
  rig.build();
  const RemapResult r = go_pasid(kVa + 0x123);
  ASSERT_EQ(r.translation.status, TranslationStatus::kOk);
  EXPECT_EQ(r.translation.hpa, kPa + 0x123);
  EXPECT_EQ(r.translation.page_size, 0x1000u);
  EXPECT_EQ(r.translation.permissions, (model::Permissions{true, true, true}));
  const DmaRemapStats& s = rig.stats();
  EXPECT_EQ(s.sm_translations, 1u);
  EXPECT_EQ(s.ctxt_fetch_reads, 2u);
  EXPECT_EQ(s.pasid_fetch_reads, 2u);
  EXPECT_EQ(s.pw_mem_reads, 4u);
  EXPECT_EQ(s.fs_walks, 1u);
  EXPECT_EQ(rig.remapper->sm_context_cache_entries(), 1u);
  EXPECT_EQ(rig.remapper->pasid_cache_entries(), 1u);
  EXPECT_EQ(rig.remapper->sm_iotlb_entries(), 1u);
  EXPECT_EQ(rig.remapper->context_cache_entries(), 0u);  // the legacy cache is untouched
}

TEST_F(SmLookup, RequestWithoutPasidUsesRidPasid) {
  context(SmContextSpec{.rid_pasid = kPasid});
  fs_pasid();
  rig.build();
  const RemapResult r = go(SmRig::request(kSid, kVa + 8));
  ASSERT_EQ(r.translation.status, TranslationStatus::kOk);
  EXPECT_EQ(r.translation.hpa, kPa + 8);
}

TEST_F(SmLookup, UpperContextTableServesDevfnAbove0x7F) {
  context(SmContextSpec{}, kUpperSid);
  fs_pasid();
  rig.build();
  const RemapResult r = go(SmRig::with_pasid(kUpperSid, kPasid, kVa));
  ASSERT_EQ(r.translation.status, TranslationStatus::kOk);
  EXPECT_EQ(r.translation.hpa, kPa);
  // The lower half of the same root entry is not present.
  expect_fault(go(SmRig::with_pasid(kSid, kPasid, kVa)), FaultReason::kSmRootNotPresent);
}

TEST_F(SmLookup, SecondStageOnlyTranslatesThroughLegacyFormatTables) {
  const std::uint64_t ss = rig.tables.alloc_table();
  rig.tables.map(ss, 4, 0x20'0000, 0x9'9000, 0x1000, kRW);
  context();
  rig.sm.set_pasid(dir, kPasid, PasidSpec{.pgtt = 2, .aw = 2, .ssptptr = ss, .did = 9});
  rig.build();
  const RemapResult r = go(SmRig::with_pasid(kSid, kPasid, 0x20'0044, true));
  ASSERT_EQ(r.translation.status, TranslationStatus::kOk);
  EXPECT_EQ(r.translation.hpa, 0x9'9044u);
  EXPECT_EQ(r.translation.permissions, (model::Permissions{true, true, true}));
}

TEST_F(SmLookup, PassThroughReturnsTheInputAddress) {
  context();
  rig.sm.set_pasid(dir, kPasid, PasidSpec{.pgtt = 4});
  rig.build();
  const RemapResult r = go(SmRig::with_pasid(kSid, kPasid, 0x12'3456'7890, true));
  ASSERT_EQ(r.translation.status, TranslationStatus::kOk);
  EXPECT_EQ(r.translation.hpa, 0x12'3456'7890u);
  EXPECT_EQ(rig.stats().passthrough, 1u);
  EXPECT_EQ(rig.remapper->sm_iotlb_entries(), 0u);
}

TEST_F(SmLookup, PassThroughWithPasidToTheInterruptWindowIsBlocked) {
  context();
  rig.sm.set_pasid(dir, kPasid, PasidSpec{.pgtt = 4});
  rig.build();
  expect_fault(go(SmRig::with_pasid(kSid, kPasid, 0xFEE0'0000, true)),
               FaultReason::kSmOutputInInterruptRange);
  // Without PASID the window is an interrupt request, not DMA.
  const RemapResult r = go(SmRig::request(kSid, 0xFEE0'0000, true));
  EXPECT_EQ(r.translation.status, TranslationStatus::kInterruptWindow);
}

TEST_F(SmLookup, RequestWithPasidToTheWindowIsTranslatedUnderFirstStage) {
  context();
  fs_pasid();
  rig.sm.map_fs(fs_root, 4, 0xFEE0'0000, 0x5'0000, 0x1000, kFsUser);
  rig.build();
  const RemapResult r = go(SmRig::with_pasid(kSid, kPasid, 0xFEE0'0010, true));
  ASSERT_EQ(r.translation.status, TranslationStatus::kOk);
  EXPECT_EQ(r.translation.hpa, 0x5'0010u);
}

// --- root entry ---
TEST_F(SmLookup, RootReadError0x38) {
  rig.build();
  rig.root.root_table = std::uint64_t{1} << 40;  // beyond the 40-bit memory
  expect_fault(go_pasid(), FaultReason::kSmRootReadError);
}
TEST_F(SmLookup, RootNotPresent0x39) {
  rig.build();
  expect_fault(go_pasid(), FaultReason::kSmRootNotPresent);
}
TEST_F(SmLookup, RootReservedBit0x3A) {
  context();
  fs_pasid();
  rig.build();
  const std::uint64_t re = rig.tables.root_table() + 3 * 16;
  rig.tables.write64(re + 8, rig.tables.read64(re + 8) | 0x2);  // bit 65
  expect_fault(go_pasid(), FaultReason::kSmRootReserved);
}

// --- context entry ---
TEST_F(SmLookup, ContextReadError0x40) {
  rig.build();
  rig.tables.write64(rig.tables.root_table() + 3 * 16, (std::uint64_t{1} << 41) | 1);
  expect_fault(go_pasid(), FaultReason::kSmContextReadError);
}
TEST_F(SmLookup, ContextNotPresent0x41KeepsFpd) {
  context(SmContextSpec{.present = false, .fpd = true});
  rig.build();
  expect_fault(go_pasid(), FaultReason::kSmContextNotPresent, true);
}
TEST_F(SmLookup, ContextReservedBit0x42) {
  context(SmContextSpec{.extra = {1u << 5, 0, 0, 0}});
  rig.build();
  expect_fault(go_pasid(), FaultReason::kSmContextReserved);
  context(SmContextSpec{.extra = {0, 0, 1, 0}});  // bit 128
  rig.remapper->invalidate_all();
  expect_fault(go_pasid(), FaultReason::kSmContextReserved);
}
TEST_F(SmLookup, ContextWithPreIsInvalid0x43) {
  context(SmContextSpec{.pre = true});
  rig.build();
  expect_fault(go_pasid(), FaultReason::kSmContextInvalid);
}
TEST_F(SmLookup, AtsRequestWithDteClear0x44) {
  context();
  fs_pasid();
  rig.build();
  model::DmaRequest req = SmRig::with_pasid(kSid, kPasid, kVa);
  req.address_type = model::AddressType::kTranslationRequest;
  expect_fault(go(req), FaultReason::kSmDteClear);
  req.address_type = model::AddressType::kTranslated;
  expect_fault(go(req), FaultReason::kSmDteClear);
}
TEST_F(SmLookup, PasidWithPasideClear0x45) {
  context(SmContextSpec{.paside = false});
  fs_pasid();
  rig.build();
  expect_fault(go_pasid(), FaultReason::kSmPasidDisabled);
}
TEST_F(SmLookup, PasidBeyondDirectory0x46) {
  context(SmContextSpec{.pdts = 0});  // 128 entries × 64 = PASIDs 0..8191
  rig.build();
  expect_fault(go(SmRig::with_pasid(kSid, 8192, kVa)), FaultReason::kSmPasidBeyondDirectory);
}
TEST_F(SmLookup, RidPasidWithoutRps0x48) {
  rig.config.rid_pasid = false;
  context(SmContextSpec{.rid_pasid = 5});
  rig.build();
  expect_fault(go(SmRig::request(kSid, kVa)), FaultReason::kSmRidPasidError);
}

// --- PASID directory and table entries ---
TEST_F(SmLookup, PasidDirReadError0x50) {
  context(SmContextSpec{.pasid_dir = std::uint64_t{1} << 42});
  rig.build();
  expect_fault(go_pasid(), FaultReason::kSmPasidDirReadError);
}
TEST_F(SmLookup, PasidDirNotPresent0x51WithDirectoryFpd) {
  context();
  rig.tables.write64(dir + pasid_dir_index(kPasid) * 8, 0x2);  // P = 0, FPD = 1
  rig.build();
  expect_fault(go_pasid(), FaultReason::kSmPasidDirNotPresent, true);
}
TEST_F(SmLookup, PasidDirReservedBit0x52) {
  context();
  fs_pasid();
  const std::uint64_t de = dir + pasid_dir_index(kPasid) * 8;
  rig.tables.write64(de, rig.tables.read64(de) | 0x4);
  rig.build();
  expect_fault(go_pasid(), FaultReason::kSmPasidDirReserved);
}
TEST_F(SmLookup, PasidTableReadError0x58) {
  context();
  rig.tables.write64(dir + pasid_dir_index(kPasid) * 8, (std::uint64_t{1} << 43) | 1);
  rig.build();
  expect_fault(go_pasid(), FaultReason::kSmPasidEntryReadError);
}
TEST_F(SmLookup, PasidEntryNotPresent0x59WithEntryFpd) {
  context();
  rig.sm.set_pasid(dir, kPasid, PasidSpec{.present = false, .fpd = true});
  rig.build();
  expect_fault(go_pasid(), FaultReason::kSmPasidEntryNotPresent, true);
}
TEST_F(SmLookup, FpdIsOredFromTheContext) {
  context(SmContextSpec{.fpd = true});
  rig.sm.set_pasid(dir, kPasid, PasidSpec{.present = false});
  rig.build();
  expect_fault(go_pasid(), FaultReason::kSmPasidEntryNotPresent, true);
}
TEST_F(SmLookup, PasidEntryReservedBits0x5A) {
  context();
  fs_pasid(kPasid, PasidSpec{.extra = {0, 0, 0, 1, 0, 0, 0, 0}});  // QW3
  rig.build();
  expect_fault(go_pasid(), FaultReason::kSmPasidEntryReserved);
  // SRE without ECAP.SRS is reserved too.
  rig.config.supervisor_requests = false;
  fs_pasid(kPasid, PasidSpec{.sre = true});
  rig.build();
  expect_fault(go_pasid(), FaultReason::kSmPasidEntryReserved);
}
TEST_F(SmLookup, PasidEntryInvalid0x5B) {
  context();
  fs_pasid(kPasid, PasidSpec{.pgtt = 0});
  rig.build();
  expect_fault(go_pasid(), FaultReason::kSmPasidEntryInvalid);
  fs_pasid(kPasid, PasidSpec{.pgtt = 2, .aw = 0});  // AW not in SAGAW
  rig.remapper->invalidate_all();
  expect_fault(go_pasid(), FaultReason::kSmPasidEntryInvalid);
  rig.config.fs_5level = false;
  fs_pasid(kPasid, PasidSpec{.fspm = 1});
  rig.build();
  expect_fault(go_pasid(), FaultReason::kSmPasidEntryInvalid);
}
TEST_F(SmLookup, ExecuteRequestWithoutEre0x5C) {
  context();
  fs_pasid();
  rig.build();
  model::DmaRequest req = SmRig::with_pasid(kSid, kPasid, kVa);
  req.execute = true;
  expect_fault(go(req), FaultReason::kSmEreClear);
}
TEST_F(SmLookup, SupervisorRequestWithoutSre0x5D) {
  context();
  fs_pasid();
  rig.build();
  model::DmaRequest req = SmRig::with_pasid(kSid, kPasid, kVa);
  req.privileged = true;
  expect_fault(go(req), FaultReason::kSmSreClear);
}

}  // namespace
}  // namespace vtdsim::iommu
