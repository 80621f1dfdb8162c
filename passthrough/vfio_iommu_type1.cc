#include "passthrough/vfio_iommu_type1.h"

#include <algorithm>

#include <fmt/format.h>

#include "iommu/legacy_formats.h"

namespace vtdsim::passthrough {

namespace {
constexpr std::uint64_t kPageMask = model::kPageSize - 1;

model::Permissions perms(std::uint32_t flags) {
  return model::Permissions{(flags & vfio::kDmaMapFlagRead) != 0,
                            (flags & vfio::kDmaMapFlagWrite) != 0, false};
}
}  // namespace

VfioIommuType1::VfioIommuType1(HostKernel& kernel, vfio::IommuType type, const Type1Config& config)
    : kernel_(&kernel), type_(type), config_(config) {}

VfioIommuType1::~VfioIommuType1() {
  (void)flush();
  while (!domains_.empty()) (void)detach_group(domains_.front().groups.front());
}

std::uint64_t VfioIommuType1::iova_limit() const {
  std::uint64_t limit = ~std::uint64_t{0};
  for (const auto& d : domains_) {
    auto& drv = kernel_->dma_driver(d.unit);
    const unsigned width = std::min(drv.mgaw(), iommu::width_for_aw(drv.agaw()));
    limit = std::min(limit, std::uint64_t{1} << width);
  }
  return domains_.empty() ? 0 : limit;
}

Status VfioIommuType1::map_into(const Domain& d, const Mapping& m) {
  return kernel_->dma_driver(d.unit).map(d.did, m.iova, m.vaddr, m.size, perms(m.flags));
}

Status VfioIommuType1::attach_group(unsigned group_id, const std::vector<pci::Function*>& members) {
  if (members.empty()) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("group {} is empty", group_id));
  }
  for (const auto& d : domains_) {
    if (std::find(d.groups.begin(), d.groups.end(), group_id) != d.groups.end()) {
      return make_error(ErrorCode::kAlreadyExists,
                        fmt::format("group {} is already attached", group_id));
    }
  }
  std::size_t unit = 0;
  for (std::size_t i = 0; i < members.size(); ++i) {
    auto u = kernel_->unit_of(*members[i]);
    if (!u) return tl::unexpected(u.error());
    if (i == 0) unit = *u;
    if (*u != unit) {
      return make_error(
          ErrorCode::kUnsupported,
          fmt::format("group {}: devices behind different remapping units", group_id));
    }
    for (const auto& rmrr : kernel_->machine().rmrrs()) {
      for (auto sid : rmrr.devices) {
        if (sid == members[i]->requester_id()) {
          return make_error(ErrorCode::kUnsupported,
                            fmt::format("device {} has an RMRR [{:#x}, {:#x}]: ineligible for "
                                        "an unmanaged IOMMU domain",
                                        model::to_string(sid), rmrr.base, rmrr.limit));
        }
      }
    }
  }
  auto& drv = kernel_->dma_driver(unit);
  auto it = std::find_if(domains_.begin(), domains_.end(),
                         [&](const Domain& d) { return d.unit == unit; });
  const bool fresh = it == domains_.end();
  Domain created;
  Domain* d = nullptr;
  if (fresh) {
    auto did = drv.create_domain();
    if (!did) return tl::unexpected(did.error());
    created.unit = unit;
    created.did = *did;
    // Replay the container's mappings into the new domain (Linux vfio_iommu_replay).
    for (const auto& [iova, m] : mappings_) {
      if (auto ok = map_into(created, m); !ok) {
        (void)release_domain(created);
        return ok;
      }
      ++stats_.replays;
    }
    d = &created;
  } else {
    d = &*it;
  }
  std::vector<model::SourceId> attached;
  auto rollback = [&] {
    for (auto sid : attached) (void)drv.detach(sid);
    if (fresh) (void)release_domain(created);
  };
  for (pci::Function* f : members) {
    for (auto sid : kernel_->dma_source_ids(*f)) {
      if (std::find(attached.begin(), attached.end(), sid) != attached.end() ||
          std::find(d->sids.begin(), d->sids.end(), sid) != d->sids.end()) {
        continue;  // an alias shared inside the group
      }
      // Take the device away from whatever domain owned it (the host's).
      if (auto off = drv.detach(sid); !off && off.error().code != ErrorCode::kNotFound) {
        rollback();
        return off;
      }
      if (auto ok = drv.attach(d->did, sid); !ok) {
        rollback();
        return ok;
      }
      attached.push_back(sid);
    }
  }
  d->groups.push_back(group_id);
  d->sids.insert(d->sids.end(), attached.begin(), attached.end());
  if (fresh) domains_.push_back(std::move(created));
  return {};
}

