// Scalable-mode caches: PASID isolation, PASID-cache and PASID-tagged IOTLB hits, stale entries
// used until the matching invalidation (PASID cache, PASID-based IOTLB with its granularities,
// domain IOTLB), and ATS translation/translated requests under DTE.
#include <gtest/gtest.h>

#include "tests/iommu/sm_table_builder.h"

namespace vtdsim::iommu {
namespace {

using model::SourceId;
using model::TranslationStatus;
using namespace test_support;

constexpr SourceId kSid = SourceId::make(6, 2, 1);
constexpr std::uint32_t kA = 10;
constexpr std::uint32_t kB = 11;
constexpr std::uint16_t kDid = 7;
constexpr std::uint64_t kVa = 0x40'0000;
constexpr std::uint64_t k4K = 0x1000;

struct SmCache : ::testing::Test {
  void SetUp() override {
    dir = rig.tables.alloc_table();
    rig.sm.set_context(kSid, SmContextSpec{.dte = true, .pasid_dir = dir});
    root_a = rig.tables.alloc_table();
    root_b = rig.tables.alloc_table();
    rig.sm.map_fs(root_a, 4, kVa, 0xA000, k4K, kFsUser);
    rig.sm.map_fs(root_b, 4, kVa, 0xB000, k4K, kFsUser);
    rig.sm.map_fs(root_a, 4, kVa + 0x20'0000, 0xC000, k4K, kFsUser);
    rig.sm.set_pasid(dir, kA, PasidSpec{.did = kDid, .fsptptr = root_a});
    rig.sm.set_pasid(dir, kB, PasidSpec{.did = kDid, .fsptptr = root_b});
    rig.build();
  }
  RemapResult go(std::uint32_t pasid, std::uint64_t va, bool write = false) {
    return rig.access(SmRig::with_pasid(kSid, pasid, va, write));
  }
  std::uint64_t hpa(std::uint32_t pasid, std::uint64_t va) {
    const RemapResult r = go(pasid, va);
    EXPECT_EQ(r.translation.status, TranslationStatus::kOk) << std::hex << int(code(r.reason));
    return r.translation.hpa;
  }
  SmRig rig;
  std::uint64_t dir = 0, root_a = 0, root_b = 0;
};

TEST_F(SmCache, TwoPasidsOfOneDeviceNeverSeeEachOthersMappings) {
  EXPECT_EQ(hpa(kA, kVa), 0xA000u);
  EXPECT_EQ(hpa(kB, kVa), 0xB000u);
  EXPECT_EQ(hpa(kA, kVa + 4), 0xA004u);  // hits, still A's page
  EXPECT_EQ(hpa(kB, kVa + 4), 0xB004u);
  // A's second mapping does not exist for B (B's walk, not A's IOTLB entry).
  EXPECT_EQ(hpa(kA, kVa + 0x20'0000), 0xC000u);
  EXPECT_EQ(go(kB, kVa + 0x20'0000).reason, FaultReason::kSmFsEntryNotPresent);
  EXPECT_EQ(rig.stats().iotlb_hit, 2u);
  EXPECT_EQ(rig.stats().iotlb_miss, 4u);
  EXPECT_EQ(rig.remapper->sm_iotlb_entries(), 3u);
  EXPECT_EQ(rig.remapper->pasid_cache_entries(), 2u);
}

TEST_F(SmCache, PasidCacheAndIotlbHitsCountAndTime) {
  const RemapResult miss = go(kA, kVa);
  const RemapResult hit = rig.access([] {
    model::DmaRequest r = SmRig::with_pasid(kSid, kA, kVa + 8);
    r.arrival = 100'000;
    return r;
  }());
  ASSERT_EQ(hit.translation.status, TranslationStatus::kOk);
  const auto& t = rig.config.timing;
  EXPECT_EQ(hit.translation.latency,
            t.context_cache_lookup + t.pasid_cache_lookup + t.iotlb_lookup);
  EXPECT_GT(miss.translation.latency, hit.translation.latency);
  const DmaRemapStats& s = rig.stats();
  EXPECT_EQ(s.pasid_cache_lookup, 2u);
  EXPECT_EQ(s.pasid_cache_hit, 1u);
  EXPECT_EQ(s.pasid_cache_miss, 1u);
  EXPECT_EQ(s.ctxt_cache_hit, 1u);
  EXPECT_EQ(s.iotlb_hit, 1u);
}

TEST_F(SmCache, StalePasidEntryIsUsedUntilPasidCacheInvalidation) {
  EXPECT_EQ(hpa(kA, kVa), 0xA000u);
  rig.sm.set_pasid(dir, kA, PasidSpec{.did = kDid, .fsptptr = root_b});  // software change
  rig.remapper->invalidate_pasid_iotlb(Granularity::kDomain, kDid, kA, 0, 0, false);
  EXPECT_EQ(hpa(kA, kVa), 0xA000u);  // PASID cache still holds the old FSPTPTR
  EXPECT_EQ(rig.remapper->invalidate_pasid_cache(Granularity::kSelective, kDid, kB),
            Granularity::kSelective);  // another PASID: no effect
  rig.remapper->invalidate_pasid_iotlb(Granularity::kDomain, kDid, kA, 0, 0, false);
  EXPECT_EQ(hpa(kA, kVa), 0xA000u);
  rig.remapper->invalidate_pasid_cache(Granularity::kSelective, kDid, kA);
  rig.remapper->invalidate_pasid_iotlb(Granularity::kDomain, kDid, kA, 0, 0, false);
  EXPECT_EQ(hpa(kA, kVa), 0xB000u);
  EXPECT_EQ(rig.stats().pasid_cache_inval, 2u);
}

TEST_F(SmCache, PasidCacheDomainAndGlobalGranularities) {
  hpa(kA, kVa);
  hpa(kB, kVa);
  rig.remapper->invalidate_pasid_cache(Granularity::kDomain, kDid + 1, 0);
  EXPECT_EQ(rig.remapper->pasid_cache_entries(), 2u);
  rig.remapper->invalidate_pasid_cache(Granularity::kDomain, kDid, 0);
  EXPECT_EQ(rig.remapper->pasid_cache_entries(), 0u);
  hpa(kA, kVa);
  rig.remapper->invalidate_pasid_cache(Granularity::kGlobal, 0, 0);
  EXPECT_EQ(rig.remapper->pasid_cache_entries(), 0u);
}

TEST_F(SmCache, StaleIotlbEntryIsUsedUntilPasidBasedIotlbInvalidation) {
  EXPECT_EQ(hpa(kA, kVa), 0xA000u);
  EXPECT_EQ(hpa(kB, kVa), 0xB000u);
  rig.sm.map_fs(root_a, 4, kVa, 0xD000, k4K, kFsUser);
  rig.sm.map_fs(root_b, 4, kVa, 0xE000, k4K, kFsUser);
  EXPECT_EQ(hpa(kA, kVa), 0xA000u);
  // Page-selective, another page: nothing.
  rig.remapper->invalidate_pasid_iotlb(Granularity::kSelective, kDid, kA, kVa + k4K, 0, false);
  EXPECT_EQ(hpa(kA, kVa), 0xA000u);
  // Page-selective covering the page (AM = 1: two pages from kVa), PASID A only.
  EXPECT_EQ(rig.remapper->invalidate_pasid_iotlb(Granularity::kSelective, kDid, kA, kVa, 1, false),
            Granularity::kSelective);
  EXPECT_EQ(hpa(kA, kVa), 0xD000u);
  EXPECT_EQ(hpa(kB, kVa), 0xB000u);  // B untouched
  rig.remapper->invalidate_pasid_iotlb(Granularity::kDomain, kDid, kB, 0, 0, false);
  EXPECT_EQ(hpa(kB, kVa), 0xE000u);
  EXPECT_EQ(rig.stats().p_iotlb_inval, 3u);
}

TEST_F(SmCache, InvalidationHintKeepsFirstStagePagingStructureCaches) {
  hpa(kA, kVa);
  EXPECT_EQ(rig.remapper->fs_pwc_entries(2), 1u);
  rig.remapper->invalidate_pasid_iotlb(Granularity::kSelective, kDid, kA, kVa, 0, true);
  EXPECT_EQ(rig.remapper->fs_pwc_entries(2), 1u);
  EXPECT_EQ(rig.remapper->sm_iotlb_entries(), 0u);
  rig.remapper->invalidate_pasid_iotlb(Granularity::kSelective, kDid, kA, kVa, 0, false);
  EXPECT_EQ(rig.remapper->fs_pwc_entries(2), 0u);
  hpa(kA, kVa);
  EXPECT_EQ(rig.stats().flpwc_hit, 0u);
  rig.remapper->invalidate_pasid_iotlb(Granularity::kSelective, kDid, kA, kVa, 0, true);
  hpa(kA, kVa);  // the walk starts below the cached PDE: one read
  EXPECT_EQ(rig.stats().flpwc_hit, 1u);
}

TEST_F(SmCache, DomainIotlbInvalidationDropsEveryPasidOfTheDomain) {
  hpa(kA, kVa);
  hpa(kB, kVa);
  EXPECT_EQ(rig.remapper->invalidate_iotlb_domain(kDid + 1), Granularity::kDomain);
  EXPECT_EQ(rig.remapper->sm_iotlb_entries(), 2u);
  rig.remapper->invalidate_iotlb_domain(kDid);
  EXPECT_EQ(rig.remapper->sm_iotlb_entries(), 0u);
  hpa(kA, kVa);
  rig.remapper->invalidate_iotlb_page(kDid, 0x9999'0000, 0, false);  // type 2 PSI: all FS
  EXPECT_EQ(rig.remapper->sm_iotlb_entries(), 0u);
}

TEST_F(SmCache, TranslationRequestReturnsWhatTheDeviceMayCache) {
  rig.sm.map_fs(root_a, 4, kVa + k4K, 0xF000, k4K, kFsP | kFsUS);  // read-only
  model::DmaRequest req = SmRig::with_pasid(kSid, kA, kVa + k4K + 0x10);
  req.address_type = model::AddressType::kTranslationRequest;
  RemapResult r = rig.access(req);
  ASSERT_EQ(r.translation.status, TranslationStatus::kOk);
  EXPECT_EQ(r.translation.hpa, 0xF010u);
  EXPECT_EQ(r.translation.permissions, (model::Permissions{true, false, true}));
  EXPECT_EQ(rig.stats().ats_translation_requests, 1u);
  // Not present: a successful completion without permissions, no fault.
  req.address = 0x7777'0000;
  r = rig.access(req);
  EXPECT_EQ(r.translation.status, TranslationStatus::kOk);
  EXPECT_EQ(r.translation.permissions, (model::Permissions{}));
  // A translated request with DTE passes untranslated.
  req.address_type = model::AddressType::kTranslated;
  req.address = 0x1234'5000;
  r = rig.access(req);
  ASSERT_EQ(r.translation.status, TranslationStatus::kOk);
  EXPECT_EQ(r.translation.hpa, 0x1234'5000u);
}

}  // namespace
}  // namespace vtdsim::iommu
