// Every legacy fault reason the translation pipeline raises (0x01–0x0E, and 0x31 for PASID
// requests in legacy mode), through real table contents, with the FPD flag.
#include <gtest/gtest.h>

#include "iommu/legacy_formats.h"
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

constexpr SourceId kSid = SourceId::make(0x12, 3, 2);
constexpr std::uint64_t k4K = 0x1000;
constexpr std::uint64_t kIova = 0x5555'6000;
// Memory is 40 bits wide; the host address width is 46: pointers in [2^40, 2^46) pass the
// reserved-bit checks but cannot be read.
constexpr std::uint64_t kBeyondMemory = std::uint64_t{1} << 41;
constexpr std::uint64_t kBeyondHaw = std::uint64_t{1} << 47;

struct TranslationFaults : ::testing::Test {
  // A 4-level context for kSid mapping kIova → 0x9000 RW; returns the page-table root.
  std::uint64_t setup(bool fpd = false) {
    pt = rig.tables.alloc_table();
    rig.tables.set_context(kSid, ContextSpec{.fpd = fpd, .aw = 2, .did = 7, .slptptr = pt});
    rig.tables.map(pt, 4, kIova, 0x9000, k4K, kRW);
    return pt;
  }
  void expect_fault(const RemapResult& r, FaultReason reason, bool fpd) {
    EXPECT_EQ(r.translation.status, TranslationStatus::kFault);
    EXPECT_EQ(r.reason, reason) << "got " << int(code(r.reason));
    EXPECT_EQ(r.translation.fault_reason, code(reason));
    EXPECT_EQ(r.fpd, fpd);
    EXPECT_FALSE(r.translation.fault_recorded);  // recording is the unit's job
  }
  // Rewrites the level-`level` entry of kIova.
  void poke(unsigned level, std::uint64_t set_bits, std::uint64_t clear_bits = 0) {
    const std::uint64_t a = rig.tables.entry_address(pt, 4, kIova, level);
    rig.tables.write64(a, (rig.tables.read64(a) & ~clear_bits) | set_bits);
  }
  TranslationRig rig;
  std::uint64_t pt = 0;
};

TEST_F(TranslationFaults, RootNotPresent01) {
  rig.build();
  rig.tables.set_root_raw(kSid.bus(), 0, 0);
  expect_fault(rig.read(kSid, kIova), FaultReason::kRootNotPresent, false);
  EXPECT_EQ(rig.stats().fault_01, 1u);
}

TEST_F(TranslationFaults, ContextNotPresent02WithAndWithoutFpd) {
  rig.tables.set_context(kSid, ContextSpec{.present = false, .fpd = false});
  rig.tables.set_context(SourceId::make(0x12, 3, 3), ContextSpec{.present = false, .fpd = true});
  rig.build();
  expect_fault(rig.read(kSid, kIova), FaultReason::kContextNotPresent, false);
  // FPD is evaluated even though P=0 (facts §3.2).
  expect_fault(rig.read(SourceId::make(0x12, 3, 3), kIova), FaultReason::kContextNotPresent, true);
  EXPECT_EQ(rig.stats().fault_02, 2u);
  EXPECT_EQ(rig.stats().faults, 2u);
}

TEST_F(TranslationFaults, InvalidContext03) {
  rig.config.device_tlb = false;
  rig.config.pass_through = false;
  rig.config.sagaw = 0b0100;  // 4-level only
  const std::uint64_t table = rig.tables.alloc_table();
  struct Case {
    unsigned tt, aw;
  };
  const Case cases[] = {{3, 2}, {1, 2}, {2, 2}, {0, 1}, {0, 3}, {0, 0}, {0, 4}, {0, 7}};
  unsigned fn = 0;
  for (const Case& c : cases) {
    rig.tables.set_context(SourceId::make(1, 1, fn++),
                           ContextSpec{.fpd = true, .tt = c.tt, .aw = c.aw, .slptptr = table});
  }
  rig.build();
  for (unsigned i = 0; i < fn; ++i) {
    SCOPED_TRACE(i);
    expect_fault(rig.read(SourceId::make(1, 1, i), 0x1000), FaultReason::kContextInvalid, true);
  }
  EXPECT_EQ(rig.stats().fault_03, fn);
}

