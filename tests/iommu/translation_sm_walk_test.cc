// Scalable-mode walks: first stage (4/5 levels, 2 MiB/1 GiB, U/S, R/W with WPE, XD with NXE,
// canonical check, A/D written to memory), second stage with scalable fault codes and SSADE,
// nested walks (memory reads per cold miss, nested fault codes) and 0x87.
#include <gtest/gtest.h>

#include "tests/iommu/sm_table_builder.h"

namespace vtdsim::iommu {
namespace {

using model::SourceId;
using model::TranslationStatus;
using namespace test_support;

constexpr SourceId kSid = SourceId::make(4, 0, 0);
constexpr std::uint32_t kPasid = 3;
constexpr std::uint64_t kVa = 0x7000'1000;
constexpr std::uint64_t kPa = 0x3'4000;
constexpr std::uint64_t k4K = 0x1000;

struct SmWalk : ::testing::Test {
  void SetUp() override {
    dir = rig.tables.alloc_table();
    rig.sm.set_context(kSid, SmContextSpec{.pasid_dir = dir});
    fs_root = rig.tables.alloc_table();
    ss_root = rig.tables.alloc_table();
  }
  void fs(PasidSpec p = {}) {
    p.pgtt = 1;
    if (p.fsptptr == 0) p.fsptptr = fs_root;
    rig.sm.set_pasid(dir, kPasid, p);
  }
  void ss(PasidSpec p = {}) {
    p.pgtt = 2;
    if (p.ssptptr == 0) p.ssptptr = ss_root;
    rig.sm.set_pasid(dir, kPasid, p);
  }
  RemapResult go(std::uint64_t va, bool write = false, bool privileged = false,
                 bool execute = false) {
    model::DmaRequest req = SmRig::with_pasid(kSid, kPasid, va, write);
    req.privileged = privileged;
    req.execute = execute;
    return rig.access(req);
  }
  void expect_fault(const RemapResult& r, FaultReason reason) {
    EXPECT_EQ(r.translation.status, TranslationStatus::kFault);
    EXPECT_EQ(r.reason, reason) << std::hex << int(code(r.reason)) << " want " << int(code(reason));
  }
  std::uint64_t fs_entry(std::uint64_t va, unsigned level, unsigned levels = 4) {
    return rig.tables.read64(rig.sm.fs_entry_address(fs_root, levels, va, level));
  }
  SmRig rig;
  std::uint64_t dir = 0, fs_root = 0, ss_root = 0;
};

// --- first stage ---

TEST_F(SmWalk, AccessedOnEveryWalkedEntryAndDirtyOnTheLeafOfAWrite) {
  rig.sm.map_fs(fs_root, 4, kVa, kPa, k4K, kFsUser);
  fs();
  rig.build();
  ASSERT_EQ(go(kVa).translation.status, TranslationStatus::kOk);
  for (unsigned level = 1; level <= 4; ++level) {
    EXPECT_EQ(fs_entry(kVa, level) & (kFsA | kFsD), kFsA) << "level " << level;
  }
  EXPECT_EQ(rig.stats().ad_writes, 4u);
  // The IOTLB entry filled by the read holds no D: the write walks again and sets D.
  const RemapResult w = go(kVa + 8, true);
  ASSERT_EQ(w.translation.status, TranslationStatus::kOk);
  EXPECT_EQ(w.translation.hpa, kPa + 8);
  EXPECT_EQ(fs_entry(kVa, 1) & (kFsA | kFsD), kFsA | kFsD);
  EXPECT_EQ(fs_entry(kVa, 2) & kFsD, 0u);  // D only in the leaf
  EXPECT_EQ(rig.stats().ad_writes, 5u);
  EXPECT_EQ(rig.stats().iotlb_miss, 2u);
  // Now the entry grants W: a third write hits.
  ASSERT_EQ(go(kVa + 16, true).translation.status, TranslationStatus::kOk);
  EXPECT_EQ(rig.stats().iotlb_hit, 1u);
  EXPECT_EQ(rig.stats().ad_writes, 5u);
}

TEST_F(SmWalk, FiveLevelWalkWithFspm01) {
  const std::uint64_t va = 0x1'2300'0000'5000;  // above 48 bits: canonical for 57-bit
  rig.sm.map_fs(fs_root, 5, va, kPa, k4K, kFsUser);
  fs(PasidSpec{.fspm = 1});
  rig.build();
  const RemapResult r = go(va + 4);
  ASSERT_EQ(r.translation.status, TranslationStatus::kOk);
  EXPECT_EQ(r.translation.hpa, kPa + 4);
  EXPECT_EQ(rig.stats().pw_mem_reads, 5u);
}

TEST_F(SmWalk, TwoMegabyteAndOneGigabytePages) {
  rig.sm.map_fs(fs_root, 4, 0x4000'0000, 0x80'0000'0000, 0x4000'0000, kFsUser);
  rig.sm.map_fs(fs_root, 4, 0x20'0000, 0x60'0000, 0x20'0000, kFsUser);
  fs();
  rig.build();
  RemapResult r = go(0x4123'4567);
  ASSERT_EQ(r.translation.status, TranslationStatus::kOk);
  EXPECT_EQ(r.translation.hpa, 0x80'0123'4567u);
  EXPECT_EQ(r.translation.page_size, 0x4000'0000u);
  r = go(0x3F'FFF8);
  ASSERT_EQ(r.translation.status, TranslationStatus::kOk);
  EXPECT_EQ(r.translation.hpa, 0x7F'FFF8u);
  EXPECT_EQ(r.translation.page_size, 0x20'0000u);
}

TEST_F(SmWalk, OneGigabytePageWithoutFl1gpIsReserved0x72) {
  rig.config.fs_1g_pages = false;
  rig.sm.map_fs(fs_root, 4, 0x4000'0000, 0x80'0000'0000, 0x4000'0000, kFsUser);
  fs();
  rig.build();
  expect_fault(go(0x4000'0000), FaultReason::kSmFsEntryReserved);
}

TEST_F(SmWalk, NonCanonicalAddress0x80) {
  fs();
  rig.build();
  expect_fault(go(0x0000'8000'0000'0000), FaultReason::kSmFsNonCanonical);
}

TEST_F(SmWalk, UpperHalfCanonicalAddressTranslates) {
  rig.sm.map_fs(fs_root, 4, 0xFFFF'8000'0000'2000, kPa, k4K, kFsUser);
  fs();
  rig.build();
  EXPECT_EQ(go(0xFFFF'8000'0000'2010).translation.hpa, kPa + 0x10);
}

TEST_F(SmWalk, UserRequestToSupervisorPage0x81) {
  rig.sm.map_fs(fs_root, 4, kVa, kPa, k4K, kFsP | kFsRW);
  fs(PasidSpec{.sre = true});
  rig.build();
  expect_fault(go(kVa), FaultReason::kSmFsUserDenied);
  const RemapResult r = go(kVa, false, true);
  ASSERT_EQ(r.translation.status, TranslationStatus::kOk);
  EXPECT_EQ(r.translation.hpa, kPa);
}

TEST_F(SmWalk, WritesToReadOnlyPages0x85AndWpe) {
  rig.sm.map_fs(fs_root, 4, kVa, kPa, k4K, kFsP | kFsUS);
  fs(PasidSpec{.sre = true, .wpe = false});
  rig.build();
  expect_fault(go(kVa, true), FaultReason::kSmWriteDenied);
  EXPECT_EQ(fs_entry(kVa, 1) & kFsD, 0u);
  // Supervisor writes ignore R/W without WPE...
  ASSERT_EQ(go(kVa, true, true).translation.status, TranslationStatus::kOk);
  EXPECT_EQ(fs_entry(kVa, 1) & kFsD, kFsD);
  // ...and honour it with WPE.
  fs(PasidSpec{.sre = true, .wpe = true});
  rig.remapper->invalidate_all();
  expect_fault(go(kVa, true, true), FaultReason::kSmWriteDenied);
}

TEST_F(SmWalk, ExecuteDisable0x82WithNxe) {
  rig.config.execute_requests = true;
  rig.sm.map_fs(fs_root, 4, kVa, kPa, k4K, kFsUser | kFsXD);
  fs(PasidSpec{.nxe = true});
  rig.build();
  expect_fault(go(kVa, false, false, true), FaultReason::kSmExecuteDenied);
  const RemapResult r = go(kVa);
  ASSERT_EQ(r.translation.status, TranslationStatus::kOk);
  EXPECT_FALSE(r.translation.permissions.execute);
  // XD with NXE clear is a reserved bit.
  fs(PasidSpec{.nxe = false});
  rig.remapper->invalidate_all();
  expect_fault(go(kVa), FaultReason::kSmFsEntryReserved);
}

TEST_F(SmWalk, NotPresent0x71AndReadErrors0x70And0x73) {
  rig.sm.map_fs(fs_root, 4, kVa, kPa, k4K, kFsUser);
  fs();
  rig.build();
  expect_fault(go(kVa + 0x1000), FaultReason::kSmFsEntryNotPresent);
  // A PML4 entry pointing beyond memory: the PDPT entry read fails.
  rig.tables.write64(fs_root + 8, (std::uint64_t{1} << 41) | kFsUser);
  expect_fault(go(std::uint64_t{1} << 39), FaultReason::kSmFsEntryReadError);
  // FSPTPTR beyond memory (below the host address width): the top-level read fails.
  fs(PasidSpec{.fsptptr = std::uint64_t{1} << 42});
  rig.remapper->invalidate_all();
  expect_fault(go(kVa), FaultReason::kSmFsTopReadError);
}

TEST_F(SmWalk, AdUpdateOnANonSnoopedWalk0x90) {
  rig.config.sm_page_walk_coherent = false;
  rig.sm.map_fs(fs_root, 4, kVa, kPa, k4K, kFsUser);
  fs(PasidSpec{.pwsnp = false});
  rig.build();
  expect_fault(go(kVa), FaultReason::kSmFsAdNotSnooped);
  fs(PasidSpec{.pwsnp = true});
  rig.remapper->invalidate_all();
  EXPECT_EQ(go(kVa).translation.status, TranslationStatus::kOk);
}

TEST_F(SmWalk, OutputInTheInterruptRange0x87) {
  rig.sm.map_fs(fs_root, 4, kVa, 0xFEE0'0000, k4K, kFsUser);
  fs();
  rig.build();
  expect_fault(go(kVa), FaultReason::kSmOutputInInterruptRange);
}

// --- second stage in scalable mode ---

TEST_F(SmWalk, SecondStageAccessedAndDirtyWithSsade) {
  rig.tables.map(ss_root, 4, 0x10'0000, kPa, k4K, kRW);
  ss(PasidSpec{.ssade = true});
  rig.build();
  ASSERT_EQ(go(0x10'0000).translation.status, TranslationStatus::kOk);
  for (unsigned level = 1; level <= 4; ++level) {
    const std::uint64_t e =
        rig.tables.read64(rig.tables.entry_address(ss_root, 4, 0x10'0000, level));
    EXPECT_EQ(e & 0x300u, 0x100u) << "level " << level;  // A (bit 8), no D (bit 9)
  }
  ASSERT_EQ(go(0x10'0000, true).translation.status, TranslationStatus::kOk);
  EXPECT_EQ(rig.tables.read64(rig.tables.entry_address(ss_root, 4, 0x10'0000, 1)) & 0x300u, 0x300u);
}

TEST_F(SmWalk, SecondStageWithoutSsadeWritesNothing) {
  rig.tables.map(ss_root, 4, 0x10'0000, kPa, k4K, kRW);
  ss();
  rig.build();
  ASSERT_EQ(go(0x10'0000, true).translation.status, TranslationStatus::kOk);
  EXPECT_EQ(rig.tables.read64(rig.tables.entry_address(ss_root, 4, 0x10'0000, 1)) & 0x300u, 0u);
  EXPECT_EQ(rig.stats().ad_writes, 0u);
}

TEST_F(SmWalk, SecondStageFaultCodes) {
  rig.tables.map(ss_root, 4, 0x10'0000, kPa, k4K, kR);
  rig.tables.map(ss_root, 4, 0x10'1000, kPa, k4K, kW);
  rig.tables.map(ss_root, 4, 0x10'2000, kPa, k4K, kRW);
  rig.tables.map(ss_root, 4, 0x10'3000, std::uint64_t{1} << 46, k4K, kRW);
  const std::uint64_t leaf = rig.tables.entry_address(ss_root, 4, 0x10'2000, 1);
  rig.tables.write64(leaf, rig.tables.read64(leaf) | (std::uint64_t{1} << 62));
  rig.tables.write64(ss_root + 8, (std::uint64_t{1} << 41) | 3);  // L4 entry beyond memory
  ss();
  rig.build();
  expect_fault(go(0x10'0000, true), FaultReason::kSmWriteDenied);              // 0x85
  expect_fault(go(0x10'1000), FaultReason::kSmReadDenied);                     // 0x86
  expect_fault(go(0x10'2000), FaultReason::kSmSsEntryReserved);                // 0x7A
  expect_fault(go(0x10'3000), FaultReason::kSmSsAddressBeyondMax);             // 0x84
  expect_fault(go(0x10'4000), FaultReason::kSmSsPermission);                   // 0x79
  expect_fault(go(std::uint64_t{1} << 39), FaultReason::kSmSsEntryReadError);  // 0x78
  expect_fault(go(std::uint64_t{1} << 48), FaultReason::kSmAddressBeyondMax);  // 0x83
  ss(PasidSpec{.ssptptr = std::uint64_t{1} << 42});
  rig.remapper->invalidate_all();
  expect_fault(go(0x10'0000), FaultReason::kSmSsInvalidPointer);  // 0x7B
}

TEST_F(SmWalk, SecondStageAdOnANonSnoopedWalk0x7C) {
  rig.config.sm_page_walk_coherent = false;
  rig.tables.map(ss_root, 4, 0x10'0000, kPa, k4K, kRW);
  ss(PasidSpec{.ssade = true});
  rig.build();
  expect_fault(go(0x10'0000), FaultReason::kSmSsAdNotSnooped);
}

// --- nested ---

struct SmNested : SmWalk {
  // First-stage tables live at GPAs identity-mapped by the second stage; va → gpa → hpa.
  void build_nested(unsigned ss_aw = 2, std::uint8_t table_perms = kRW, bool map_tables = true) {
    const std::uint64_t first = fs_root;
    rig.sm.map_fs(fs_root, 4, kVa, kGpa, k4K, kFsUser);
    const std::uint64_t last = rig.tables.alloc_table();
    const unsigned levels = ss_aw + 2;
    if (map_tables) {
      for (std::uint64_t p = first; p < last; p += k4K) {
        rig.tables.map(ss_root, levels, p, p, k4K, table_perms);
      }
    }
    rig.tables.map(ss_root, levels, kGpa, kPa, k4K, kRW);
    rig.sm.set_pasid(dir, kPasid,
                     PasidSpec{.pgtt = 3, .aw = ss_aw, .ssptptr = ss_root, .fsptptr = fs_root});
  }
  static constexpr std::uint64_t kGpa = 0x8000'0000;
};

TEST_F(SmNested, ColdNestedMissReads24EntriesWithoutPagingStructureCaches) {
  for (auto& g : rig.config.pwc) g.ways = 0;
  build_nested();
  rig.build();
  const RemapResult r = go(kVa + 0x40);
  ASSERT_EQ(r.translation.status, TranslationStatus::kOk) << std::hex << int(code(r.reason));
  EXPECT_EQ(r.translation.hpa, kPa + 0x40);
  EXPECT_EQ(rig.stats().pw_mem_reads, 24u);  // 4 first-stage + 5 × 4 second-stage
  EXPECT_EQ(rig.stats().ss_mem_reads, 20u);
  EXPECT_EQ(rig.stats().ss_translations, 5u);
  EXPECT_EQ(rig.stats().nested_walks, 1u);
  const model::Cycle read = rig.config.timing.table_read();
  const model::Cycle expected =
      rig.config.timing.context_cache_lookup + rig.config.timing.pasid_cache_lookup +
      rig.config.timing.iotlb_lookup + 4 * read /* ctx + PASID */ + rig.config.timing.pwc_lookup +
      24 * read + 4 * rig.config.timing.memory_write /* FS A bits */;
  EXPECT_EQ(r.translation.latency, expected);
}

TEST_F(SmNested, SecondStageCachesShortenTheColdNestedWalk) {
  build_nested();
  rig.build();
  ASSERT_EQ(go(kVa).translation.status, TranslationStatus::kOk);
  // 4 FS + 4 (PML4 table GPA) + 3 × 1 (the other tables, SS PDE cached) + 3 (output GPA in
  // another 1 GiB region: SS PML4E cached).
  EXPECT_EQ(rig.stats().pw_mem_reads, 14u);
}

TEST_F(SmNested, FirstStageAddressBeyondTheSecondStageWidth0x74) {
  build_nested(1);  // 39-bit second stage
  rig.sm.map_fs(fs_root, 4, kVa + k4K, std::uint64_t{1} << 39, k4K, kFsUser);
  rig.build();
  expect_fault(go(kVa + k4K), FaultReason::kSmFsEntryBeyondMgaw);
}

TEST_F(SmNested, TopTableNotReadableInTheSecondStage0x75) {
  build_nested(2, kRW, false);
  rig.build();
  expect_fault(go(kVa), FaultReason::kSmFsTopReadDenied);
}

TEST_F(SmNested, LowerTableNotReadableInTheSecondStage0x76) {
  build_nested(2, kRW, false);
  rig.tables.map(ss_root, 4, fs_root, fs_root, k4K, kRW);  // only the PML4 table
  rig.build();
  expect_fault(go(kVa), FaultReason::kSmFsEntryReadDenied);
}

TEST_F(SmNested, AccessedUpdateNeedsSecondStageWrite0x77) {
  build_nested(2, kR);
  rig.build();
  expect_fault(go(kVa), FaultReason::kSmFsEntryWriteDenied);
}

TEST_F(SmNested, OutputGpaDeniedBySecondStage0x85) {
  build_nested();
  rig.tables.map(ss_root, 4, kGpa, kPa, k4K, kR);
  rig.build();
  expect_fault(go(kVa, true), FaultReason::kSmWriteDenied);
}

}  // namespace
}  // namespace vtdsim::iommu
