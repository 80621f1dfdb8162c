// A VFIO container (/dev/vfio/vfio, Linux facts only): it collects groups that share one IOMMU
// context; VFIO_SET_IOMMU picks the backend (type1/type1v2) and needs at least one group; later
// groups are attached to the backend as they join; MAP_DMA / UNMAP_DMA go to the backend. When
// the last group leaves, the backend is released (every mapping unmapped and unpinned).
// Not modelled: the SPAPR backends, VFIO_IOMMU_GET_INFO capability chains (iova_limit() and
// the backend's mappings stand in for them).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "model/error.h"
#include "passthrough/vfio_iommu_type1.h"
#include "passthrough/vfio_uapi.h"

namespace vtdsim::passthrough {

class Vfio;
class VfioGroup;

class VfioContainer {
 public:
  explicit VfioContainer(Vfio& vfio) : vfio_(&vfio) {}
  ~VfioContainer();
  VfioContainer(const VfioContainer&) = delete;
  VfioContainer& operator=(const VfioContainer&) = delete;

  // VFIO_CHECK_EXTENSION for an IOMMU type.
  bool check_extension(vfio::IommuType type) const;
  // VFIO_SET_IOMMU. kInvalidArgument without groups, kBusy when already set; a group the
  // backend cannot attach fails the call and leaves the container without IOMMU.
  Status set_iommu(vfio::IommuType type, const Type1Config& config = {});
  bool iommu_set() const { return iommu_ != nullptr; }

  // VFIO_IOMMU_MAP_DMA / UNMAP_DMA. kBusy without an IOMMU.
  Status map_dma(const vfio::DmaMap& map);
  Expected<std::uint64_t> unmap_dma(const vfio::DmaUnmap& unmap);

  VfioIommuType1* iommu() { return iommu_.get(); }
  const std::vector<VfioGroup*>& groups() const { return groups_; }

 private:
  friend class VfioGroup;
  Status add_group(VfioGroup& group);
  Status remove_group(VfioGroup& group);

  Vfio* vfio_;
  std::vector<VfioGroup*> groups_;
  std::unique_ptr<VfioIommuType1> iommu_;
};

}  // namespace vtdsim::passthrough
