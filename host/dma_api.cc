#include "host/dma_api.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "iommu/legacy_formats.h"

namespace vtdsim::host {

namespace {
constexpr std::uint64_t kOffsetMask = model::kPageSize - 1;

std::uint64_t pages_for(std::uint64_t hpa, std::uint64_t size) {
  return ((hpa & kOffsetMask) + size + kOffsetMask) >> model::kPageShift;
}

model::Permissions permissions_for(DmaDirection d) {
  switch (d) {
    case DmaDirection::kToDevice:
      return {true, false, false};
    case DmaDirection::kFromDevice:
      return {false, true, false};
    case DmaDirection::kBidirectional:
      return {true, true, false};
  }
  return {true, true, false};
}
}  // namespace

DmaApi::DmaApi(VtdDriver& driver, std::uint16_t did, const DmaApiConfig& config)
    : driver_(&driver), did_(did), config_(config) {
  if (!driver.domain_exists(did)) {
    throw std::invalid_argument(fmt::format("DmaApi: no domain with id {}", did));
  }
  if (config.dma_mask_bits < 32 || config.dma_mask_bits > 64) {
    throw std::invalid_argument(
        fmt::format("DmaApiConfig.dma_mask_bits = {}: need 32..64", config.dma_mask_bits));
  }
  IovaConfig ic = config.iova;
  ic.cpus = config.cpus;
  ic.address_width = std::min(driver.mgaw(), iommu::width_for_aw(driver.agaw()));
  iovas_ = std::make_unique<IovaAllocator>(ic);
  // IOVAs in the interrupt window would be interrupt requests, never DMA (§3.14).
  (void)iovas_->reserve(iommu::kInterruptWindowBase >> model::kPageShift,
                        iommu::kInterruptWindowLast >> model::kPageShift);
  FlushQueueConfig fc = config.flush_queue;
  fc.cpus = config.cpus;
  fc.policy = config.policy;
  Invalidator inv{[this](model::Cycle) { return driver_->flush_domain(did_); },
                  [this](std::uint64_t pfn, std::uint64_t pages, bool tables_freed, model::Cycle) {
                    return driver_->flush_range(did_, pfn << model::kPageShift,
                                                pages << model::kPageShift, tables_freed);
                  }};
  queue_ = std::make_unique<FlushQueue>(fc, *iovas_, &driver.frames(), std::move(inv));
}

Expected<std::uint64_t> DmaApi::alloc_iova(unsigned cpu, std::uint64_t pages) {
  const std::uint64_t limit = IovaAllocator::limit_pfn_for_bits(config_.dma_mask_bits);
  if (config_.dma_mask_bits > 32 && !config_.forcedac) {
    auto low = iovas_->alloc(cpu, pages, IovaAllocator::limit_pfn_for_bits(32), false);
    if (low) return low;
    ++stats_.dac_fallbacks;
  }
  return iovas_->alloc(cpu, pages, limit, true);
}

Expected<std::uint64_t> DmaApi::map_single(unsigned cpu, std::uint64_t hpa, std::uint64_t size,
                                           DmaDirection direction, model::Cycle now) {
  if (auto ok = queue_->poll(now); !ok) return tl::unexpected(ok.error());
  if (size == 0) {
    return make_error(ErrorCode::kInvalidArgument, "map_single: size 0");
  }
  const std::uint64_t pages = pages_for(hpa, size);
  auto pfn = alloc_iova(cpu, pages);
  if (!pfn) return pfn;
  const std::uint64_t iova = *pfn << model::kPageShift;
  if (auto ok = driver_->map(did_, iova, hpa & ~kOffsetMask, pages << model::kPageShift,
                             permissions_for(direction));
      !ok) {
    (void)iovas_->free(cpu, *pfn, pages);
    return tl::unexpected(ok.error());
  }
  mappings_.emplace(*pfn, Mapping{pages});
  ++stats_.map_single;
  stats_.pages_mapped += pages;
  return iova | (hpa & kOffsetMask);
}

Status DmaApi::unmap_range(unsigned cpu, std::uint64_t pfn, model::Cycle now) {
  auto it = mappings_.find(pfn);
  const std::uint64_t pages = it->second.pages;
  std::vector<std::uint64_t> detached;
  auto r = driver_->unmap(did_, pfn << model::kPageShift, pages << model::kPageShift, detached);
  if (!r) return tl::unexpected(r.error());
  mappings_.erase(it);
  return queue_->queue(cpu, pfn, pages, std::move(detached), now);
}

Status DmaApi::unmap_single(unsigned cpu, std::uint64_t dma_address, std::uint64_t size,
                            model::Cycle now) {
  const std::uint64_t pfn = dma_address >> model::kPageShift;
  auto it = mappings_.find(pfn);
  if (it == mappings_.end()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("unmap_single: {:#x} is not a mapped DMA address", dma_address));
  }
  if (size == 0 || pages_for(dma_address, size) != it->second.pages) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("unmap_single: {:#x} was mapped for {} page(s); size {:#x} "
                                  "does not match",
                                  dma_address, it->second.pages, size));
  }
  ++stats_.unmap_single;
  return unmap_range(cpu, pfn, now);
}