TEST_F(TranslationFaults, AddressBeyondAgaw04) {
  setup();
  rig.build();
  expect_fault(rig.read(kSid, std::uint64_t{1} << 48), FaultReason::kAddressBeyondAw, false);
  // 3-level context: 39 bits.
  const std::uint64_t pt3 = rig.tables.alloc_table();
  const SourceId sid3 = SourceId::make(0x12, 3, 4);
  rig.tables.set_context(sid3, ContextSpec{.fpd = true, .aw = 1, .did = 8, .slptptr = pt3});
  rig.tables.map(pt3, 3, 0x7F'FFFF'F000, 0x9000, k4K, kRW);
  EXPECT_TRUE(rig.read(sid3, 0x7F'FFFF'F000).translation.ok());
  expect_fault(rig.read(sid3, 0x80'0000'0000), FaultReason::kAddressBeyondAw, true);
}

TEST_F(TranslationFaults, AddressBeyondMgaw04) {
  rig.config.mgaw = 40;  // min(AGAW 48, MGAW 40) = 40
  setup();
  rig.build();
  EXPECT_TRUE(rig.read(kSid, kIova).translation.ok());
  expect_fault(rig.read(kSid, std::uint64_t{1} << 40), FaultReason::kAddressBeyondAw, false);
}

TEST_F(TranslationFaults, WriteDenied05) {
  setup(true);
  poke(1, 0, kW);  // leaf read-only
  rig.build();
  expect_fault(rig.write(kSid, kIova), FaultReason::kWriteDenied, true);
  EXPECT_TRUE(rig.read(kSid, kIova).translation.ok());
  // Not present (R=W=0) at level 3: a write faults 0x05 too.
  expect_fault(rig.write(kSid, 0x80'0000'0000), FaultReason::kWriteDenied, true);
  EXPECT_EQ(rig.stats().fault_05, 2u);
}

TEST_F(TranslationFaults, ReadDenied06) {
  setup();
  poke(3, 0, kR);  // PDPE write-only: reads denied below it
  rig.build();
  expect_fault(rig.read(kSid, kIova), FaultReason::kReadDenied, false);
  EXPECT_TRUE(rig.write(kSid, kIova).translation.ok());
  // Not-present leaf with a reserved bit set: not present is checked first, not 0x0C.
  poke(1, std::uint64_t{1} << 62, kRW);
  rig.remapper->invalidate_iotlb_global();  // the write above cached the old leaf
  expect_fault(rig.write(kSid, kIova), FaultReason::kWriteDenied, false);
  expect_fault(rig.read(kSid, kIova), FaultReason::kReadDenied, false);
}

TEST_F(TranslationFaults, PagingEntryReadError07) {
  setup(true);
  poke(2, 0, sl_entry::ADDR::kMask);
  poke(2, sl_entry::ADDR::set(0, kBeyondMemory >> 12));  // PT beyond memory
  rig.build();
  expect_fault(rig.read(kSid, kIova), FaultReason::kPagingEntryReadError, true);
  // SLPTPTR itself beyond memory.
  const SourceId sid = SourceId::make(0x12, 3, 5);
  rig.tables.set_context(sid, ContextSpec{.aw = 2, .did = 9, .slptptr = kBeyondMemory});
  expect_fault(rig.read(sid, kIova), FaultReason::kPagingEntryReadError, false);
  EXPECT_EQ(rig.stats().fault_07, 2u);
}

TEST_F(TranslationFaults, RootReadError08) {
  setup();
  rig.build();
  rig.root.root_table = kBeyondMemory;
  expect_fault(rig.read(kSid, kIova), FaultReason::kRootReadError, false);
  // Decision: TE=1 with no root table latched reads as a root read error too.
  rig.root.root_table = rig.tables.root_table();
  rig.root.root_table_pointer_set = false;
  expect_fault(rig.read(kSid, kIova), FaultReason::kRootReadError, false);
  EXPECT_EQ(rig.stats().fault_08, 2u);
}

TEST_F(TranslationFaults, ContextReadError09) {
  rig.build();
  rig.tables.set_root_raw(kSid.bus(), root_entry::CTP::set(1, kBeyondMemory >> 12), 0);
  expect_fault(rig.read(kSid, kIova), FaultReason::kContextReadError, false);
}

