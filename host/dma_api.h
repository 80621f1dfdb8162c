// The streaming DMA API of one device's DMA domain, as Linux's dma-iommu layer implements it:
// map/unmap of single buffers and scatter-gather lists through the IOVA allocator and the
// VT-d driver, with strict unmap (invalidate now) or deferred unmap (per-CPU flush queue).
// Direction gives the permissions (to-device → R, from-device → W, bidirectional → R/W);
// for a PCI device with a mask wider than 32 bits a 32-bit IOVA is tried first (Linux's SAC
// trick, off with forcedac). The interrupt window is reserved in the IOVA space.
// Not modelled: bounce buffering (swiotlb), coherent allocations, segment boundary masks.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>

#include "host/flush_queue.h"
#include "host/iova_allocator.h"
#include "host/vtd_driver.h"
#include "model/error.h"
#include "model/stats.h"
#include "model/types.h"

namespace vtdsim::host {

enum class DmaDirection : std::uint8_t { kToDevice, kFromDevice, kBidirectional };

struct DmaApiConfig {
  unsigned cpus = 1;
  UnmapPolicy policy = UnmapPolicy::kDeferred;
  unsigned dma_mask_bits = 64;     // the device's DMA mask
  bool forcedac = false;           // skip the 32-bit first attempt
  FlushQueueConfig flush_queue{};  // cpus and policy are taken from above
  IovaConfig iova{};               // cpus and address_width are taken from the domain
};

struct DmaApiStats {
  std::uint64_t map_single = 0;
  std::uint64_t unmap_single = 0;
  std::uint64_t map_sg = 0;
  std::uint64_t unmap_sg = 0;
  std::uint64_t pages_mapped = 0;
  std::uint64_t dac_fallbacks = 0;  // 32-bit space full: allocated above 4 GiB

  static constexpr auto kFields = std::to_array<model::StatField<DmaApiStats>>({
      {"map_single", "ops", "dma_map_single calls", &DmaApiStats::map_single},
      {"unmap_single", "ops", "dma_unmap_single calls", &DmaApiStats::unmap_single},
      {"map_sg", "ops", "dma_map_sg calls", &DmaApiStats::map_sg},
      {"unmap_sg", "ops", "dma_unmap_sg calls", &DmaApiStats::unmap_sg},
      {"pages_mapped", "pages", "IOVA pages mapped", &DmaApiStats::pages_mapped},
      {"dac_fallbacks", "ops", "allocations that fell back above 32 bits",
       &DmaApiStats::dac_fallbacks},
  });
};

// One scatter-gather element: the caller fills hpa/length; map_sg fills dma_address and
// dma_length of the first `returned count` elements (merged DMA segments).
struct SgEntry {
  std::uint64_t hpa = 0;
  std::uint64_t length = 0;
  std::uint64_t dma_address = 0;
  std::uint64_t dma_length = 0;
};

class DmaApi {
 public:
  // The domain `did` of `driver` (already created). Throws std::invalid_argument for a bad
  // configuration or an unknown domain.
  DmaApi(VtdDriver& driver, std::uint16_t did, const DmaApiConfig& config);

  // Maps [hpa, hpa + size) and returns the bus address (IOVA + offset within the page).
  Expected<std::uint64_t> map_single(unsigned cpu, std::uint64_t hpa, std::uint64_t size,
                                     DmaDirection direction, model::Cycle now = 0);
  // Unmaps a map_single result (same size). Strict: invalidated before returning.
  Status unmap_single(unsigned cpu, std::uint64_t dma_address, std::uint64_t size,
                      model::Cycle now = 0);
  // Maps the list into one contiguous IOVA range; each element starts at its page offset
  // and elements that meet at page boundaries merge. Returns the number of DMA segments.
  Expected<std::size_t> map_sg(unsigned cpu, std::span<SgEntry> list, DmaDirection direction,
                               model::Cycle now = 0);
  // Unmaps a list mapped by map_sg (the list as map_sg returned it).
  Status unmap_sg(unsigned cpu, std::span<const SgEntry> list, model::Cycle now = 0);

  // Fires the flush-queue timer if it expired; flush() drains the queue now.
  Status poll(model::Cycle now) { return queue_->poll(now); }
  Status flush(model::Cycle now) { return queue_->flush(now); }

  IovaAllocator& iovas() { return *iovas_; }
  FlushQueue& flush_queue() { return *queue_; }
  const DmaApiStats& stats() const { return stats_; }
  std::uint16_t domain_id() const { return did_; }
  std::size_t live_mappings() const { return mappings_.size(); }

 private:
  Expected<std::uint64_t> alloc_iova(unsigned cpu, std::uint64_t pages);
  Status unmap_range(unsigned cpu, std::uint64_t pfn, model::Cycle now);

  struct Mapping {
    std::uint64_t pages;  // requested (before allocator rounding)
  };

  VtdDriver* driver_;
  std::uint16_t did_;
  DmaApiConfig config_;
  std::unique_ptr<IovaAllocator> iovas_;
  std::unique_ptr<FlushQueue> queue_;
  std::unordered_map<std::uint64_t, Mapping> mappings_;  // by first IOVA pfn
  DmaApiStats stats_;
};

}  // namespace vtdsim::host
