#include "passthrough/vfio_device.h"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

#include "pci/bar.h"
#include "pci/capabilities.h"

namespace vtdsim::passthrough {

namespace {
constexpr std::uint64_t kRegionMask = (std::uint64_t{1} << vfio::kPciOffsetShift) - 1;
constexpr std::uint64_t kPage = model::kPageSize;
}  // namespace

VfioDevice::VfioDevice(HostKernel& kernel, VfioGroup& group, pci::Function& function)
    : kernel_(&kernel), group_(&group), function_(&function) {
  for (unsigned i = 0; i < function.bar_count(); ++i) {
    vbar_[i] = function.config_read(pci::cfg::kBar0 + 4 * i, 4);
  }
}

VfioDevice::~VfioDevice() {
  (void)disable();
}

vfio::DeviceInfo VfioDevice::info() const {
  return vfio::DeviceInfo{vfio::kDeviceFlagsPci, vfio::kPciNumRegions, vfio::kPciNumIrqs};
}

std::uint32_t VfioDevice::config_region_size() const {
  return function_->is_pcie() ? pci::kConfigSpaceSize : pci::kLegacyConfigSize;
}

std::vector<vfio::SparseMmapArea> VfioDevice::mmap_areas(unsigned bar) const {
  const pci::MsixTable* table = function_->msix_table();
  const auto cap = function_->msix_offset();
  if (table == nullptr || !cap) return {};
  const std::uint32_t loc = function_->config_read(*cap + pci::msix::kTable, 4);
  if (pci::msix::BIR::get(loc) != bar) return {};
  const std::uint64_t size = function_->bar_spec(bar).size;
  const std::uint64_t start = pci::msix::OFFSET::raw(loc) & ~(kPage - 1);
  const std::uint64_t end =
      (pci::msix::OFFSET::raw(loc) + table->table_bytes() + kPage - 1) & ~(kPage - 1);
  std::vector<vfio::SparseMmapArea> areas;
  if (start > 0) areas.push_back({0, start});
  if (end < size) areas.push_back({end, size - end});
  return areas;
}

Expected<vfio::RegionInfo> VfioDevice::region_info(unsigned index) const {
  vfio::RegionInfo r;
  r.index = index;
  r.offset = vfio::region_offset(index);
  if (index < function_->bar_count()) {
    const pci::BarSpec& spec = function_->bar_spec(index);
    if (spec.kind == pci::BarKind::kNone) return r;  // unimplemented: size 0
    r.size = spec.size;
    r.flags = vfio::kRegionFlagRead | vfio::kRegionFlagWrite;
    if (spec.kind != pci::BarKind::kIo && spec.size >= kPage) {
      r.flags |= vfio::kRegionFlagMmap;
      r.sparse_mmap = mmap_areas(index);
      if (!r.sparse_mmap.empty()) r.flags |= vfio::kRegionFlagCaps;
    }
    return r;
  }
  if (index < vfio::kPciConfigRegionIndex) return r;  // BARs beyond a type 1 header, ROM
  if (index == vfio::kPciConfigRegionIndex) {
    r.size = config_region_size();
    r.flags = vfio::kRegionFlagRead | vfio::kRegionFlagWrite;
    return r;
  }
  if (index == vfio::kPciVgaRegionIndex) return r;
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("region index {} is beyond the {} vfio-pci regions", index,
                                vfio::kPciNumRegions));
}

std::uint32_t VfioDevice::irq_count(unsigned index) const {
  switch (index) {
    case vfio::kPciIntxIrqIndex:
      return function_->config_read(pci::cfg::kInterruptPin, 1) != 0 ? 1 : 0;
    case vfio::kPciMsiIrqIndex: {
      const auto cap = function_->msi_offset();
      if (!cap) return 0;
      return 1u << pci::msi::MMC::get(function_->config_read(*cap + pci::msi::kControl, 2));
    }
    case vfio::kPciMsixIrqIndex:
      return function_->msix_table() != nullptr ? function_->msix_table()->size() : 0;
    case vfio::kPciErrIrqIndex:
      return function_->is_pcie() ? 1 : 0;
    case vfio::kPciReqIrqIndex:
      return 1;
    default:
      return 0;
  }
}