TEST_F(TranslationFaults, RootReserved0A) {
  rig.build();
  const std::uint64_t ctp = rig.tables.alloc_table();
  const std::uint64_t good = root_entry::CTP::set(1, ctp >> 12);
  const std::pair<std::uint64_t, std::uint64_t> bad[] = {
      {good | 0x2, 0},
      {good | 0x800, 0},
      {good, 1},
      {good, std::uint64_t{1} << 63},
      {root_entry::CTP::set(1, kBeyondHaw >> 12), 0}};
  for (const auto& [lo, hi] : bad) {
    SCOPED_TRACE(lo);
    rig.tables.set_root_raw(kSid.bus(), lo, hi);
    expect_fault(rig.read(kSid, kIova), FaultReason::kRootReserved, false);
  }
}

TEST_F(TranslationFaults, ContextReserved0B) {
  const std::uint64_t table = rig.tables.alloc_table();
  const std::pair<std::uint64_t, std::uint64_t> extra[] = {{1u << 4, 0},
                                                           {1u << 11, 0},
                                                           {0, 1u << 7},
                                                           {0, std::uint64_t{1} << 24},
                                                           {0, std::uint64_t{1} << 63}};
  unsigned fn = 0;
  for (const auto& [lo, hi] : extra) {
    rig.tables.set_context(
        SourceId::make(2, 0, fn++),
        ContextSpec{.fpd = true, .aw = 2, .slptptr = table, .extra_lo = lo, .extra_hi = hi});
  }
  // SLPTPTR at or above the host address width.
  rig.tables.set_context(SourceId::make(2, 0, fn++), ContextSpec{.aw = 2, .slptptr = kBeyondHaw});
  // AVAIL bits 70:67 are software-available, not reserved.
  rig.tables.set_context(SourceId::make(2, 1, 0),
                         ContextSpec{.aw = 2, .slptptr = table, .extra_hi = 0xF << 3});
  rig.build();
  for (unsigned i = 0; i < fn; ++i) {
    SCOPED_TRACE(i);
    expect_fault(rig.read(SourceId::make(2, 0, i), 0x1000), FaultReason::kContextReserved,
                 i + 1 < fn);
  }
  // Through AVAIL the request reaches the (empty) page table: not-present, a read fault.
  expect_fault(rig.read(SourceId::make(2, 1, 0), 0x1000), FaultReason::kReadDenied, false);
}

TEST_F(TranslationFaults, PagingEntryReserved0C) {
  struct Case {
    const char* what;
    unsigned level;
    std::uint64_t set;
  };
  const Case cases[] = {
      {"TM bit 62 in the leaf", 1, std::uint64_t{1} << 62},
      {"leaf address above HAW", 1, std::uint64_t{1} << 47},
      {"PS in a PML4E", 4, 1u << 7},
      {"reserved bit 62 in a non-leaf", 3, std::uint64_t{1} << 62},
      {"PDE address above HAW", 2, std::uint64_t{1} << 50},
  };
  setup(true);
  rig.build();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::uint64_t a = rig.tables.entry_address(pt, 4, kIova, c.level);
    const std::uint64_t saved = rig.tables.read64(a);
    rig.tables.write64(a, saved | c.set);
    expect_fault(rig.read(kSid, kIova), FaultReason::kPagingEntryReserved, true);
    rig.tables.write64(a, saved);
    rig.remapper->invalidate_iotlb_global();  // also drops paging-structure-cache entries
  }
  EXPECT_EQ(rig.stats().fault_0c, 5u);
  EXPECT_TRUE(rig.read(kSid, kIova).translation.ok());
}

