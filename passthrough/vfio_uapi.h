// The VFIO user API vocabulary (Linux include/uapi/linux/vfio.h, facts only): IOMMU types,
// group status flags, device/region/IRQ info flags, the fixed vfio-pci region and IRQ indexes,
// SET_IRQS data/action flags, DMA map flags, and the info structures the ioctls return.
// Not modelled: argsz/capability-chain byte layouts (info is returned as C++ values), the
// VGA region, device-specific regions beyond index 8, migration.
#pragma once

#include <cstdint>
#include <vector>

namespace vtdsim::passthrough::vfio {

// VFIO_SET_IOMMU / VFIO_CHECK_EXTENSION types.
enum class IommuType : std::uint32_t {
  kType1 = 1,    // VFIO_TYPE1_IOMMU
  kType1v2 = 3,  // VFIO_TYPE1v2_IOMMU: unmaps must cover whole mappings
};

// VFIO_GROUP_GET_STATUS flags.
inline constexpr std::uint32_t kGroupFlagsViable = 1u << 0;
inline constexpr std::uint32_t kGroupFlagsContainerSet = 1u << 1;

// VFIO_DEVICE_GET_INFO flags.
inline constexpr std::uint32_t kDeviceFlagsReset = 1u << 0;
inline constexpr std::uint32_t kDeviceFlagsPci = 1u << 1;

// VFIO_DEVICE_GET_REGION_INFO flags.
inline constexpr std::uint32_t kRegionFlagRead = 1u << 0;
inline constexpr std::uint32_t kRegionFlagWrite = 1u << 1;
inline constexpr std::uint32_t kRegionFlagMmap = 1u << 2;
inline constexpr std::uint32_t kRegionFlagCaps = 1u << 3;
inline constexpr std::uint32_t kRegionInfoCapSparseMmap = 1;  // capability id

// VFIO_DEVICE_GET_IRQ_INFO flags.
inline constexpr std::uint32_t kIrqInfoEventfd = 1u << 0;
inline constexpr std::uint32_t kIrqInfoMaskable = 1u << 1;
inline constexpr std::uint32_t kIrqInfoAutomasked = 1u << 2;
inline constexpr std::uint32_t kIrqInfoNoresize = 1u << 3;

// VFIO_DEVICE_SET_IRQS flags: one data type and one action.
inline constexpr std::uint32_t kIrqSetDataNone = 1u << 0;
inline constexpr std::uint32_t kIrqSetDataBool = 1u << 1;
inline constexpr std::uint32_t kIrqSetDataEventfd = 1u << 2;
inline constexpr std::uint32_t kIrqSetActionMask = 1u << 3;
inline constexpr std::uint32_t kIrqSetActionUnmask = 1u << 4;
inline constexpr std::uint32_t kIrqSetActionTrigger = 1u << 5;
inline constexpr std::uint32_t kIrqSetDataMask =
    kIrqSetDataNone | kIrqSetDataBool | kIrqSetDataEventfd;
inline constexpr std::uint32_t kIrqSetActionMaskAll =
    kIrqSetActionMask | kIrqSetActionUnmask | kIrqSetActionTrigger;

// VFIO_IOMMU_MAP_DMA flags.
inline constexpr std::uint32_t kDmaMapFlagRead = 1u << 0;
inline constexpr std::uint32_t kDmaMapFlagWrite = 1u << 1;

// vfio-pci fixed region indexes.
inline constexpr unsigned kPciBar0RegionIndex = 0;  // BARs 0..5 are indexes 0..5
inline constexpr unsigned kPciRomRegionIndex = 6;
inline constexpr unsigned kPciConfigRegionIndex = 7;
inline constexpr unsigned kPciVgaRegionIndex = 8;
inline constexpr unsigned kPciNumRegions = 9;

// vfio-pci fixed IRQ indexes.
inline constexpr unsigned kPciIntxIrqIndex = 0;
inline constexpr unsigned kPciMsiIrqIndex = 1;
inline constexpr unsigned kPciMsixIrqIndex = 2;
inline constexpr unsigned kPciErrIrqIndex = 3;
inline constexpr unsigned kPciReqIrqIndex = 4;
inline constexpr unsigned kPciNumIrqs = 5;

// vfio-pci places region i at device-fd offset i << 40 (VFIO_PCI_OFFSET_SHIFT).
inline constexpr unsigned kPciOffsetShift = 40;
constexpr std::uint64_t region_offset(unsigned index) {
  return std::uint64_t{index} << kPciOffsetShift;
}

struct DeviceInfo {
  std::uint32_t flags = 0;
  std::uint32_t num_regions = 0;
  std::uint32_t num_irqs = 0;
};

struct SparseMmapArea {
  std::uint64_t offset = 0;  // within the region
  std::uint64_t size = 0;
  friend bool operator==(const SparseMmapArea&, const SparseMmapArea&) = default;
};

struct RegionInfo {
  unsigned index = 0;
  std::uint32_t flags = 0;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;  // in the device fd
  // VFIO_REGION_INFO_CAP_SPARSE_MMAP areas (flags has kRegionFlagCaps when non-empty).
  std::vector<SparseMmapArea> sparse_mmap;
};

struct IrqInfo {
  unsigned index = 0;
  std::uint32_t flags = 0;
  std::uint32_t count = 0;
};

// VFIO_IOMMU_MAP_DMA. `vaddr` is the user address of the buffer; the model has no process
// address space, so it is the host-physical address of the (pinned) range.
struct DmaMap {
  std::uint32_t flags = kDmaMapFlagRead | kDmaMapFlagWrite;
  std::uint64_t vaddr = 0;
  std::uint64_t iova = 0;
  std::uint64_t size = 0;
};

struct DmaUnmap {
  std::uint64_t iova = 0;
  std::uint64_t size = 0;
};

}  // namespace vtdsim::passthrough::vfio