Expected<vfio::IrqInfo> VfioDevice::irq_info(unsigned index) const {
  if (index >= vfio::kPciNumIrqs) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("IRQ index {} is beyond the {} vfio-pci IRQ indexes", index,
                                  vfio::kPciNumIrqs));
  }
  vfio::IrqInfo info;
  info.index = index;
  info.count = irq_count(index);
  info.flags = vfio::kIrqInfoEventfd;
  if (index == vfio::kPciIntxIrqIndex) {
    info.flags |= vfio::kIrqInfoMaskable | vfio::kIrqInfoAutomasked;
  } else {
    info.flags |= vfio::kIrqInfoNoresize;
  }
  return info;
}

bool VfioDevice::msix_table_hit(unsigned bar, std::uint64_t offset, unsigned size) const {
  const pci::MsixTable* table = function_->msix_table();
  const auto cap = function_->msix_offset();
  if (table == nullptr || !cap) return false;
  const std::uint32_t loc = function_->config_read(*cap + pci::msix::kTable, 4);
  if (pci::msix::BIR::get(loc) != bar) return false;
  const std::uint64_t start = pci::msix::OFFSET::raw(loc);
  return offset < start + table->table_bytes() && start < offset + size;
}

bool VfioDevice::in_capability(std::uint32_t offset, unsigned size) const {
  auto hits = [&](std::optional<std::uint32_t> cap, std::uint32_t length) {
    return cap && offset < *cap + length && *cap < offset + size;
  };
  bool msi = false;
  if (auto cap = function_->msi_offset()) {
    const std::uint32_t ctl = function_->config_read(*cap + pci::msi::kControl, 2);
    msi =
        hits(cap, pci::msi::length(pci::msi::ADDR64::get(ctl) != 0, pci::msi::PVM::get(ctl) != 0));
  }
  return msi || hits(function_->msix_offset(), pci::msix::kLength);
}

std::uint32_t VfioDevice::config_read(std::uint32_t offset, unsigned size) const {
  const std::uint32_t bars_end = pci::cfg::kBar0 + 4 * function_->bar_count();
  if (offset >= pci::cfg::kBar0 && offset < bars_end) {
    const std::uint32_t reg = (offset - pci::cfg::kBar0) / 4;
    const unsigned shift = 8 * (offset % 4);
    const std::uint64_t mask = size == 4 ? 0xFFFFFFFFu : ((std::uint64_t{1} << (8 * size)) - 1);
    return static_cast<std::uint32_t>((vbar_[reg] >> shift) & mask);
  }
  return function_->config_read(offset, size);
}

void VfioDevice::config_write(std::uint32_t offset, unsigned size, std::uint32_t value) {
  const std::uint32_t bars_end = pci::cfg::kBar0 + 4 * function_->bar_count();
  if (offset >= pci::cfg::kBar0 && offset < bars_end) {
    // Virtual BAR: keep the writable address bits, the type bits read back as on hardware.
    const unsigned reg = (offset - pci::cfg::kBar0) / 4;
    const unsigned shift = 8 * (offset % 4);
    const std::uint32_t field =
        size == 4 ? 0xFFFFFFFFu : static_cast<std::uint32_t>(((1u << (8 * size)) - 1) << shift);
    std::uint32_t v = (vbar_[reg] & ~field) | ((value << shift) & field);
    const pci::BarSpec& spec = function_->bar_spec(reg);
    if (spec.kind != pci::BarKind::kNone) {
      v = (v & pci::bar_low_mask(spec)) | pci::bar_type_bits(spec);
    } else if (reg > 0 && function_->bar_spec(reg - 1).kind == pci::BarKind::kMemory64) {
      v &= pci::bar_high_mask(function_->bar_spec(reg - 1));
    } else {
      v = 0;
    }
    vbar_[reg] = v;
    return;
  }
  if (in_capability(offset, size)) return;  // MSI/MSI-X: through SET_IRQS only
  function_->config_write(offset, size, value);
}

