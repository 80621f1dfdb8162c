// DmaApi end to end: map_single / map_sg give bus addresses that the unit translates to the
// exact buffers with the direction's permissions; strict unmap faults at once, deferred unmap
// stays translatable until the flush-queue timer; 32-bit first, DAC fallback; misuse.
#include "host/dma_api.h"

#include <array>
#include <cstdint>

#include <gtest/gtest.h>

#include "iommu/remapping_unit.h"
#include "model/frame_allocator.h"
#include "model/physical_memory.h"

namespace vtdsim::host {
namespace {

constexpr model::SourceId kNic = model::SourceId::make(0, 3, 0);

struct Rig {
  explicit Rig(DmaApiConfig cfg)
      : memory(46),
        frames(memory, 0x1000'0000, 16ull << 20),
        unit(memory, iommu::UnitConfig{}),
        driver(unit, memory, frames) {
    EXPECT_TRUE(driver.init());
    EXPECT_TRUE(driver.enable_translation());
    did = driver.create_domain().value();
    EXPECT_TRUE(driver.attach(did, kNic));
    api = std::make_unique<DmaApi>(driver, did, cfg);
  }
  model::Translation dma(std::uint64_t addr, model::AccessType access = model::AccessType::kRead) {
    model::DmaRequest r;
    r.source_id = kNic;
    r.address = addr;
    r.access = access;
    return unit.translate(r);
  }

  model::PhysicalMemory memory;
  model::FrameAllocator frames;
  iommu::RemappingUnit unit;
  VtdDriver driver;
  std::uint16_t did = 0;
  std::unique_ptr<DmaApi> api;
};

DmaApiConfig strict() {
  DmaApiConfig c;
  c.policy = UnmapPolicy::kStrict;
  return c;
}

TEST(DmaApi, MapSingleTranslatesExactlyWithDirectionPermissions) {
  Rig rig(strict());
  // 0x2000 bytes at page offset 0x123 span 3 pages → rounded to 4, aligned, top of 32 bits.
  const std::uint64_t bus =
      rig.api->map_single(0, 0x3000'0123, 0x2000, DmaDirection::kToDevice).value();
  EXPECT_EQ(bus, 0xFFFF'C123u);
  auto t = rig.dma(bus + 0x1F00);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.hpa, 0x3000'2023u);
  EXPECT_EQ(rig.dma(bus, model::AccessType::kWrite).fault_reason, 0x05);  // to-device: R only
  const std::uint64_t rx =
      rig.api->map_single(0, 0x5000'0000, 0x1000, DmaDirection::kFromDevice).value();
  EXPECT_EQ(rx, 0xFFFF'B000u);
  EXPECT_TRUE(rig.dma(rx, model::AccessType::kWrite).ok());
  EXPECT_EQ(rig.dma(rx).fault_reason, 0x06);     // from-device: W only
  EXPECT_EQ(rig.api->stats().pages_mapped, 4u);  // 3 + 1 pages mapped
}

TEST(DmaApi, StrictUnmapFaultsImmediately) {
  Rig rig(strict());
  const std::uint64_t bus =
      rig.api->map_single(0, 0x3000'0000, 0x1000, DmaDirection::kBidirectional).value();
  ASSERT_TRUE(rig.dma(bus).ok());
  const auto s0 = rig.unit.stats();
  ASSERT_TRUE(rig.api->unmap_single(0, bus, 0x1000, 5));
  EXPECT_EQ(rig.dma(bus).fault_reason, 0x06);
  EXPECT_EQ(rig.unit.stats().iotlb_inv_page - s0.iotlb_inv_page, 1u);
  EXPECT_TRUE(rig.api->iovas().is_cached(bus >> 12));
  EXPECT_EQ(rig.api->flush_queue().stats().strict_invalidations, 1u);
  // Freed IOVA is reused from the CPU cache by the next mapping of that size.
  EXPECT_EQ(rig.api->map_single(0, 0x3100'0000, 0x1000, DmaDirection::kToDevice).value(), bus);
  EXPECT_EQ(rig.api->iovas().cpu_stats(0).cache_hits, 1u);
}

TEST(DmaApi, DeferredUnmapStaysValidUntilTheFlushQueueTimer) {
  DmaApiConfig cfg;
  cfg.flush_queue.timeout = 1000;
  Rig rig(cfg);
  const std::uint64_t bus =
      rig.api->map_single(0, 0x3000'0000, 0x1000, DmaDirection::kBidirectional, 0).value();
  ASSERT_TRUE(rig.dma(bus).ok());  // IOTLB filled
  const auto s0 = rig.unit.stats();
  ASSERT_TRUE(rig.api->unmap_single(0, bus, 0x1000, 100));
  // The entry is gone from the tables but the IOTLB still holds it: the device can still DMA.
  auto stale = rig.dma(bus + 8);
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale.hpa, 0x3000'0008u);
  EXPECT_EQ(rig.unit.stats().iotlb_inv_page, s0.iotlb_inv_page);
  EXPECT_TRUE(rig.api->iovas().is_allocated(bus >> 12));  // not reusable yet
  ASSERT_TRUE(rig.api->poll(1099));
  EXPECT_TRUE(rig.dma(bus + 8).ok());
  ASSERT_TRUE(rig.api->poll(1100));
  EXPECT_EQ(rig.dma(bus + 8).fault_reason, 0x06);
  EXPECT_EQ(rig.unit.stats().iotlb_inv_domain - s0.iotlb_inv_domain, 1u);
  EXPECT_TRUE(rig.api->iovas().is_cached(bus >> 12));
  EXPECT_EQ(rig.api->flush_queue().stats().tables_released, 3u);
}

TEST(DmaApi, ScatterGatherMergesPageContiguousElements) {
  Rig rig(strict());
  std::array<SgEntry, 3> sg{
      {{0x4000'0000, 0x1000, 0, 0}, {0x4000'5000, 0x800, 0, 0}, {0x4001'0800, 0x1000, 0, 0}}};
  const std::size_t n = rig.api->map_sg(0, sg, DmaDirection::kBidirectional).value();
  ASSERT_EQ(n, 2u);
  EXPECT_EQ(sg[0].dma_address, 0xFFFF'C000u);
  EXPECT_EQ(sg[0].dma_length, 0x1800u);
  EXPECT_EQ(sg[1].dma_address, 0xFFFF'E800u);
  EXPECT_EQ(sg[1].dma_length, 0x1000u);
  EXPECT_EQ(sg[2].dma_length, 0u);
  EXPECT_EQ(rig.dma(0xFFFF'C010).hpa, 0x4000'0010u);
  EXPECT_EQ(rig.dma(0xFFFF'D7FC).hpa, 0x4000'57FCu);
  EXPECT_EQ(rig.dma(0xFFFF'E800).hpa, 0x4001'0800u);
  EXPECT_EQ(rig.dma(0xFFFF'F7FC).hpa, 0x4001'17FCu);
  ASSERT_TRUE(rig.api->unmap_sg(0, sg));
  EXPECT_EQ(rig.dma(0xFFFF'C010).fault_reason, 0x06);
  EXPECT_EQ(rig.dma(0xFFFF'F7FC).fault_reason, 0x06);
  EXPECT_EQ(rig.api->live_mappings(), 0u);
}

TEST(DmaApi, ThirtyTwoBitFirstThenDacFallback) {
  DmaApiConfig cfg = strict();
  cfg.iova.start_pfn = 0xFFFF0;  // only 16 pages below 4 GiB
  Rig rig(cfg);
  ASSERT_EQ(rig.api->map_single(0, 0x3000'0000, 16 * 0x1000, DmaDirection::kToDevice).value(),
            0xFFFF'0000u);
  const std::uint64_t high =
      rig.api->map_single(0, 0x3100'0000, 0x1000, DmaDirection::kToDevice).value();
  EXPECT_EQ(high, 0xFFFF'FFFF'F000u);  // top of the 48-bit domain
  EXPECT_EQ(rig.api->stats().dac_fallbacks, 1u);
  EXPECT_EQ(rig.dma(high + 4).hpa, 0x3100'0004u);

  DmaApiConfig dac = strict();
  dac.forcedac = true;
  Rig rig2(dac);
  EXPECT_EQ(rig2.api->map_single(0, 0x3000'0000, 0x1000, DmaDirection::kToDevice).value(),
            0xFFFF'FFFF'F000u);
  DmaApiConfig narrow = strict();
  narrow.dma_mask_bits = 32;
  Rig rig3(narrow);
  EXPECT_EQ(rig3.api->map_single(0, 0x3000'0000, 0x1000, DmaDirection::kToDevice).value(),
            0xFFFF'F000u);
}

TEST(DmaApi, RejectsMisuse) {
  Rig rig(strict());
  EXPECT_FALSE(rig.api->map_single(0, 0x3000'0000, 0, DmaDirection::kToDevice));
  const std::uint64_t bus =
      rig.api->map_single(0, 0x3000'0000, 0x1000, DmaDirection::kToDevice).value();
  auto unknown = rig.api->unmap_single(0, 0x1234'5000, 0x1000);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(rig.api->unmap_single(0, bus, 0x3000));  // wrong size
  ASSERT_TRUE(rig.api->unmap_single(0, bus, 0x1000));
  EXPECT_FALSE(rig.api->unmap_single(0, bus, 0x1000));  // twice
  std::array<SgEntry, 1> empty_elem{{{0x1000, 0, 0, 0}}};
  EXPECT_FALSE(rig.api->map_sg(0, empty_elem, DmaDirection::kToDevice));
  // Mapping a buffer beyond physical memory fails and gives the IOVA back.
  EXPECT_FALSE(rig.api->map_single(0, 1ull << 46, 0x1000, DmaDirection::kToDevice));
  EXPECT_EQ(rig.api->iovas().live_ranges(), 0u);
  DmaApiConfig bad;
  bad.dma_mask_bits = 16;
  EXPECT_THROW(DmaApi(rig.driver, rig.did, bad), std::invalid_argument);
  EXPECT_THROW(DmaApi(rig.driver, 999, DmaApiConfig{}), std::invalid_argument);
}

}  // namespace
}  // namespace vtdsim::host
