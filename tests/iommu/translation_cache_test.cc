// Context cache, IOTLB and paging-structure caches: hit/miss counts, stale entries used until
// invalidated (global, domain, page with AM, IH, device-selective with FM) and caching mode.
#include <gtest/gtest.h>

#include "tests/iommu/table_builder.h"

namespace vtdsim::iommu {
namespace {

using model::SourceId;
using model::TranslationStatus;
using test_support::ContextSpec;
using test_support::kR;
using test_support::kRW;
using test_support::TranslationRig;

constexpr SourceId kSid = SourceId::make(5, 2, 0);
constexpr SourceId kOther = SourceId::make(6, 0, 0);  // another device, domain 2
constexpr std::uint64_t k4K = 0x1000;
constexpr std::uint64_t k2M = 0x20'0000;
constexpr std::uint16_t kDid = 1;

struct TranslationCaches : ::testing::Test {
  void SetUp() override {
    pt = rig.tables.alloc_table();
    rig.tables.set_context(kSid, ContextSpec{.aw = 2, .did = kDid, .slptptr = pt});
    pt2 = rig.tables.alloc_table();
    rig.tables.set_context(kOther, ContextSpec{.aw = 2, .did = 2, .slptptr = pt2});
  }
  std::uint64_t hpa(SourceId sid, std::uint64_t iova) {
    const RemapResult r = rig.read(sid, iova, now += 1000);
    EXPECT_EQ(r.translation.status, TranslationStatus::kOk) << int(r.translation.fault_reason);
    return r.translation.hpa;
  }
  // Points the 4 KiB leaf of iova at a new frame (software changing a mapping).
  void remap(std::uint64_t iova, std::uint64_t new_hpa) {
    rig.tables.map(pt, 4, iova, new_hpa, k4K, kRW);
  }
  TranslationRig rig;
  std::uint64_t pt = 0, pt2 = 0;
  model::Cycle now = 0;
};

TEST_F(TranslationCaches, SecondTranslationOfAPageHitsTheIotlb) {
  rig.build();
  rig.tables.map(pt, 4, 0x10'0000, 0xA000, k4K, kRW);
  EXPECT_EQ(hpa(kSid, 0x10'0010), 0xA010u);
  EXPECT_EQ(hpa(kSid, 0x10'0FF0), 0xAFF0u);
  const DmaRemapStats& s = rig.stats();
  EXPECT_EQ(s.iotlb_lookup, 2u);
  EXPECT_EQ(s.iotlb_hit, 1u);
  EXPECT_EQ(s.iotlb_miss, 1u);
  EXPECT_EQ(s.ctxt_cache_lookup, 2u);
  EXPECT_EQ(s.ctxt_cache_hit, 1u);
  EXPECT_EQ(s.ctxt_cache_miss, 1u);
  EXPECT_EQ(s.ctxt_fetch_reads, 2u);
  EXPECT_EQ(s.pw_walks, 1u);
  EXPECT_EQ(s.pw_mem_reads, 4u);
  EXPECT_EQ(rig.remapper->iotlb_entries(), 1u);
  EXPECT_EQ(rig.remapper->context_cache_entries(), 1u);
  EXPECT_EQ(rig.remapper->pwc_entries(2), 1u);
  EXPECT_EQ(rig.remapper->pwc_entries(3), 1u);
  EXPECT_EQ(rig.remapper->pwc_entries(4), 1u);
  EXPECT_EQ(rig.remapper->pwc_entries(5), 0u);
}

TEST_F(TranslationCaches, AnyPageInsideASuperpageHits) {
  rig.build();
  rig.tables.map(pt, 4, 0x4000'0000, 0x1'0000'0000, k2M, kRW);
  rig.tables.map(pt, 4, 0x80'0000'0000, 0x40'0000'0000, 0x4000'0000, kR);
  EXPECT_EQ(hpa(kSid, 0x4000'0000), 0x1'0000'0000u);
  EXPECT_EQ(hpa(kSid, 0x401F'F123), 0x1'001F'F123u);  // another 4 KiB page, same 2 MiB page
  EXPECT_EQ(hpa(kSid, 0x80'0000'0000), 0x40'0000'0000u);
  EXPECT_EQ(hpa(kSid, 0x80'3FFF'FFF8), 0x40'3FFF'FFF8u);
  const DmaRemapStats& s = rig.stats();
  EXPECT_EQ(s.iotlb_hit, 2u);
  EXPECT_EQ(s.iotlb_hit_2m, 1u);
  EXPECT_EQ(s.iotlb_hit_1g, 1u);
  EXPECT_EQ(s.iotlb_miss, 2u);
  const RemapResult r = rig.read(kSid, 0x401F'F123, now += 1000);
  EXPECT_EQ(r.translation.page_size, k2M);
}

TEST_F(TranslationCaches, PagingStructureCachesSkipUpperLevels) {
  rig.build();
  rig.tables.map(pt, 4, 0x10'0000, 0xA000, k4K, kRW);
  rig.tables.map(pt, 4, 0x10'1000, 0xB000, k4K, kRW);       // same PT
  rig.tables.map(pt, 4, 0x40'0000, 0xC000, k4K, kRW);       // same PD, other PT
  rig.tables.map(pt, 4, 0x4000'0000, 0xD000, k4K, kRW);     // same PDPT, other PD
  rig.tables.map(pt, 4, 0x80'0000'0000, 0xE000, k4K, kRW);  // other PML4 entry
  hpa(kSid, 0x10'0000);
  EXPECT_EQ(rig.stats().pw_mem_reads, 4u);
  EXPECT_EQ(hpa(kSid, 0x10'1000), 0xB000u);
  EXPECT_EQ(rig.stats().slpwc_l2_hit, 1u);
  EXPECT_EQ(rig.stats().pw_mem_reads, 5u);
  EXPECT_EQ(hpa(kSid, 0x40'0000), 0xC000u);
  EXPECT_EQ(rig.stats().slpwc_l3_hit, 1u);
  EXPECT_EQ(rig.stats().pw_mem_reads, 7u);
  EXPECT_EQ(hpa(kSid, 0x4000'0000), 0xD000u);
  EXPECT_EQ(rig.stats().slpwc_l4_hit, 1u);
  EXPECT_EQ(rig.stats().pw_mem_reads, 10u);
  EXPECT_EQ(hpa(kSid, 0x80'0000'0000), 0xE000u);
  EXPECT_EQ(rig.stats().pw_mem_reads, 14u);
  EXPECT_EQ(rig.stats().slpwc_lookup, 5u);
  EXPECT_EQ(rig.stats().slpwc_l2_hit + rig.stats().slpwc_l3_hit + rig.stats().slpwc_l4_hit, 3u);
}

TEST_F(TranslationCaches, PwcCarriesAccumulatedPermissions) {
  rig.build();
  rig.tables.map(pt, 4, 0x10'0000, 0xA000, k4K, kRW, kR);  // upper levels read-only
  rig.tables.map(pt, 4, 0x10'1000, 0xB000, k4K, kRW, kR);
  hpa(kSid, 0x10'0000);
  const RemapResult w = rig.write(kSid, 0x10'1000, now += 1000);
  EXPECT_EQ(w.reason, FaultReason::kWriteDenied);
  EXPECT_EQ(rig.stats().slpwc_l2_hit, 1u);
  EXPECT_EQ(rig.stats().pw_mem_reads, 4u);  // denied by the cached PDE: no read
}

TEST_F(TranslationCaches, StaleIotlbEntryUntilPageInvalidation) {
  rig.build();
  remap(0x10'0000, 0xA000);
  EXPECT_EQ(hpa(kSid, 0x10'0000), 0xA000u);
  remap(0x10'0000, 0xF000);
  EXPECT_EQ(hpa(kSid, 0x10'0000), 0xA000u);  // stale, as on hardware
  // Another page, another domain: the entry stays.
  EXPECT_EQ(rig.remapper->invalidate_iotlb_page(kDid, 0x20'0000, 0, false),
            Granularity::kSelective);
  EXPECT_EQ(rig.remapper->invalidate_iotlb_page(2, 0x10'0000, 0, false), Granularity::kSelective);
  EXPECT_EQ(hpa(kSid, 0x10'0000), 0xA000u);
  rig.remapper->invalidate_iotlb_page(kDid, 0x10'0000, 0, false);
  EXPECT_EQ(hpa(kSid, 0x10'0000), 0xF000u);
  EXPECT_EQ(rig.stats().iotlb_inval_page, 3u);
  EXPECT_EQ(rig.stats().iotlb_inval_entries, 1u);
}

TEST_F(TranslationCaches, PageInvalidationWithAddressMask) {
  rig.build();
  for (std::uint64_t i = 0; i < 4; ++i) remap(0x10'0000 + i * k4K, 0xA000 + i * k4K);
  remap(0x10'4000, 0xE000);
  for (std::uint64_t i = 0; i < 5; ++i) hpa(kSid, 0x10'0000 + i * k4K);
  for (std::uint64_t i = 0; i < 5; ++i) remap(0x10'0000 + i * k4K, 0x50'0000 + i * k4K);
  // AM=2: 4 pages from 0x100000 (ADDR given unaligned inside the range, aligned down).
  rig.remapper->invalidate_iotlb_page(kDid, 0x10'2000, 2, false);
  for (std::uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(hpa(kSid, 0x10'0000 + i * k4K), 0x50'0000 + i * k4K);
  }
  EXPECT_EQ(hpa(kSid, 0x10'4000), 0xE000u);  // outside the range: still stale
}

TEST_F(TranslationCaches, PageInvalidationDropsACoveringSuperpage) {
  rig.build();
  rig.tables.map(pt, 4, 0x4000'0000, 0x1'0000'0000, k2M, kRW);
  hpa(kSid, 0x4000'0000);
  rig.tables.map(pt, 4, 0x4000'0000, 0x2'0000'0000, k2M, kRW);
  EXPECT_EQ(hpa(kSid, 0x4010'0000), 0x1'0010'0000u);
  rig.remapper->invalidate_iotlb_page(kDid, 0x4005'0000, 0, true);  // one 4 KiB page inside
  EXPECT_EQ(hpa(kSid, 0x4010'0000), 0x2'0010'0000u);
}

TEST_F(TranslationCaches, InvalidationHintKeepsPagingStructureCaches) {
  rig.build();
  remap(0x10'0000, 0xA000);
  remap(0x10'1000, 0xB000);
  hpa(kSid, 0x10'0000);
  rig.remapper->invalidate_iotlb_page(kDid, 0x10'0000, 0, true);  // IH=1: leaves only
  EXPECT_EQ(rig.remapper->pwc_entries(2), 1u);
  hpa(kSid, 0x10'1000);
  EXPECT_EQ(rig.stats().slpwc_l2_hit, 1u);
  EXPECT_EQ(rig.stats().pw_mem_reads, 5u);
  rig.remapper->invalidate_iotlb_page(kDid, 0x10'0000, 0, false);  // IH=0: PWC too
  EXPECT_EQ(rig.remapper->pwc_entries(2), 0u);
  EXPECT_EQ(rig.remapper->pwc_entries(3), 0u);
  EXPECT_EQ(rig.remapper->pwc_entries(4), 0u);
  hpa(kSid, 0x10'0000);
  EXPECT_EQ(rig.stats().pw_mem_reads, 9u);
}

TEST_F(TranslationCaches, DomainAndGlobalIotlbInvalidation) {
  rig.build();
  remap(0x10'0000, 0xA000);
  rig.tables.map(pt2, 4, 0x10'0000, 0xC000, k4K, kRW);
  hpa(kSid, 0x10'0000);
  hpa(kOther, 0x10'0000);
  remap(0x10'0000, 0xB000);
  rig.tables.map(pt2, 4, 0x10'0000, 0xD000, k4K, kRW);
  EXPECT_EQ(rig.remapper->invalidate_iotlb_domain(kDid), Granularity::kDomain);
  EXPECT_EQ(rig.remapper->pwc_entries(2), 1u);  // domain 2's PDE stays
  EXPECT_EQ(hpa(kSid, 0x10'0000), 0xB000u);
  EXPECT_EQ(hpa(kOther, 0x10'0000), 0xC000u);  // domain 2 still stale
  EXPECT_EQ(rig.remapper->invalidate_iotlb_global(), Granularity::kGlobal);
  EXPECT_EQ(rig.remapper->pwc_entries(2), 0u);
  EXPECT_EQ(hpa(kOther, 0x10'0000), 0xD000u);
  EXPECT_EQ(rig.stats().iotlb_inval_domain, 1u);
  EXPECT_EQ(rig.stats().iotlb_inval_global, 1u);
}

TEST_F(TranslationCaches, PageInvalidationFallsBackToDomain) {
  rig.config.mamv = 4;
  rig.build();
  EXPECT_EQ(rig.remapper->invalidate_iotlb_page(kDid, 0, 5, false), Granularity::kDomain);
  TranslationRig no_psi;
  no_psi.config.psi = false;
  no_psi.build();
  EXPECT_EQ(no_psi.remapper->invalidate_iotlb_page(kDid, 0, 0, false), Granularity::kDomain);
  EXPECT_EQ(no_psi.stats().iotlb_inval_domain, 1u);
  EXPECT_EQ(no_psi.stats().iotlb_inval_page, 0u);
}

TEST_F(TranslationCaches, ContextCacheStaleUntilDeviceInvalidationWithFunctionMask) {
  rig.build();
  remap(0x10'0000, 0xA000);
  hpa(kSid, 0x10'0000);
  // Software clears the context entry: cached context (and IOTLB) still translate.
  rig.tables.set_context(kSid, ContextSpec{.present = false});
  EXPECT_EQ(hpa(kSid, 0x10'0000), 0xA000u);
  // Device-selective for function 4 of the same device, FM=0: not this function.
  EXPECT_EQ(rig.remapper->invalidate_context_device(kDid, SourceId::make(5, 2, 4), 0),
            Granularity::kSelective);
  EXPECT_EQ(hpa(kSid, 0x10'0000), 0xA000u);
  // FM=3 ignores function bits 2:0: covers function 0.
  rig.remapper->invalidate_context_device(kDid, SourceId::make(5, 2, 4), 3);
  EXPECT_EQ(rig.read(kSid, 0x10'0000, now += 1000).reason, FaultReason::kContextNotPresent);
  EXPECT_EQ(rig.stats().ctxt_inval_device, 2u);
}

TEST_F(TranslationCaches, FunctionMaskValues) {
  rig.build();
  remap(0x10'0000, 0xA000);
  const SourceId f[] = {SourceId::make(5, 2, 0), SourceId::make(5, 2, 1), SourceId::make(5, 2, 3),
                        SourceId::make(5, 2, 7)};
  for (const SourceId s : f)
    rig.tables.set_context(s, ContextSpec{.aw = 2, .did = kDid, .slptptr = pt});
  auto warm = [&] {
    rig.remapper->invalidate_context_global();
    for (const SourceId s : f) hpa(s, 0x10'0000);
    EXPECT_EQ(rig.remapper->context_cache_entries(), 4u);
  };
  warm();
  rig.remapper->invalidate_context_device(kDid, SourceId::make(5, 2, 1), 0);  // fn 1 only
  EXPECT_EQ(rig.remapper->context_cache_entries(), 3u);
  warm();
  rig.remapper->invalidate_context_device(kDid, SourceId::make(5, 2, 2), 1);  // fn 2, 6 → none
  EXPECT_EQ(rig.remapper->context_cache_entries(), 4u);
  rig.remapper->invalidate_context_device(kDid, SourceId::make(5, 2, 0), 1);  // fn 0, 4
  EXPECT_EQ(rig.remapper->context_cache_entries(), 3u);
  warm();
  rig.remapper->invalidate_context_device(kDid, SourceId::make(5, 2, 1), 2);  // fn 1,3,5,7
  EXPECT_EQ(rig.remapper->context_cache_entries(), 1u);
  warm();
  rig.remapper->invalidate_context_device(kDid, SourceId::make(5, 2, 2), 3);  // all 8
  EXPECT_EQ(rig.remapper->context_cache_entries(), 0u);
}

TEST_F(TranslationCaches, ContextDomainAndGlobalInvalidation) {
  rig.build();
  remap(0x10'0000, 0xA000);
  rig.tables.map(pt2, 4, 0x10'0000, 0xC000, k4K, kRW);
  hpa(kSid, 0x10'0000);
  hpa(kOther, 0x10'0000);
  EXPECT_EQ(rig.remapper->invalidate_context_domain(2), Granularity::kDomain);
  EXPECT_EQ(rig.remapper->context_cache_entries(), 1u);
  EXPECT_EQ(rig.remapper->invalidate_context_global(), Granularity::kGlobal);
  EXPECT_EQ(rig.remapper->context_cache_entries(), 0u);
  EXPECT_EQ(rig.stats().ctxt_inval_domain, 1u);
  EXPECT_EQ(rig.stats().ctxt_inval_global, 1u);
  // Context invalidation leaves the IOTLB alone.
  EXPECT_EQ(rig.remapper->iotlb_entries(), 2u);
}

TEST_F(TranslationCaches, CachingModeCachesNotPresentContext) {
  rig.config.caching_mode = true;
  const SourceId sid = SourceId::make(9, 0, 0);
  rig.tables.set_context(sid, ContextSpec{.present = false, .fpd = true});
  rig.build();
  EXPECT_EQ(rig.read(sid, 0x1000).reason, FaultReason::kContextNotPresent);
  rig.tables.set_context(sid, ContextSpec{.aw = 2, .did = 4, .slptptr = pt});
  remap(0x1000, 0xA000);
  const RemapResult r = rig.read(sid, 0x1000, 1000);
  EXPECT_EQ(r.reason, FaultReason::kContextNotPresent);  // the negative entry answered
  EXPECT_TRUE(r.fpd);
  EXPECT_EQ(rig.stats().ctxt_cache_hit, 1u);
  rig.remapper->invalidate_context_domain(4);  // the entry is tagged DID 0, not 4
  EXPECT_EQ(rig.read(sid, 0x1000, 2000).reason, FaultReason::kContextNotPresent);
  rig.remapper->invalidate_context_domain(0);
  EXPECT_EQ(hpa(sid, 0x1000), 0xA000u);
}

TEST_F(TranslationCaches, WithoutCachingModeNotPresentIsNotCached) {
  const SourceId sid = SourceId::make(9, 0, 0);
  rig.tables.set_context(sid, ContextSpec{.present = false});
  rig.build();
  EXPECT_EQ(rig.read(sid, 0x1000).reason, FaultReason::kContextNotPresent);
  rig.tables.set_context(sid, ContextSpec{.aw = 2, .did = 4, .slptptr = pt});
  remap(0x1000, 0xA000);
  EXPECT_EQ(hpa(sid, 0x1000), 0xA000u);
  rig.tables.map(pt, 4, 0x2000, 0, k4K, 0);  // not present
  EXPECT_EQ(rig.read(sid, 0x2000, now += 1000).reason, FaultReason::kReadDenied);
  remap(0x2000, 0xB000);
  EXPECT_EQ(hpa(sid, 0x2000), 0xB000u);
}

TEST_F(TranslationCaches, CachingModeCachesNotPresentLeaf) {
  rig.config.caching_mode = true;
  rig.build();
  remap(0x10'0000, 0xA000);
  EXPECT_EQ(rig.read(kSid, 0x10'1000).reason, FaultReason::kReadDenied);
  remap(0x10'1000, 0xB000);
  EXPECT_EQ(rig.write(kSid, 0x10'1000, 1000).reason, FaultReason::kWriteDenied);
  EXPECT_EQ(rig.stats().iotlb_hit, 1u);
  rig.remapper->invalidate_iotlb_page(kDid, 0x10'1000, 0, true);
  EXPECT_EQ(hpa(kSid, 0x10'1000), 0xB000u);
}

TEST_F(TranslationCaches, InvalidateAllDropsEverything) {
  rig.build();
  remap(0x10'0000, 0xA000);
  hpa(kSid, 0x10'0000);
  rig.remapper->invalidate_all();
  EXPECT_EQ(rig.remapper->iotlb_entries(), 0u);
  EXPECT_EQ(rig.remapper->context_cache_entries(), 0u);
  for (unsigned l = 2; l <= 5; ++l) EXPECT_EQ(rig.remapper->pwc_entries(l), 0u);
  hpa(kSid, 0x10'0000);
  EXPECT_EQ(rig.stats().pw_mem_reads, 8u);
  EXPECT_EQ(rig.stats().ctxt_fetch_reads, 4u);
}

TEST_F(TranslationCaches, CacheCapacityFromConfigAndEviction) {
  rig.config.iotlb = model::CacheGeometry{.sets = 1, .ways = 2};
  rig.config.pwc[0] =
      model::CacheGeometry{.sets = 1, .ways = 1, .policy = model::ReplacementPolicy::kLru};
  rig.config.pwc[1].ways = 0;  // level 3 not built
  rig.build();
  for (std::uint64_t i = 0; i < 3; ++i) remap(0x10'0000 + i * k4K, 0xA000 + i * k4K);
  remap(0x40'0000, 0xF000);
  hpa(kSid, 0x10'0000);
  hpa(kSid, 0x10'1000);
  hpa(kSid, 0x10'2000);  // evicts the LRU entry 0x100000
  EXPECT_EQ(rig.remapper->iotlb_entries(), 2u);
  hpa(kSid, 0x10'1000);
  EXPECT_EQ(rig.stats().iotlb_hit, 1u);
  hpa(kSid, 0x10'0000);
  EXPECT_EQ(rig.stats().iotlb_miss, 4u);
  EXPECT_EQ(rig.remapper->pwc_entries(3), 0u);
  hpa(kSid, 0x40'0000);  // other PD entry: replaces the single level-2 PWC entry
  EXPECT_EQ(rig.remapper->pwc_entries(2), 1u);
  EXPECT_EQ(rig.stats().slpwc_l3_hit, 0u);
  EXPECT_EQ(rig.stats().slpwc_l4_hit, 1u);
}

}  // namespace
}  // namespace vtdsim::iommu