Expected<std::size_t> DmaApi::map_sg(unsigned cpu, std::span<SgEntry> list, DmaDirection direction,
                                     model::Cycle now) {
  if (auto ok = queue_->poll(now); !ok) return tl::unexpected(ok.error());
  if (list.empty()) return make_error(ErrorCode::kInvalidArgument, "map_sg: empty list");
  std::uint64_t total = 0;
  for (const SgEntry& e : list) {
    if (e.length == 0) {
      return make_error(ErrorCode::kInvalidArgument, "map_sg: element of length 0");
    }
    total += pages_for(e.hpa, e.length);
  }
  auto base = alloc_iova(cpu, total);
  if (!base) return tl::unexpected(base.error());
  const model::Permissions perm = permissions_for(direction);
  std::uint64_t cursor = *base;
  for (const SgEntry& e : list) {
    const std::uint64_t pages = pages_for(e.hpa, e.length);
    if (auto ok = driver_->map(did_, cursor << model::kPageShift, e.hpa & ~kOffsetMask,
                               pages << model::kPageShift, perm);
        !ok) {
      // Undo what was mapped; nothing was visible to the device yet, so no flush queue.
      if (cursor > *base) {
        (void)driver_->unmap_sync(did_, *base << model::kPageShift,
                                  (cursor - *base) << model::kPageShift);
      }
      (void)iovas_->free(cpu, *base, total);
      return tl::unexpected(ok.error());
    }
    cursor += pages;
  }
  // DMA segments: an element that starts at its page's start right where the previous one
  // ended at a page boundary extends it.
  std::size_t out = 0;
  cursor = *base;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::uint64_t hpa = list[i].hpa;
    const std::uint64_t length = list[i].length;
    const std::uint64_t dma = (cursor << model::kPageShift) | (hpa & kOffsetMask);
    cursor += pages_for(hpa, length);
    if (out > 0 && list[out - 1].dma_address + list[out - 1].dma_length == dma) {
      list[out - 1].dma_length += length;
    } else {
      list[out].dma_address = dma;
      list[out].dma_length = length;
      ++out;
    }
  }
  for (std::size_t i = out; i < list.size(); ++i) {
    list[i].dma_address = 0;
    list[i].dma_length = 0;
  }
  mappings_.emplace(*base, Mapping{total});
  ++stats_.map_sg;
  stats_.pages_mapped += total;
  return out;
}

Status DmaApi::unmap_sg(unsigned cpu, std::span<const SgEntry> list, model::Cycle now) {
  if (list.empty()) return make_error(ErrorCode::kInvalidArgument, "unmap_sg: empty list");
  const std::uint64_t pfn = list[0].dma_address >> model::kPageShift;
  if (mappings_.find(pfn) == mappings_.end()) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("unmap_sg: {:#x} is not a mapped scatter-gather list", list[0].dma_address));
  }
  ++stats_.unmap_sg;
  return unmap_range(cpu, pfn, now);
}

}  // namespace vtdsim::host
