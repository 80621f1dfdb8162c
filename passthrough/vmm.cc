#include "passthrough/vmm.h"

#include <algorithm>

#include <fmt/format.h>

#include "pci/bar.h"
#include "pci/capabilities.h"

namespace vtdsim::passthrough {

namespace {
constexpr std::uint64_t kConfigFd = vfio::region_offset(vfio::kPciConfigRegionIndex);
}  // namespace

VfioPciDevice::VfioPciDevice(KvmVm& vm, Vfio& vfio, const VfioPciOptions& options)
    : vm_(&vm), vfio_(&vfio), options_(options) {}

Expected<std::unique_ptr<VfioPciDevice>> VfioPciDevice::realize(KvmVm& vm, Vfio& vfio,
                                                                const VfioPciOptions& options) {
  pci::Function* f = nullptr;
  for (pci::Function* c : vfio.kernel().machine().functions()) {
    const std::string bdf = model::to_string(c->requester_id());
    if (options.host == bdf || options.host == "0000:" + bdf) f = c;
  }
  if (f == nullptr) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("vfio-pci: host device '{}' does not exist", options.host));
  }
  if (vfio.kernel().binding(*f) != DriverBinding::kVfioPci) {
    return make_error(ErrorCode::kBusy,
                      fmt::format("vfio-pci: host device {} is not bound to vfio-pci (bound to "
                                  "{})",
                                  options.host, to_string(vfio.kernel().binding(*f))));
  }
  std::unique_ptr<VfioPciDevice> d(new VfioPciDevice(vm, vfio, options));
  if (auto ok = d->connect(*f); !ok) return tl::unexpected(ok.error());
  return d;
}

Status VfioPciDevice::connect(pci::Function& f) {
  auto gid = vfio_->group_id(f);
  if (!gid) return tl::unexpected(gid.error());
  auto g = vfio_->open_group(*gid);
  if (!g) return tl::unexpected(g.error());
  if (((*g)->status() & vfio::kGroupFlagsViable) == 0) {
    return make_error(ErrorCode::kBusy,
                      fmt::format("vfio-pci: group {} is not viable: device {} is in use by a "
                                  "host driver",
                                  *gid, model::to_string((*g)->blocker()->requester_id())));
  }
  container_ = vfio_->open_container();
  if (auto ok = (*g)->set_container(*container_); !ok) return ok;
  group_ = *g;
  if (auto ok = container_->set_iommu(options_.iommu, options_.type1); !ok) return ok;
  // The guest's RAM: IOVA = GPA (QEMU's memory listener on the address space).
  for (const auto& s : vm_->memslots()) {
    vfio::DmaMap m;
    m.flags = vfio::kDmaMapFlagRead | (s.readonly ? 0u : vfio::kDmaMapFlagWrite);
    m.vaddr = s.hpa;
    m.iova = s.gpa;
    m.size = s.size;
    if (auto ok = container_->map_dma(m); !ok) return ok;
  }
  KvmListener l;
  l.memslot_changed = [this](const Memslot* b, const Memslot* a) { memslot_changed(b, a); };
  listener_ = vm_->add_listener(std::move(l));
  listening_ = true;
  auto dev = group_->get_device_fd(options_.host);
  if (!dev) return tl::unexpected(dev.error());
  device_ = *dev;
  if ((device_->info().flags & vfio::kDeviceFlagsPci) == 0) {
    return make_error(ErrorCode::kUnsupported, "vfio-pci: the device is not a PCI device");
  }
  init_shadow();
  for (unsigned bar = 0; bar < 6; ++bar) {
    auto info = device_->region_info(bar);
    if (!info || (info->flags & vfio::kRegionFlagMmap) == 0) continue;
    std::vector<vfio::SparseMmapArea> areas = info->sparse_mmap;
    if (areas.empty()) areas.push_back({0, info->size});
    for (const auto& a : areas) {
      auto hpa = device_->mmap(bar, a.offset, a.size);
      if (!hpa) return tl::unexpected(hpa.error());
      mmaps_.push_back(MmapArea{bar, a.offset, a.size, *hpa});
    }
  }
  if (options_.kvm_vfio != nullptr) {
    if (auto ok = options_.kvm_vfio->add_group(*group_);
        !ok && ok.error().code != ErrorCode::kAlreadyExists) {
      return ok;
    }
  }
  return {};
}