Status VfioIommuType1::release_domain(Domain& d) {
  auto& drv = kernel_->dma_driver(d.unit);
  for (auto sid : d.sids) {
    if (auto ok = drv.detach(sid); !ok) return ok;
  }
  d.sids.clear();
  // Destroying the domain frees its page tables; nothing can reach them any more.
  return drv.destroy_domain(d.did);
}

Status VfioIommuType1::detach_group(unsigned group_id) {
  for (auto it = domains_.begin(); it != domains_.end(); ++it) {
    auto g = std::find(it->groups.begin(), it->groups.end(), group_id);
    if (g == it->groups.end()) continue;
    it->groups.erase(g);
    if (!it->groups.empty()) {
      // MODEL: a domain shared by several groups keeps every context entry until its last
      // group leaves (the backend does not track which alias came from which group).
      return {};
    }
    Status st = release_domain(*it);
    domains_.erase(it);
    return st;
  }
  return make_error(ErrorCode::kNotFound, fmt::format("group {} is not attached", group_id));
}

Status VfioIommuType1::map_dma(const vfio::DmaMap& map) {
  constexpr std::uint32_t kKnown = vfio::kDmaMapFlagRead | vfio::kDmaMapFlagWrite;
  if ((map.flags & ~kKnown) != 0 || (map.flags & kKnown) == 0) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("MAP_DMA: flags {:#x} must be a non-empty set of READ|WRITE", map.flags));
  }
  if (map.size == 0 || ((map.iova | map.size | map.vaddr) & kPageMask) != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("MAP_DMA: iova {:#x}, size {:#x} and vaddr {:#x} must be "
                                  "non-zero 4 KiB multiples",
                                  map.iova, map.size, map.vaddr));
  }
  const std::uint64_t limit = iova_limit();
  if (map.iova >= limit || map.size > limit - map.iova) {
    return make_error(ErrorCode::kOutOfRange,
                      fmt::format("MAP_DMA: [{:#x}, +{:#x}) is beyond the IOVA aperture "
                                  "[0, {:#x})",
                                  map.iova, map.size, limit));
  }
  if (iommu::overlaps_interrupt_window(map.iova, map.size)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("MAP_DMA: [{:#x}, +{:#x}) overlaps the reserved MSI window "
                                  "0xFEE00000-0xFEEFFFFF",
                                  map.iova, map.size));
  }
  if (!kernel_->memory().contains(map.vaddr, map.size)) {
    return make_error(
        ErrorCode::kOutOfRange,
        fmt::format("MAP_DMA: vaddr [{:#x}, +{:#x}) is not host memory", map.vaddr, map.size));
  }
  auto next = mappings_.lower_bound(map.iova);
  if (next != mappings_.end() && next->first < map.iova + map.size) {
    return make_error(ErrorCode::kAlreadyExists,
                      fmt::format("MAP_DMA: [{:#x}, +{:#x}) overlaps the mapping at {:#x}",
                                  map.iova, map.size, next->first));
  }
  if (next != mappings_.begin()) {
    auto prev = std::prev(next);
    if (prev->second.iova + prev->second.size > map.iova) {
      return make_error(ErrorCode::kAlreadyExists,
                        fmt::format("MAP_DMA: [{:#x}, +{:#x}) overlaps the mapping at {:#x}",
                                    map.iova, map.size, prev->first));
    }
  }
  const std::uint64_t pages = map.size / model::kPageSize;
  if (pages > config_.pin_limit_pages || pinned_ > config_.pin_limit_pages - pages) {
    return make_error(ErrorCode::kExhausted,
                      fmt::format("MAP_DMA: pinning {} pages exceeds the memlock limit of {} "
                                  "({} pinned)",
                                  pages, config_.pin_limit_pages, pinned_));
  }
  const Mapping m{map.iova, map.size, map.vaddr, map.flags};
  for (std::size_t i = 0; i < domains_.size(); ++i) {
    if (auto ok = map_into(domains_[i], m); !ok) {
      for (std::size_t j = 0; j < i; ++j) {
        (void)kernel_->dma_driver(domains_[j].unit).unmap_sync(domains_[j].did, m.iova, m.size);
      }
      return ok;
    }
  }
  mappings_.emplace(m.iova, m);
  pinned_ += pages;
  stats_.pages_pinned += pages;
  ++stats_.map_dma;
  return {};
}

