// VtdDriver end to end against iommu::RemappingUnit: bring-up through registers only, exact
// translations after map, superpages, strict unmap faults, stale IOTLB entries until a
// deferred flush, page-table pages freed, caching mode, pass-through, register-based
// invalidation, RMRR identity maps and API misuse.
#include "host/vtd_driver.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "iommu/registers.h"
#include "iommu/remapping_unit.h"
#include "model/frame_allocator.h"
#include "model/physical_memory.h"

namespace vtdsim::host {
namespace {

constexpr std::uint64_t kTablesBase = 0x1000'0000;
constexpr std::uint64_t kTablesSize = 16ull << 20;
constexpr model::SourceId kNic = model::SourceId::make(0, 3, 0);
constexpr model::Permissions kRW{true, true, false};
constexpr model::Permissions kRO{true, false, false};

struct Rig {
  explicit Rig(iommu::UnitConfig cfg = {}, DriverConfig dcfg = {})
      : memory(46),
        frames(memory, kTablesBase, kTablesSize),
        unit(memory, cfg),
        driver(unit, memory, frames, dcfg) {}

  model::Translation dma(std::uint64_t iova, model::AccessType access = model::AccessType::kRead,
                         model::SourceId sid = kNic) {
    model::DmaRequest r;
    r.source_id = sid;
    r.address = iova;
    r.size = 4;
    r.access = access;
    return unit.translate(r);
  }
  std::uint16_t up_with_domain() {
    EXPECT_TRUE(driver.init());
    EXPECT_TRUE(driver.enable_translation());
    const std::uint16_t did = driver.create_domain().value();
    EXPECT_TRUE(driver.attach(did, kNic));
    return did;
  }

