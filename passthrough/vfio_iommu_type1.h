// The VFIO type1 IOMMU backend of one container (Linux vfio_iommu_type1, facts only): one
// VT-d domain per remapping unit the container's groups sit behind; attaching a group moves
// every device of the group and each DMA alias (PCIe-to-PCI bridge ids) into the domain and
// replays the existing mappings into a new domain; MAP_DMA pins the pages (counted against a
// memlock limit) and maps them in every domain (superpages where size and alignment allow);
// UNMAP_DMA removes whole mappings (type1v2: a range that bisects a mapping is EINVAL),
// invalidates the IOTLB (page-selective, VT-d §6.5.2.3) and only then unpins and frees page-
// table pages. Linux type1 is always strict: it unmaps with a batched gather (up to 512
// chunks) and syncs the IOTLB before UNMAP_DMA returns; it has no flush queue.
// Not modelled: dirty tracking, vaddr update, nesting, reserved regions other than the MSI
// window, per-process locked_vm shared between containers.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "host/flush_queue.h"
#include "model/error.h"
#include "model/stats.h"
#include "passthrough/host_kernel.h"
#include "passthrough/vfio_uapi.h"
#include "pci/function.h"

namespace vtdsim::passthrough {

struct Type1Config {
  // kStrict is what Linux does. kDeferred is a study variant: UNMAP_DMA clears the page-table
  // entries but the IOTLB invalidation (and the unpinning) waits for flush() or for
  // deferred_batch queued unmaps, so a cached translation stays usable until then.
  host::UnmapPolicy policy = host::UnmapPolicy::kStrict;
  unsigned deferred_batch = 64;
  std::uint64_t pin_limit_pages = ~std::uint64_t{0};  // RLIMIT_MEMLOCK, in 4 KiB pages
};

struct Type1Stats {
  std::uint64_t map_dma = 0;
  std::uint64_t unmap_dma = 0;
  std::uint64_t pages_pinned = 0;    // cumulative
  std::uint64_t pages_unpinned = 0;  // cumulative
  std::uint64_t iotlb_syncs = 0;     // range or domain invalidations issued
  std::uint64_t deferred_flushes = 0;
  std::uint64_t replays = 0;  // mappings replayed into a new domain

  static constexpr auto kFields = std::to_array<model::StatField<Type1Stats>>({
      {"map_dma", "ops", "VFIO_IOMMU_MAP_DMA calls that mapped", &Type1Stats::map_dma},
      {"unmap_dma", "ops", "VFIO_IOMMU_UNMAP_DMA calls that succeeded", &Type1Stats::unmap_dma},
      {"pages_pinned", "pages", "pages pinned by MAP_DMA", &Type1Stats::pages_pinned},
      {"pages_unpinned", "pages", "pages unpinned after invalidation", &Type1Stats::pages_unpinned},
      {"iotlb_syncs", "ops", "IOTLB invalidations issued by the backend", &Type1Stats::iotlb_syncs},
      {"deferred_flushes", "ops", "batched invalidations of the deferred variant",
       &Type1Stats::deferred_flushes},
      {"replays", "mappings", "mappings replayed into a newly created domain",
       &Type1Stats::replays},
  });
};

class VfioIommuType1 {
 public:
  struct Domain {
    std::size_t unit = 0;
    std::uint16_t did = 0;
    std::vector<unsigned> groups;
    std::vector<model::SourceId> sids;  // context entries this backend wrote
  };
  struct Mapping {
    std::uint64_t iova = 0;
    std::uint64_t size = 0;
    std::uint64_t vaddr = 0;  // host-physical
    std::uint32_t flags = 0;
  };

  VfioIommuType1(HostKernel& kernel, vfio::IommuType type, const Type1Config& config = {});
  ~VfioIommuType1();
  VfioIommuType1(const VfioIommuType1&) = delete;
  VfioIommuType1& operator=(const VfioIommuType1&) = delete;

  // Errors (nothing changed): a member no unit covers, members behind different units, a
  // member with an RMRR (Linux refuses them for unmanaged domains), a context entry that
  // cannot be written.
  Status attach_group(unsigned group_id, const std::vector<pci::Function*>& members);
  Status detach_group(unsigned group_id);

  Status map_dma(const vfio::DmaMap& map);
  // Returns the bytes unmapped (0 when nothing was mapped in the range).
  Expected<std::uint64_t> unmap_dma(const vfio::DmaUnmap& unmap);
  // Deferred variant: invalidate every domain, unpin and free what was queued.
  Status flush();

  // One past the highest usable IOVA: the narrowest domain's input width.
  std::uint64_t iova_limit() const;
  std::uint64_t pinned_pages() const { return pinned_; }
  std::size_t pending_unmaps() const { return pending_.size(); }
  const std::vector<Domain>& domains() const { return domains_; }
  const std::map<std::uint64_t, Mapping>& mappings() const { return mappings_; }
  vfio::IommuType type() const { return type_; }
  const Type1Stats& stats() const { return stats_; }

 private:
  struct Pending {
    std::uint64_t pages;                // to unpin after the flush
    std::vector<std::uint64_t> tables;  // page-table pages per domain, freed after the flush
  };
  Status map_into(const Domain& d, const Mapping& m);
  Status unmap_from_all(const Mapping& m, bool strict, std::vector<std::uint64_t>& tables);
  Status release_domain(Domain& d);

  HostKernel* kernel_;
  vfio::IommuType type_;
  Type1Config config_;
  std::vector<Domain> domains_;
  std::map<std::uint64_t, Mapping> mappings_;  // by iova
  std::vector<Pending> pending_;
  std::uint64_t pinned_ = 0;
  Type1Stats stats_;
};

}  // namespace vtdsim::passthrough