Expected<std::uint64_t> VfioDevice::read(std::uint64_t fd_offset, unsigned size) {
  const auto index = static_cast<unsigned>(fd_offset >> vfio::kPciOffsetShift);
  const std::uint64_t off = fd_offset & kRegionMask;
  auto info = region_info(index);
  if (!info) return tl::unexpected(info.error());
  const bool bar = index < function_->bar_count() && info->size != 0;
  const bool sized = size == 1 || size == 2 || size == 4 || (bar && size == 8);
  if (info->size == 0 || !sized || off % size != 0 || off >= info->size ||
      info->size - off < size) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("read of {} bytes at offset {:#x} of region {} (size {:#x})",
                                  size, off, index, info->size));
  }
  if (index == vfio::kPciConfigRegionIndex) {
    return config_read(static_cast<std::uint32_t>(off), size);
  }
  if (msix_table_hit(index, off, size)) {
    return size == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * size)) - 1;
  }
  return function_->mmio_read(index, off, size);
}

Status VfioDevice::write(std::uint64_t fd_offset, unsigned size, std::uint64_t value) {
  const auto index = static_cast<unsigned>(fd_offset >> vfio::kPciOffsetShift);
  const std::uint64_t off = fd_offset & kRegionMask;
  auto info = region_info(index);
  if (!info) return tl::unexpected(info.error());
  const bool bar = index < function_->bar_count() && info->size != 0;
  const bool sized = size == 1 || size == 2 || size == 4 || (bar && size == 8);
  if (info->size == 0 || !sized || off % size != 0 || off >= info->size ||
      info->size - off < size) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("write of {} bytes at offset {:#x} of region {} (size {:#x})",
                                  size, off, index, info->size));
  }
  if (index == vfio::kPciConfigRegionIndex) {
    config_write(static_cast<std::uint32_t>(off), size, static_cast<std::uint32_t>(value));
    return {};
  }
  if (msix_table_hit(index, off, size)) return {};  // the table belongs to the host
  function_->mmio_write(index, off, size, value);
  return {};
}

Expected<std::uint64_t> VfioDevice::mmap(unsigned index, std::uint64_t offset,
                                         std::uint64_t size) const {
  auto info = region_info(index);
  if (!info) return tl::unexpected(info.error());
  if ((info->flags & vfio::kRegionFlagMmap) == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("region {} does not support mmap", index));
  }
  if (size == 0 || ((offset | size) & (kPage - 1)) != 0 || offset >= info->size ||
      info->size - offset < size) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("mmap [{:#x}, +{:#x}) of region {} (size {:#x}) is not "
                                  "page aligned or out of range",
                                  offset, size, index, info->size));
  }
  if (!info->sparse_mmap.empty()) {
    const bool inside = std::any_of(
        info->sparse_mmap.begin(), info->sparse_mmap.end(),
        [&](const auto& a) { return offset >= a.offset && offset + size <= a.offset + a.size; });
    if (!inside) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("mmap [{:#x}, +{:#x}) of region {} covers the MSI-X table",
                                    offset, size, index));
    }
  }
  return function_->bar_address(index) + offset;
}

const HostIrq* VfioDevice::host_irq(unsigned vector) const {
  return vector < vectors_.size() ? &vectors_[vector].irq : nullptr;
}

EventFd* VfioDevice::trigger(unsigned vector) const {
  return vector < vectors_.size() ? vectors_[vector].trigger : nullptr;
}

}  // namespace vtdsim::passthrough