Status VfioIommuType1::unmap_from_all(const Mapping& m, bool strict,
                                      std::vector<std::uint64_t>& tables) {
  for (const auto& d : domains_) {
    auto& drv = kernel_->dma_driver(d.unit);
    std::vector<std::uint64_t> detached;
    auto r = drv.unmap(d.did, m.iova, m.size, detached);
    if (!r) return tl::unexpected(r.error());
    if (strict) {
      if (auto ok = drv.flush_range(d.did, m.iova, m.size, !detached.empty()); !ok) return ok;
      ++stats_.iotlb_syncs;
      if (auto ok = drv.free_tables(detached); !ok) return ok;
    } else {
      tables.insert(tables.end(), detached.begin(), detached.end());
    }
  }
  return {};
}

Expected<std::uint64_t> VfioIommuType1::unmap_dma(const vfio::DmaUnmap& unmap) {
  if (unmap.size == 0 || ((unmap.iova | unmap.size) & kPageMask) != 0 ||
      unmap.iova + unmap.size < unmap.iova) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("UNMAP_DMA: iova {:#x} and size {:#x} must be non-zero 4 KiB "
                                  "multiples",
                                  unmap.iova, unmap.size));
  }
  const std::uint64_t end = unmap.iova + unmap.size;
  // type1v2: the range must not bisect a mapping (checked before anything changes).
  std::vector<std::uint64_t> victims;
  for (const auto& [iova, m] : mappings_) {
    if (iova >= end || iova + m.size <= unmap.iova) continue;
    if (iova < unmap.iova || iova + m.size > end) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("UNMAP_DMA: [{:#x}, +{:#x}) bisects the mapping [{:#x}, "
                                    "+{:#x})",
                                    unmap.iova, unmap.size, iova, m.size));
    }
    victims.push_back(iova);
  }
  const bool strict = config_.policy == host::UnmapPolicy::kStrict;
  std::uint64_t total = 0;
  for (std::uint64_t iova : victims) {
    const Mapping m = mappings_.at(iova);
    Pending p{m.size / model::kPageSize, {}};
    if (auto ok = unmap_from_all(m, strict, p.tables); !ok) return tl::unexpected(ok.error());
    mappings_.erase(iova);
    total += m.size;
    if (strict) {
      pinned_ -= p.pages;
      stats_.pages_unpinned += p.pages;
    } else {
      pending_.push_back(std::move(p));
    }
  }
  ++stats_.unmap_dma;
  if (!strict && pending_.size() >= config_.deferred_batch) {
    if (auto ok = flush(); !ok) return tl::unexpected(ok.error());
  }
  return total;
}

Status VfioIommuType1::flush() {
  if (pending_.empty()) return {};
  for (const auto& d : domains_) {
    if (auto ok = kernel_->dma_driver(d.unit).flush_domain(d.did); !ok) return ok;
    ++stats_.iotlb_syncs;
  }
  ++stats_.deferred_flushes;
  for (auto& p : pending_) {
    // Tables of any domain go back to the one frame allocator the drivers share.
    if (!domains_.empty()) {
      if (auto ok = kernel_->dma_driver(domains_.front().unit).free_tables(p.tables); !ok) {
        return ok;
      }
    }
    pinned_ -= p.pages;
    stats_.pages_unpinned += p.pages;
  }
  pending_.clear();
  return {};
}

}  // namespace vtdsim::passthrough