VfioPciDevice::~VfioPciDevice() {
  msix_release_all();
  msi_release();
  if (listening_) vm_->remove_listener(listener_);
  if (options_.kvm_vfio != nullptr && group_ != nullptr) {
    (void)options_.kvm_vfio->del_group(*group_);
  }
  if (device_ != nullptr) (void)group_->close_device(*device_);
  if (group_ != nullptr) (void)group_->unset_container();
}

void VfioPciDevice::memslot_changed(const Memslot* before, const Memslot* after) {
  if (before != nullptr) (void)container_->unmap_dma(vfio::DmaUnmap{before->gpa, before->size});
  if (after != nullptr) {
    vfio::DmaMap m;
    m.flags = vfio::kDmaMapFlagRead | (after->readonly ? 0u : vfio::kDmaMapFlagWrite);
    m.vaddr = after->hpa;
    m.iova = after->gpa;
    m.size = after->size;
    (void)container_->map_dma(m);
  }
}

void VfioPciDevice::emulate(std::uint32_t offset, unsigned size, std::uint32_t wmask) {
  for (unsigned i = 0; i < size; ++i) {
    emulated_[offset + i] = true;
    wmask_[offset + i] = static_cast<std::uint8_t>(wmask >> (8 * i));
  }
}

void VfioPciDevice::init_shadow() {
  config_size_ =
      static_cast<std::uint32_t>(device_->region_info(vfio::kPciConfigRegionIndex)->size);
  for (std::uint32_t off = 0; off < config_size_; off += 4) {
    const std::uint32_t v =
        static_cast<std::uint32_t>(device_->read(kConfigFd + off, 4).value_or(0));
    for (unsigned i = 0; i < 4; ++i) cfg_[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  pci::Function& f = device_->function();
  // BARs: emulated at guest addresses, reset to 0 with their type bits (the guest assigns).
  for (unsigned bar = 0; bar < f.bar_count(); ++bar) {
    const std::uint32_t reg = pci::cfg::kBar0 + 4 * bar;
    const pci::BarSpec& spec = f.bar_spec(bar);
    std::uint32_t mask = 0;
    std::uint32_t init = 0;
    if (spec.kind != pci::BarKind::kNone) {
      mask = pci::bar_low_mask(spec);
      init = pci::bar_type_bits(spec);
      if (spec.kind != pci::BarKind::kIo) bar_size_[bar] = spec.size;
      bar64_[bar] = spec.kind == pci::BarKind::kMemory64;
    } else if (bar > 0 && f.bar_spec(bar - 1).kind == pci::BarKind::kMemory64) {
      mask = pci::bar_high_mask(f.bar_spec(bar - 1));
    }
    emulate(reg, 4, mask);
    for (unsigned i = 0; i < 4; ++i) cfg_[reg + i] = static_cast<std::uint8_t>(init >> (8 * i));
  }
  if (auto cap = f.msix_offset()) {
    msix_cap_ = *cap;
    const auto ctl_mask =
        static_cast<std::uint32_t>(pci::msix::ENABLE::kMask | pci::msix::FUNCTION_MASK::kMask);
    emulate(msix_cap_ + pci::msix::kControl, 2, ctl_mask);
    std::uint32_t ctl = cfg_[msix_cap_ + 2] | (std::uint32_t{cfg_[msix_cap_ + 3]} << 8);
    ctl &= ~ctl_mask;
    cfg_[msix_cap_ + 2] = static_cast<std::uint8_t>(ctl);
    cfg_[msix_cap_ + 3] = static_cast<std::uint8_t>(ctl >> 8);
    const std::uint32_t table = f.config_read(msix_cap_ + pci::msix::kTable, 4);
    const std::uint32_t pba = f.config_read(msix_cap_ + pci::msix::kPba, 4);
    msix_bar_ = static_cast<unsigned>(pci::msix::BIR::get(table));
    msix_table_offset_ = pci::msix::OFFSET::raw(table);
    msix_bar_pba_ = static_cast<unsigned>(pci::msix::BIR::get(pba));
    msix_pba_offset_ = pci::msix::OFFSET::raw(pba);
    const unsigned n = static_cast<unsigned>(pci::msix::TABLE_SIZE::get(ctl)) + 1;
    msix_table_.assign(n, {0, 0, 0, 1});
    for (unsigned i = 0; i < n; ++i) vectors_.push_back(std::make_unique<Vector>());
  }
  if (auto cap = f.msi_offset()) {
    msi_cap_ = *cap;
    const std::uint32_t ctl = f.config_read(msi_cap_ + pci::msi::kControl, 2);
    const bool addr64 = pci::msi::ADDR64::get(ctl) != 0;
    const bool pvm = pci::msi::PVM::get(ctl) != 0;
    emulate(msi_cap_ + pci::msi::kControl, 2,
            static_cast<std::uint32_t>(pci::msi::ENABLE::kMask | pci::msi::MME::kMask));
    cfg_[msi_cap_ + 2] =
        static_cast<std::uint8_t>(ctl & ~(pci::msi::ENABLE::kMask | pci::msi::MME::kMask));
    emulate(msi_cap_ + pci::msi::kAddressLo, 4, 0xFFFFFFFCu);
    if (addr64) emulate(msi_cap_ + pci::msi::address_hi(true), 4, 0xFFFFFFFFu);
    emulate(msi_cap_ + pci::msi::data(addr64), 2, 0xFFFFu);
    if (pvm) emulate(msi_cap_ + pci::msi::mask(addr64), 4, 0xFFFFFFFFu);
    for (std::uint32_t o = pci::msi::kAddressLo; o < pci::msi::length(addr64, pvm); ++o) {
      cfg_[msi_cap_ + o] = 0;
    }
  }
}

std::uint32_t VfioPciDevice::guest_config_read(std::uint32_t offset, unsigned size) {
  if ((size != 1 && size != 2 && size != 4) || offset % size != 0 || offset >= config_size_) {
    return pci::kAllOnes;
  }
  bool all = true;
  bool any = false;
  for (unsigned i = 0; i < size; ++i) {
    all = all && emulated_[offset + i];
    any = any || emulated_[offset + i];
  }
  std::uint32_t value = 0;
  if (!all) value = static_cast<std::uint32_t>(device_->read(kConfigFd + offset, size).value_or(0));
  if (any) {
    for (unsigned i = 0; i < size; ++i) {
      if (!emulated_[offset + i]) continue;
      value &= ~(0xFFu << (8 * i));
      value |= std::uint32_t{cfg_[offset + i]} << (8 * i);
    }
  }
  return value;
}

void VfioPciDevice::guest_config_write(std::uint32_t offset, unsigned size, std::uint32_t value) {
  if ((size != 1 && size != 2 && size != 4) || offset % size != 0 || offset >= config_size_) return;
  bool any = false;
  bool all = true;
  for (unsigned i = 0; i < size; ++i) {
    const std::uint32_t o = offset + i;
    if (!emulated_[o]) {
      all = false;
      continue;
    }
    any = true;
    const auto b = static_cast<std::uint8_t>(value >> (8 * i));
    cfg_[o] = static_cast<std::uint8_t>((cfg_[o] & ~wmask_[o]) | (b & wmask_[o]));
  }
  if (!all) (void)device_->write(kConfigFd + offset, size, value);
  if (!any) return;
  auto touches = [&](std::uint32_t start, std::uint32_t len) {
    return start != 0 && offset < start + len && start < offset + size;
  };
  if (touches(msix_cap_ + pci::msix::kControl, 2)) msix_control_written();
  if (touches(msi_cap_, 24)) msi_written();
}

std::uint64_t VfioPciDevice::guest_bar(unsigned bar) const {
  if (bar >= 6 || bar_size_[bar] == 0) return 0;
  auto dword = [&](std::uint32_t reg) {
    return std::uint64_t{cfg_[reg]} | (std::uint64_t{cfg_[reg + 1]} << 8) |
           (std::uint64_t{cfg_[reg + 2]} << 16) | (std::uint64_t{cfg_[reg + 3]} << 24);
  };
  const std::uint32_t reg = pci::cfg::kBar0 + 4 * bar;
  std::uint64_t base = dword(reg) & ~std::uint64_t{0xF};
  if (bar64_[bar]) base |= dword(reg + 4) << 32;
  return base;
}

std::optional<std::pair<unsigned, std::uint64_t>> VfioPciDevice::decode(std::uint64_t gpa,
                                                                        unsigned size) const {
  // Guest memory decode follows the command register the guest wrote to the device.
  if ((device_->function().command() & 0x2u) == 0) return std::nullopt;
  for (unsigned bar = 0; bar < 6; ++bar) {
    const std::uint64_t base = guest_bar(bar);
    if (base == 0) continue;
    if (gpa >= base && gpa - base < bar_size_[bar] && bar_size_[bar] - (gpa - base) >= size) {
      return std::make_pair(bar, gpa - base);
    }
  }
  return std::nullopt;
}

bool VfioPciDevice::guest_mmio_read(std::uint64_t gpa, unsigned size, std::uint64_t* value) {
  auto hit = decode(gpa, size);
  if (!hit) return false;
  const auto [bar, off] = *hit;
  if (msix_cap_ != 0 && bar == msix_bar_ && off >= msix_table_offset_ &&
      off < msix_table_offset_ + msix_table_.size() * pci::msix::kEntrySize) {
    *value = msix_table_read(off - msix_table_offset_, size);
    return true;
  }
  if (msix_cap_ != 0 && bar == msix_bar_pba_ && off >= msix_pba_offset_ &&
      off < msix_pba_offset_ + ((msix_table_.size() + 63) / 64) * 8) {
    std::uint64_t bits = 0;
    const std::uint64_t first = (off - msix_pba_offset_) * 8;
    for (unsigned i = 0; i < 8 * size && first + i < vectors_.size(); ++i) {
      if (vectors_[first + i]->pending) bits |= std::uint64_t{1} << i;
    }
    *value = bits;
    return true;
  }
  for (const auto& m : mmaps_) {
    if (m.bar == bar && off >= m.offset && off - m.offset < m.size) {
      *value = vfio_->kernel().machine().mmio_read(m.hpa + (off - m.offset), size);
      return true;
    }
  }
  *value = device_->read(vfio::region_offset(bar) + off, size).value_or(~std::uint64_t{0});
  return true;
}

bool VfioPciDevice::guest_mmio_write(std::uint64_t gpa, unsigned size, std::uint64_t value) {
  auto hit = decode(gpa, size);
  if (!hit) return false;
  const auto [bar, off] = *hit;
  if (msix_cap_ != 0 && bar == msix_bar_ && off >= msix_table_offset_ &&
      off < msix_table_offset_ + msix_table_.size() * pci::msix::kEntrySize) {
    msix_table_write(off - msix_table_offset_, size, value);
    return true;
  }
  for (const auto& m : mmaps_) {
    if (m.bar == bar && off >= m.offset && off - m.offset < m.size) {
      vfio_->kernel().machine().mmio_write(m.hpa + (off - m.offset), size, value);
      return true;
    }
  }
  (void)device_->write(vfio::region_offset(bar) + off, size, value);
  return true;
}

}  // namespace vtdsim::passthrough