  model::PhysicalMemory memory;
  model::FrameAllocator frames;
  iommu::RemappingUnit unit;
  VtdDriver driver;
};

TEST(VtdDriver, BringUpThroughRegistersOnly) {
  Rig rig;
  ASSERT_TRUE(rig.driver.init());
  EXPECT_EQ(rig.driver.domain_ids(), 65536u);  // ND = 6
  EXPECT_EQ(rig.driver.agaw(), 2u);            // 48-bit, 4 levels
  EXPECT_EQ(rig.driver.mgaw(), 48u);
  EXPECT_TRUE(rig.driver.superpage_2m());
  EXPECT_TRUE(rig.driver.superpage_1g());
  const auto gsts = rig.unit.mmio_read(iommu::reg_offset::kGsts, 4);
  EXPECT_EQ(gsts, iommu::gsts::RTPS::kMask | iommu::gsts::QIES::kMask);
  EXPECT_EQ(rig.unit.mmio_read(iommu::reg_offset::kRtaddr, 8), rig.driver.root_table());
  EXPECT_EQ(rig.unit.mmio_read(iommu::reg_offset::kIqa, 8), rig.driver.invalidator().queue_base());
  EXPECT_EQ(rig.unit.stats().srtp, 1u);
  EXPECT_EQ(rig.unit.stats().ctxt_inv_global, 1u);
  EXPECT_EQ(rig.unit.stats().iotlb_inv_global, 1u);
  EXPECT_EQ(rig.unit.stats().register_invalidations, 2u);
  ASSERT_TRUE(rig.driver.enable_translation());
  EXPECT_EQ(rig.unit.mmio_read(iommu::reg_offset::kGsts, 4),
            iommu::gsts::TES::kMask | iommu::gsts::RTPS::kMask | iommu::gsts::QIES::kMask);
  EXPECT_TRUE(rig.unit.root_state().translation_enabled);
  EXPECT_EQ(rig.driver.regs().gcmd_shadow(), iommu::gcmd::TE::kMask | iommu::gcmd::QIE::kMask);
}

TEST(VtdDriver, MapGivesExactTranslationsAndPermissions) {
  Rig rig;
  const std::uint16_t did = rig.up_with_domain();
  EXPECT_EQ(did, 0u);  // CM = 0: DID 0 is an ordinary id
  ASSERT_TRUE(rig.driver.map(did, 0x1000'0000, 0x2345'6000, 0x2000, kRW));
  ASSERT_TRUE(rig.driver.map(did, 0x1000'4000, 0x3000'0000, 0x1000, kRO));
  auto t = rig.dma(0x1000'1ABC);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.hpa, 0x2345'7ABCu);
  EXPECT_EQ(t.page_size, 0x1000u);
  EXPECT_EQ(t.permissions, kRW);
  auto w = rig.dma(0x1000'4010, model::AccessType::kWrite);
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.fault_reason, 0x05);  // write to a read-only page
  auto r = rig.dma(0x1000'4010);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.hpa, 0x3000'0010u);
  // Unmapped neighbour: not present → read fault.
  EXPECT_EQ(rig.dma(0x1000'2000).fault_reason, 0x06);
  // The software walk agrees with the hardware.
  auto l = rig.driver.page_table(did)->lookup(0x1000'1ABC);
  EXPECT_TRUE(l.present);
  EXPECT_EQ(l.hpa, 0x2345'7ABCu);
}

TEST(VtdDriver, SuperpagesWhereAlignedAndTablesFreedOnUnmap) {
  Rig rig;
  const std::uint16_t did = rig.up_with_domain();
  const std::uint64_t base_pages = rig.frames.pages_used();
  // 4 MiB + 8 KiB at 2 MiB-aligned IOVA and HPA: two 2 MiB leaves and two 4 KiB leaves.
  ASSERT_TRUE(rig.driver.map(did, 0x4000'0000 + 0x20'0000, 0x8000'0000, 0x40'2000, kRW));
  const PageTableStats& s = rig.driver.page_table(did)->stats();
  EXPECT_EQ(s.leaves_2m, 2u);
  EXPECT_EQ(s.leaves_4k, 2u);
  EXPECT_EQ(s.leaves_1g, 0u);
  // New tables: level 3 and level 2 under the root, one level-1 table for the 4 KiB tail.
  EXPECT_EQ(rig.frames.pages_used() - base_pages, 3u);
  auto t = rig.dma(0x4000'0000 + 0x30'0005);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.page_size, 0x20'0000u);
  EXPECT_EQ(t.hpa, 0x8010'0005u);
  auto tail = rig.dma(0x4000'0000 + 0x60'1000);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail.page_size, 0x1000u);
  EXPECT_EQ(tail.hpa, 0x8040'1000u);
  // 1 GiB aligned both sides: one 1 GiB leaf.
  ASSERT_TRUE(rig.driver.map(did, 0x80'0000'0000, 0x1'0000'0000, 1ull << 30, kRW));
  EXPECT_EQ(s.leaves_1g, 1u);
  auto g = rig.dma(0x80'1234'5678);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g.page_size, 1ull << 30);
  EXPECT_EQ(g.hpa, 0x1'1234'5678u);
  // Misaligned HPA: 4 KiB pages only.
  ASSERT_TRUE(rig.driver.map(did, 0x2'0000'0000, 0x9000'1000, 0x20'0000, kRW));
  EXPECT_EQ(s.leaves_4k, 2u + 512u);
  // Partial unmap of a superpage is refused and changes nothing.
  std::vector<std::uint64_t> detached;
  auto bad = rig.driver.unmap(did, 0x4000'0000 + 0x20'0000, 0x1000, detached);
  ASSERT_FALSE(bad);
  EXPECT_TRUE(rig.dma(0x4000'0000 + 0x20'0000).ok());
  // Strict unmap of everything: translations fault, every table page but the root is freed.
  ASSERT_TRUE(rig.driver.unmap_sync(did, 0x4000'0000 + 0x20'0000, 0x40'2000));
  ASSERT_TRUE(rig.driver.unmap_sync(did, 0x80'0000'0000, 1ull << 30));
  ASSERT_TRUE(rig.driver.unmap_sync(did, 0x2'0000'0000, 0x20'0000));
  EXPECT_EQ(rig.dma(0x4000'0000 + 0x30'0005).fault_reason, 0x06);
  EXPECT_EQ(rig.dma(0x80'1234'5678).fault_reason, 0x06);
  EXPECT_EQ(rig.frames.pages_used(), base_pages);
  EXPECT_EQ(rig.driver.page_table(did)->table_pages(), 1u);
}

TEST(VtdDriver, StaleIotlbEntryUntilTheDeferredFlush) {
  Rig rig;
  const std::uint16_t did = rig.up_with_domain();
  ASSERT_TRUE(rig.driver.map(did, 0x5000'0000, 0x6000'0000, 0x1000, kRW));
  ASSERT_TRUE(rig.dma(0x5000'0000).ok());  // fills the IOTLB
  std::vector<std::uint64_t> detached;
  ASSERT_EQ(rig.driver.unmap(did, 0x5000'0000, 0x1000, detached).value(), 0x1000u);
  EXPECT_EQ(detached.size(), 3u);  // the only mapping: levels 3, 2 and 1 all emptied
  // Not invalidated yet: the IOTLB still translates.
  auto stale = rig.dma(0x5000'0008);
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale.hpa, 0x6000'0008u);
  ASSERT_TRUE(rig.driver.flush_domain(did));
  EXPECT_EQ(rig.dma(0x5000'0008).fault_reason, 0x06);
  ASSERT_TRUE(rig.driver.free_tables(detached));
}

TEST(VtdDriver, PageSelectiveFlushUsesTheAlignedBlockOrDomainBeyondMamv) {
  iommu::UnitConfig cfg;
  cfg.mamv = 1;
  Rig rig(cfg);
  const std::uint16_t did = rig.up_with_domain();
  const auto before = rig.unit.stats();
  // Pages 0x10001..0x10002 straddle two 2-page blocks: the aligned block holding both is
  // 0x10000..0x10003 (AM = 2 > MAMV = 1) → domain-selective.
  ASSERT_TRUE(rig.driver.flush_range(did, 0x1000'1000, 0x2000, false));
  EXPECT_EQ(rig.unit.stats().iotlb_inv_domain - before.iotlb_inv_domain, 1u);
  EXPECT_EQ(rig.unit.stats().iotlb_inv_page - before.iotlb_inv_page, 0u);
  // Pages 0x10002..0x10003: the aligned 2-page block, AM = 1.
  ASSERT_TRUE(rig.driver.flush_range(did, 0x1000'2000, 0x2000, true));
  EXPECT_EQ(rig.unit.stats().iotlb_inv_page - before.iotlb_inv_page, 1u);
  EXPECT_EQ(rig.driver.invalidator().stats().iotlb_page, 1u);
}

TEST(VtdDriver, CachingModeReservesDid0AndFlushesAfterMakingEntriesPresent) {
  iommu::UnitConfig cfg;
  cfg.caching_mode = true;
  Rig rig(cfg);
  ASSERT_TRUE(rig.driver.init());
  ASSERT_TRUE(rig.driver.enable_translation());
  const std::uint16_t did = rig.driver.create_domain().value();
  EXPECT_EQ(did, 1u);
  const auto s0 = rig.unit.stats();
  ASSERT_TRUE(rig.driver.attach(did, kNic));
  EXPECT_EQ(rig.unit.stats().ctxt_inv_device - s0.ctxt_inv_device, 1u);
  EXPECT_EQ(rig.unit.stats().iotlb_inv_domain - s0.iotlb_inv_domain, 1u);
  ASSERT_TRUE(rig.driver.map(did, 0x7000'0000, 0x7100'0000, 0x3000, kRW));
  EXPECT_EQ(rig.unit.stats().iotlb_inv_page - s0.iotlb_inv_page, 1u);
  auto t = rig.dma(0x7000'2004);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.hpa, 0x7100'2004u);
}

TEST(VtdDriver, PassThroughAndDetach) {
  Rig rig;
  ASSERT_TRUE(rig.driver.init());
  ASSERT_TRUE(rig.driver.enable_translation());
  const model::SourceId gpu = model::SourceId::make(2, 0, 0);
  ASSERT_TRUE(rig.driver.attach_passthrough(gpu));
  auto t = rig.dma(0x1234'5678, model::AccessType::kWrite, gpu);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.hpa, 0x1234'5678u);
  EXPECT_FALSE(rig.driver.attach_passthrough(gpu));  // already attached
  ASSERT_TRUE(rig.driver.detach(gpu));
  EXPECT_EQ(rig.dma(0x1234'5678, model::AccessType::kWrite, gpu).fault_reason, 0x02);
  EXPECT_FALSE(rig.driver.detach(gpu));
  // A device on a bus without a context table: root entry not present.
  EXPECT_EQ(rig.dma(0x1000, model::AccessType::kRead, model::SourceId::make(9, 0, 0)).fault_reason,
            0x01);
}

TEST(VtdDriver, RegisterBasedInvalidationWithoutQueuedInvalidation) {
  DriverConfig dcfg;
  dcfg.use_queued_invalidation = false;
  Rig rig({}, dcfg);
  const std::uint16_t did = rig.up_with_domain();
  EXPECT_FALSE(rig.driver.invalidator().queued());
  EXPECT_EQ(rig.unit.mmio_read(iommu::reg_offset::kGsts, 4) & iommu::gsts::QIES::kMask, 0u);
  ASSERT_TRUE(rig.driver.map(did, 0x1000'0000, 0x2000'0000, 0x1000, kRW));
  ASSERT_TRUE(rig.dma(0x1000'0000).ok());
  const auto s0 = rig.unit.stats();
  ASSERT_TRUE(rig.driver.unmap_sync(did, 0x1000'0000, 0x1000));
  EXPECT_EQ(rig.unit.stats().register_invalidations - s0.register_invalidations, 1u);
  EXPECT_EQ(rig.unit.stats().iotlb_inv_page - s0.iotlb_inv_page, 1u);
  EXPECT_EQ(rig.unit.stats().qi_descriptors, 0u);
  EXPECT_EQ(rig.dma(0x1000'0000).fault_reason, 0x06);
  EXPECT_FALSE(rig.driver.invalidator().iec_global());  // no register form
}

TEST(VtdDriver, RmrrIdentityMapAndMisuse) {
  Rig rig;
  const std::uint16_t did = rig.up_with_domain();
  ASSERT_TRUE(rig.driver.map_identity(did, 0xE0000, 0x20000));
  auto t = rig.dma(0xE1234, model::AccessType::kWrite);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.hpa, 0xE1234u);
  auto overlap = rig.driver.map(did, 0xE1000, 0x5000'0000, 0x1000, kRW);
  ASSERT_FALSE(overlap);
  EXPECT_EQ(overlap.error().code, ErrorCode::kAlreadyExists);
  EXPECT_FALSE(rig.driver.map(did, 0xFEE0'0000, 0x1000'0000, 0x1000, kRW));  // interrupt window
  EXPECT_FALSE(rig.driver.map(did, 0x1001, 0x1000, 0x1000, kRW));            // unaligned
  EXPECT_FALSE(rig.driver.map(did, 1ull << 48, 0x1000, 0x1000, kRW));        // beyond 48 bits
  EXPECT_FALSE(rig.driver.map(did, 0x1000, 0x1000, 0x1000, model::Permissions{}));
  EXPECT_FALSE(rig.driver.map(77, 0x1000, 0x1000, 0x1000, kRW));  // no such domain
  EXPECT_FALSE(rig.driver.attach(did, kNic));                     // already attached
  auto busy = rig.driver.destroy_domain(did);
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, ErrorCode::kBusy);
  ASSERT_TRUE(rig.driver.detach(kNic));
  const std::uint64_t used = rig.frames.pages_used();
  ASSERT_TRUE(rig.driver.destroy_domain(did));
  EXPECT_LT(rig.frames.pages_used(), used);
  EXPECT_FALSE(rig.driver.domain_exists(did));
  EXPECT_EQ(rig.driver.create_domain().value(), did);  // the id is reused
}

TEST(VtdDriver, QueueErrorIsReportedAndTheQueueRecovers) {
  Rig rig;
  ASSERT_TRUE(rig.driver.init());
  CacheInvalidator& inv = rig.driver.invalidator();
  model::Entry128 bad;
  bad.q[0] = 0xF;  // descriptor type 15: invalid
  const std::array batch{bad};
  auto r = inv.submit(batch);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("IQEI=3"), std::string::npos) << r.error().message;
  EXPECT_EQ(inv.stats().queue_errors, 1u);
  EXPECT_EQ(rig.unit.mmio_read(iommu::reg_offset::kFsts, 4) & iommu::fsts::IQE::kMask, 0u);
  // The next batch runs: its wait descriptor writes the status word.
  ASSERT_TRUE(inv.iotlb_global());
  EXPECT_EQ(rig.memory.read<std::uint32_t>(inv.status_address()).value(), 2u);
  EXPECT_EQ(inv.stats().waits, 2u);
}

}  // namespace
}  // namespace vtdsim::host
