#include "passthrough/vfio_container.h"

#include <algorithm>

#include <fmt/format.h>

#include "passthrough/vfio_device.h"
#include "passthrough/vfio_group.h"

namespace vtdsim::passthrough {

VfioContainer::~VfioContainer() {
  while (!groups_.empty()) {
    VfioGroup* g = groups_.back();
    g->devices_.clear();
    (void)g->unset_container();
  }
}

bool VfioContainer::check_extension(vfio::IommuType type) const {
  return type == vfio::IommuType::kType1 || type == vfio::IommuType::kType1v2;
}

Status VfioContainer::set_iommu(vfio::IommuType type, const Type1Config& config) {
  if (iommu_) return make_error(ErrorCode::kBusy, "VFIO_SET_IOMMU: the IOMMU is already set");
  if (groups_.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "VFIO_SET_IOMMU: the container has no group");
  }
  if (!check_extension(type)) {
    return make_error(
        ErrorCode::kUnsupported,
        fmt::format("VFIO_SET_IOMMU: IOMMU type {} is not supported", static_cast<unsigned>(type)));
  }
  auto backend = std::make_unique<VfioIommuType1>(vfio_->kernel(), type, config);
  for (VfioGroup* g : groups_) {
    if (auto ok = backend->attach_group(g->id(), g->members()); !ok) return ok;
  }
  iommu_ = std::move(backend);
  return {};
}

Status VfioContainer::map_dma(const vfio::DmaMap& map) {
  if (!iommu_) return make_error(ErrorCode::kBusy, "VFIO_IOMMU_MAP_DMA: no IOMMU set");
  return iommu_->map_dma(map);
}

Expected<std::uint64_t> VfioContainer::unmap_dma(const vfio::DmaUnmap& unmap) {
  if (!iommu_) return make_error(ErrorCode::kBusy, "VFIO_IOMMU_UNMAP_DMA: no IOMMU set");
  return iommu_->unmap_dma(unmap);
}

Status VfioContainer::add_group(VfioGroup& group) {
  if (iommu_) {
    if (auto ok = iommu_->attach_group(group.id(), group.members()); !ok) return ok;
  }
  groups_.push_back(&group);
  return {};
}

Status VfioContainer::remove_group(VfioGroup& group) {
  auto it = std::find(groups_.begin(), groups_.end(), &group);
  if (it == groups_.end()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("group {} is not in this container", group.id()));
  }
  Status st;
  if (iommu_) st = iommu_->detach_group(group.id());
  groups_.erase(it);
  if (groups_.empty()) iommu_.reset();  // the last group releases the backend
  return st;
}

}  // namespace vtdsim::passthrough
