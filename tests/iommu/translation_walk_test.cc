// Legacy translation through real tables: 3/4/5-level walks, 4 KiB / 2 MiB / 1 GiB leaves,
// permissions, pass-through, TE=0, the interrupt window and ATS address types.
#include <gtest/gtest.h>

#include "tests/iommu/table_builder.h"

namespace vtdsim::iommu {
namespace {

using model::AccessType;
using model::AddressType;
using model::SourceId;
using model::TranslationStatus;
using test_support::ContextSpec;
using test_support::kR;
using test_support::kRW;
using test_support::kW;
using test_support::TranslationRig;

constexpr SourceId kSid = SourceId::make(3, 4, 1);
constexpr std::uint64_t k4K = 0x1000;
constexpr std::uint64_t k2M = 0x20'0000;
constexpr std::uint64_t k1G = 0x4000'0000;

struct TranslationWalk : ::testing::Test {
  // Builds a context for kSid with `aw` and returns its page-table root.
  std::uint64_t setup(unsigned aw, std::uint16_t did = 5) {
    const std::uint64_t pt = rig.tables.alloc_table();
    rig.tables.set_context(kSid, ContextSpec{.aw = aw, .did = did, .slptptr = pt});
    return pt;
  }
  void expect_ok(const RemapResult& r, std::uint64_t hpa, std::uint64_t page, bool rd, bool wr) {
    ASSERT_EQ(r.translation.status, TranslationStatus::kOk) << int(r.translation.fault_reason);
    EXPECT_EQ(r.reason, FaultReason::kNone);
    EXPECT_EQ(r.translation.hpa, hpa);
    EXPECT_EQ(r.translation.page_size, page);
    EXPECT_EQ(r.translation.permissions, (model::Permissions{.read = rd, .write = wr}));
  }
  TranslationRig rig;
};

TEST_F(TranslationWalk, FourLevel4KiB) {
  const std::uint64_t pt = setup(2);
  rig.build();
  rig.tables.map(pt, 4, 0x12'3456'7000, 0xABC'D000, k4K, kRW);
  expect_ok(rig.read(kSid, 0x12'3456'7123), 0xABC'D123, k4K, true, true);
  expect_ok(rig.write(kSid, 0x12'3456'7FF8), 0xABC'DFF8, k4K, true, true);
  EXPECT_FALSE(rig.read(kSid, 0x12'3456'7123).fpd);
  EXPECT_EQ(rig.stats().translations, 3u);
  EXPECT_EQ(rig.stats().faults, 0u);
}

TEST_F(TranslationWalk, ThreeLevel4KiB) {
  const std::uint64_t pt = setup(1);
  rig.build();
  rig.tables.map(pt, 3, 0x7F'FFFF'F000, 0x5000, k4K, kRW);
  expect_ok(rig.read(kSid, 0x7F'FFFF'F00C), 0x500C, k4K, true, true);
  EXPECT_EQ(rig.stats().pw_mem_reads, 3u);
}

TEST_F(TranslationWalk, FiveLevel4KiB) {
  rig.config.sagaw = 0b1110;
  rig.config.mgaw = 57;
  const std::uint64_t pt = setup(3);
  rig.build();
  const std::uint64_t iova = 0x1AB'CDEF'1234'5000;  // bits 56:48 used
  rig.tables.map(pt, 5, iova, 0x77'7000, k4K, kRW);
  expect_ok(rig.read(kSid, iova + 0x10), 0x77'7010, k4K, true, true);
  EXPECT_EQ(rig.stats().pw_mem_reads, 5u);
}

TEST_F(TranslationWalk, TwoMiBPage) {
  const std::uint64_t pt = setup(2);
  rig.build();
  rig.tables.map(pt, 4, 0x8000'0000, 0x1'2340'0000, k2M, kRW);
  expect_ok(rig.write(kSid, 0x8012'3456), 0x1'2352'3456, k2M, true, true);
  EXPECT_EQ(rig.stats().pw_mem_reads, 3u);
}

TEST_F(TranslationWalk, OneGiBPageFourAndThreeLevels) {
  const std::uint64_t pt = setup(2);
  rig.build();
  rig.tables.map(pt, 4, 0x40'0000'0000, 0x80'0000'0000, k1G, kR);
  expect_ok(rig.read(kSid, 0x40'1234'5678), 0x80'1234'5678, k1G, true, false);
  EXPECT_EQ(rig.stats().pw_mem_reads, 2u);

  TranslationRig three;
  const std::uint64_t pt3 = three.tables.alloc_table();
  three.tables.set_context(kSid, ContextSpec{.aw = 1, .did = 2, .slptptr = pt3});
  three.build();
  three.tables.map(pt3, 3, 0x1'4000'0000, 0xC0'0000'0000, k1G, kRW);
  const RemapResult r = three.read(kSid, 0x1'7FFF'FFFF);
  expect_ok(r, 0xC0'3FFF'FFFF, k1G, true, true);
}

TEST_F(TranslationWalk, PermissionsAreAndedDownTheWalk) {
  const std::uint64_t pt = setup(2);
  rig.build();
  // Non-leaf entries grant read only; the leaf grants RW: the translation is read-only.
  rig.tables.map(pt, 4, 0x1000, 0x9000, k4K, kRW, kR);
  expect_ok(rig.read(kSid, 0x1000), 0x9000, k4K, true, false);
  const RemapResult w = rig.write(kSid, 0x1000);
  EXPECT_EQ(w.translation.status, TranslationStatus::kFault);
  EXPECT_EQ(w.reason, FaultReason::kWriteDenied);
  EXPECT_EQ(w.translation.fault_reason, 0x05);
}

TEST_F(TranslationWalk, WriteOnlyMapping) {
  const std::uint64_t pt = setup(2);
  rig.build();
  rig.tables.map(pt, 4, 0x2000, 0xA000, k4K, kW);
  expect_ok(rig.write(kSid, 0x2008), 0xA008, k4K, false, true);
  EXPECT_EQ(rig.read(kSid, 0x2008).reason, FaultReason::kReadDenied);
}

TEST_F(TranslationWalk, IgnoredBitsDoNotFault) {
  const std::uint64_t pt = setup(2);
  rig.build();
  rig.tables.map(pt, 4, 0x3000, 0xB000, k4K, kRW);
  const std::uint64_t leaf = rig.tables.entry_address(pt, 4, 0x3000, 1);
  // Bits 6:2, 7 (PS in a PTE), 8..11, 61:52 and 63 are ignored (§9.8).
  const std::uint64_t ignored = 0xFFCull | (0x3FFull << 52) | (1ull << 63);
  rig.tables.write64(leaf, rig.tables.read64(leaf) | ignored);
  const std::uint64_t pde = rig.tables.entry_address(pt, 4, 0x3000, 2);
  rig.tables.write64(pde, rig.tables.read64(pde) | (1ull << 63) | (0x3FFull << 52) | 0xF7Cull);
  expect_ok(rig.read(kSid, 0x3004), 0xB004, k4K, true, true);
}

TEST_F(TranslationWalk, TranslationDisabledPassesThrough) {
  rig.build();
  rig.root.translation_enabled = false;
  expect_ok(rig.write(kSid, 0xDEAD'B000), 0xDEAD'B000, k4K, true, true);
  EXPECT_EQ(rig.stats().passthrough, 1u);
  EXPECT_EQ(rig.stats().ctxt_cache_lookup, 0u);
}

TEST_F(TranslationWalk, PassThroughContext) {
  rig.tables.set_context(kSid, ContextSpec{.tt = 2, .aw = 0, .did = 9});
  rig.build();
  const RemapResult r = rig.read(kSid, 0x3'4567'8901);
  expect_ok(r, 0x3'4567'8901, k4K, true, true);
  EXPECT_EQ(r.translation.latency,
            rig.config.timing.context_cache_lookup + 2 * rig.config.timing.table_read());
  EXPECT_EQ(rig.stats().passthrough, 1u);
  EXPECT_EQ(rig.stats().iotlb_lookup, 0u);
}

TEST_F(TranslationWalk, InterruptWindowIsNotTranslated) {
  rig.build();  // no context at all: the window never consults the tables
  for (const auto type : {AccessType::kWrite, AccessType::kRead}) {
    const RemapResult r = rig.access(kSid, 0xFEE0'1004, type, 100);
    EXPECT_EQ(r.translation.status, TranslationStatus::kInterruptWindow);
    EXPECT_EQ(r.reason, FaultReason::kNone);
    EXPECT_EQ(r.translation.completion, 100u);
  }
  EXPECT_EQ(rig.stats().interrupt_window, 2u);
  EXPECT_EQ(rig.stats().ctxt_cache_lookup, 0u);
  // Just outside the window is DMA (and faults here: no root entry).
  EXPECT_EQ(rig.write(kSid, 0xFEF0'0000).reason, FaultReason::kRootNotPresent);
  EXPECT_EQ(rig.write(kSid, 0xFEDF'FFFC).reason, FaultReason::kRootNotPresent);
  // TE=0 does not disable the window either.
  rig.root.translation_enabled = false;
  EXPECT_EQ(rig.write(kSid, 0xFEEF'FFFC).translation.status, TranslationStatus::kInterruptWindow);
}

TEST_F(TranslationWalk, RequestWithPasidIsBlockedInLegacyMode) {
  const std::uint64_t pt = setup(2);
  rig.build();
  rig.tables.map(pt, 4, 0x1000, 0x9000, k4K, kRW);
  model::DmaRequest req;
  req.source_id = kSid;
  req.address = 0xFEE0'0000;  // with PASID the window does not apply
  req.has_pasid = true;
  req.pasid = 7;
  const RemapResult r = rig.remapper->translate(req, rig.root);
  EXPECT_EQ(r.reason, FaultReason::kSmLegacyTtmWithPasid);
  EXPECT_EQ(rig.stats().fault_other, 1u);
}

TEST_F(TranslationWalk, DeviceTlbContextAnswersTranslationRequests) {
  rig.config.device_tlb = true;
  const std::uint64_t pt = rig.tables.alloc_table();
  rig.tables.set_context(kSid, ContextSpec{.tt = 1, .aw = 2, .did = 4, .slptptr = pt});
  rig.build();
  rig.tables.map(pt, 4, 0x40'0000, 0x60'0000, k2M, kR);
  // Translation request: the translation and its permissions, no permission fault.
  RemapResult r =
      rig.access(kSid, 0x41'0000, AccessType::kWrite, 0, AddressType::kTranslationRequest);
  expect_ok(r, 0x61'0000, k2M, true, false);
  // Again from the IOTLB.
  r = rig.access(kSid, 0x41'0000, AccessType::kRead, 1000, AddressType::kTranslationRequest);
  expect_ok(r, 0x61'0000, k2M, true, false);
  EXPECT_EQ(rig.stats().iotlb_hit, 1u);
  // Not present: a successful completion granting nothing.
  r = rig.access(kSid, 0x9000'0000, AccessType::kRead, 2000, AddressType::kTranslationRequest);
  expect_ok(r, 0, k4K, false, false);
  EXPECT_EQ(rig.stats().faults, 0u);
  // Translated requests carry a host address and pass.
  r = rig.access(kSid, 0x1234'5678, AccessType::kWrite, 3000, AddressType::kTranslated);
  expect_ok(r, 0x1234'5678, k4K, true, true);
  // Untranslated requests are walked as usual.
  expect_ok(rig.read(kSid, 0x5F'FFFF, 4000), 0x7F'FFFF, k2M, true, false);
}

}  // namespace
}  // namespace vtdsim::iommu