TEST_F(TranslationFaults, SuperpagesOnlyWhereCapAllows0C) {
  rig.config.sl_2m_pages = false;
  rig.config.sl_1g_pages = false;
  pt = rig.tables.alloc_table();
  rig.tables.set_context(kSid, ContextSpec{.aw = 2, .did = 7, .slptptr = pt});
  rig.tables.map(pt, 4, 0x4000'0000, 0x8000'0000, 0x20'0000, kRW);
  rig.tables.map(pt, 4, 0x80'0000'0000, 0x4000'0000, 0x4000'0000, kRW);
  rig.build();
  expect_fault(rig.read(kSid, 0x4000'0000), FaultReason::kPagingEntryReserved, false);
  expect_fault(rig.read(kSid, 0x80'0000'0000), FaultReason::kPagingEntryReserved, false);
}

TEST_F(TranslationFaults, MisalignedSuperpage0C) {
  pt = rig.tables.alloc_table();
  rig.tables.set_context(kSid, ContextSpec{.aw = 2, .did = 7, .slptptr = pt});
  rig.tables.map(pt, 4, 0x4000'0000, 0x8000'0000, 0x20'0000, kRW);
  rig.tables.map(pt, 4, 0x80'0000'0000, 0x4000'0000, 0x4000'0000, kRW);
  const std::uint64_t pde = rig.tables.entry_address(pt, 4, 0x4000'0000, 2);
  rig.tables.write64(pde, rig.tables.read64(pde) | 0x1000);  // bit 12 of a 2 MiB address
  const std::uint64_t pdpe = rig.tables.entry_address(pt, 4, 0x80'0000'0000, 3);
  rig.tables.write64(pdpe, rig.tables.read64(pdpe) | 0x200000);  // bit 21 of a 1 GiB address
  rig.build();
  expect_fault(rig.read(kSid, 0x4000'0000), FaultReason::kPagingEntryReserved, false);
  expect_fault(rig.read(kSid, 0x80'0000'0000), FaultReason::kPagingEntryReserved, false);
  EXPECT_EQ(rig.stats().fault_0c, 2u);
}

TEST_F(TranslationFaults, TranslationTypeBlocked0D) {
  rig.config.device_tlb = true;
  setup(true);
  const SourceId pt_sid = SourceId::make(0x12, 4, 0);
  rig.tables.set_context(pt_sid, ContextSpec{.tt = 2, .did = 3});
  rig.build();
  // TT=00 blocks translation requests and translated requests.
  expect_fault(rig.access(kSid, kIova, AccessType::kRead, 0, AddressType::kTranslationRequest),
               FaultReason::kTranslationTypeBlocked, true);
  expect_fault(rig.access(kSid, 0x9000, AccessType::kWrite, 0, AddressType::kTranslated),
               FaultReason::kTranslationTypeBlocked, true);
  // TT=10 (pass-through) blocks them as well.
  expect_fault(rig.access(pt_sid, kIova, AccessType::kRead, 0, AddressType::kTranslationRequest),
               FaultReason::kTranslationTypeBlocked, false);
  EXPECT_EQ(rig.stats().fault_0d, 3u);
}

TEST_F(TranslationFaults, OutputInInterruptRange0E) {
  setup(true);
  rig.tables.map(pt, 4, 0x7000'0000, 0xFEE0'0000, k4K, kRW);
  rig.tables.map(pt, 4, 0x7020'0000, 0xFEE0'0000, 0x20'0000, kRW);       // 2 MiB page over it
  rig.tables.map(pt, 4, 0x40'0000'0000, 0xC000'0000, 0x4000'0000, kRW);  // 1 GiB page over it
  rig.tables.map(pt, 4, 0x7000'1000, 0xFEF0'0000, k4K, kRW);             // just above: fine
  rig.tables.map(pt, 4, 0x7000'2000, 0xFEDF'F000, k4K, kRW);             // just below: fine
  rig.build();
  expect_fault(rig.write(kSid, 0x7000'0000), FaultReason::kOutputInInterruptRange, true);
  expect_fault(rig.read(kSid, 0x7020'0000), FaultReason::kOutputInInterruptRange, true);
  expect_fault(rig.read(kSid, 0x40'0000'0000), FaultReason::kOutputInInterruptRange, true);
  EXPECT_EQ(rig.read(kSid, 0x7000'1000).translation.hpa, 0xFEF0'0000u);
  EXPECT_EQ(rig.read(kSid, 0x7000'2000).translation.hpa, 0xFEDF'F000u);
  // Not cached: the next request walks again.
  expect_fault(rig.write(kSid, 0x7000'0000), FaultReason::kOutputInInterruptRange, true);
  EXPECT_EQ(rig.stats().iotlb_hit, 0u);
  EXPECT_EQ(rig.stats().fault_0e, 4u);
}

TEST_F(TranslationFaults, FaultTimingCountsTheReadsDone) {
  rig.build();
  rig.tables.set_root_raw(kSid.bus(), 0, 0);
  const RemapResult r = rig.read(kSid, kIova, 50);
  const auto& tp = rig.config.timing;
  EXPECT_EQ(r.translation.completion, 50 + tp.context_cache_lookup + tp.table_read());
  EXPECT_EQ(r.translation.latency, tp.context_cache_lookup + tp.table_read());
}

}  // namespace
}  // namespace vtdsim::iommu
