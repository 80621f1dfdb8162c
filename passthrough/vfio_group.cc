#include "passthrough/vfio_group.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "passthrough/vfio_container.h"
#include "passthrough/vfio_device.h"
#include "passthrough/vfio_uapi.h"

namespace vtdsim::passthrough {

namespace {
bool is_bridge(const pci::Function& f) {
  return f.header_type() != pci::HeaderType::kType0;
}
bool name_matches(const pci::Function& f, std::string_view name) {
  const std::string bdf = model::to_string(f.requester_id());
  return name == bdf || name == "0000:" + bdf;
}
}  // namespace

VfioGroup::VfioGroup(Vfio& vfio, unsigned id, std::vector<pci::Function*> members)
    : vfio_(&vfio), id_(id), members_(std::move(members)) {}

VfioGroup::~VfioGroup() {
  devices_.clear();
  if (container_ != nullptr) (void)container_->remove_group(*this);
}

const pci::Function* VfioGroup::blocker() const {
  for (const pci::Function* f : members_) {
    if (is_bridge(*f)) continue;
    const DriverBinding b = vfio_->kernel().binding(*f);
    if (b == DriverBinding::kHost) return f;
  }
  return nullptr;
}

bool VfioGroup::viable() const {
  return blocker() == nullptr;
}

std::uint32_t VfioGroup::status() const {
  std::uint32_t s = 0;
  if (viable()) s |= vfio::kGroupFlagsViable;
  if (container_ != nullptr) s |= vfio::kGroupFlagsContainerSet;
  return s;
}

Status VfioGroup::set_container(VfioContainer& container) {
  if (container_ != nullptr) {
    return make_error(ErrorCode::kBusy, fmt::format("group {} is already in a container", id_));
  }
  if (const pci::Function* b = blocker(); b != nullptr) {
    return make_error(ErrorCode::kBusy,
                      fmt::format("group {} is not viable: device {} is bound to a host driver",
                                  id_, model::to_string(b->requester_id())));
  }
  if (auto ok = container.add_group(*this); !ok) return ok;
  container_ = &container;
  return {};
}

Status VfioGroup::unset_container() {
  if (container_ == nullptr) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("group {} is not in a container", id_));
  }
  if (!devices_.empty()) {
    return make_error(ErrorCode::kBusy,
                      fmt::format("group {} has {} open device fd(s)", id_, devices_.size()));
  }
  if (auto ok = container_->remove_group(*this); !ok) return ok;
  container_ = nullptr;
  return {};
}

Expected<VfioDevice*> VfioGroup::get_device_fd(std::string_view name) {
  auto it = std::find_if(members_.begin(), members_.end(),
                         [&](const pci::Function* f) { return name_matches(*f, name); });
  if (it == members_.end()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("group {} has no device named '{}'", id_, name));
  }
  if (!viable()) {
    return make_error(ErrorCode::kBusy, fmt::format("group {} is not viable", id_));
  }
  if (container_ == nullptr || !container_->iommu_set()) {
    return make_error(ErrorCode::kBusy,
                      fmt::format("group {} is not in a container with an IOMMU set", id_));
  }
  if (vfio_->kernel().binding(**it) != DriverBinding::kVfioPci) {
    return make_error(ErrorCode::kBusy,
                      fmt::format("device {} is not bound to vfio-pci", std::string(name)));
  }
  auto& slot = devices_[*it];
  if (!slot) slot = std::make_unique<VfioDevice>(vfio_->kernel(), *this, **it);
  return slot.get();
}

Status VfioGroup::close_device(VfioDevice& device) {
  auto it = devices_.find(&device.function());
  if (it == devices_.end() || it->second.get() != &device) {
    return make_error(ErrorCode::kNotFound, fmt::format("device fd not open in group {}", id_));
  }
  devices_.erase(it);
  return {};
}

Vfio::Vfio(HostKernel& kernel) : kernel_(&kernel), groups_(kernel.machine().iommu_groups()) {}

Vfio::~Vfio() {
  open_.clear();
}

Status Vfio::bind(pci::Function& f) {
  if (is_bridge(f)) {
    return make_error(ErrorCode::kUnsupported, fmt::format("vfio-pci does not bind bridge {}",
                                                           model::to_string(f.requester_id())));
  }
  kernel_->bind(f, DriverBinding::kVfioPci);
  return {};
}

Status Vfio::bind_other(pci::Function& f, DriverBinding driver) {
  auto g = group_id(f);
  if (g) {
    auto it = open_.find(*g);
    if (it != open_.end() && it->second->devices_.count(&f) != 0) {
      return make_error(ErrorCode::kBusy, fmt::format("device {} is open through vfio",
                                                      model::to_string(f.requester_id())));
    }
  }
  kernel_->bind(f, driver);
  return {};
}

Expected<unsigned> Vfio::group_id(const pci::Function& f) const {
  const int g = pci::group_of(groups_, f);
  if (g < 0) {
    return make_error(ErrorCode::kNotFound, fmt::format("device {} has no IOMMU group",
                                                        model::to_string(f.requester_id())));
  }
  return static_cast<unsigned>(g);
}

Expected<VfioGroup*> Vfio::open_group(unsigned id) {
  auto g = std::find_if(groups_.begin(), groups_.end(),
                        [&](const pci::IommuGroup& x) { return x.id == id; });
  if (g == groups_.end()) {
    return make_error(ErrorCode::kNotFound, fmt::format("/dev/vfio/{}: no such group", id));
  }
  const bool has_vfio = std::any_of(g->members.begin(), g->members.end(), [&](pci::Function* f) {
    return kernel_->binding(*f) == DriverBinding::kVfioPci;
  });
  if (!has_vfio) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("/dev/vfio/{}: no device of the group is bound to vfio-pci", id));
  }
  auto& slot = open_[id];
  if (!slot) slot = std::make_unique<VfioGroup>(*this, id, g->members);
  return slot.get();
}

std::unique_ptr<VfioContainer> Vfio::open_container() {
  return std::make_unique<VfioContainer>(*this);
}

}  // namespace vtdsim::passthrough
