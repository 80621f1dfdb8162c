// VFIO groups and the vfio driver core (Linux drivers/vfio, facts only): a group is an IOMMU
// group of the platform (pci::compute_iommu_groups); /dev/vfio/N exists once a member is bound
// to vfio-pci; a group is viable when every endpoint in it is bound to vfio-pci, pci-stub or to
// no driver (bridges never spoil viability). VFIO_GROUP_SET_CONTAINER needs a viable group and
// puts it in exactly one container; VFIO_GROUP_GET_DEVICE_FD (by "bb:dd.f" name) needs a viable
// group in a container whose IOMMU is set, and a member bound to vfio-pci.
// Not modelled: the iommufd/cdev interface, no-IOMMU mode, device release on unbind.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

#include "model/error.h"
#include "passthrough/host_kernel.h"
#include "pci/function.h"

namespace vtdsim::passthrough {

class Vfio;
class VfioContainer;
class VfioDevice;

class VfioGroup {
 public:
  VfioGroup(Vfio& vfio, unsigned id, std::vector<pci::Function*> members);
  ~VfioGroup();
  VfioGroup(const VfioGroup&) = delete;
  VfioGroup& operator=(const VfioGroup&) = delete;

  unsigned id() const { return id_; }
  const std::vector<pci::Function*>& members() const { return members_; }
  bool viable() const;
  // The first member that spoils viability, or null.
  const pci::Function* blocker() const;
  // VFIO_GROUP_GET_STATUS flags (vfio::kGroupFlags*).
  std::uint32_t status() const;

  // VFIO_GROUP_SET_CONTAINER / UNSET_CONTAINER.
  Status set_container(VfioContainer& container);
  Status unset_container();
  VfioContainer* container() const { return container_; }

  // VFIO_GROUP_GET_DEVICE_FD.
  Expected<VfioDevice*> get_device_fd(std::string_view name);
  // Closing the device fd (its interrupts are disabled). kNotFound if not open here.
  Status close_device(VfioDevice& device);
  std::size_t open_devices() const { return devices_.size(); }

 private:
  friend class VfioContainer;
  friend class Vfio;
  Vfio* vfio_;
  unsigned id_;
  std::vector<pci::Function*> members_;
  VfioContainer* container_ = nullptr;
  std::map<pci::Function*, std::unique_ptr<VfioDevice>> devices_;
};

// The vfio core: driver binding to vfio-pci, the group character devices, new containers.
class Vfio {
 public:
  explicit Vfio(HostKernel& kernel);
  ~Vfio();
  HostKernel& kernel() { return *kernel_; }

  // Binds f to vfio-pci (kUnsupported for a bridge: vfio-pci takes normal headers only).
  Status bind(pci::Function& f);
  // Binds f to another driver (host driver, pci-stub, none). kBusy while its device is open.
  Status bind_other(pci::Function& f, DriverBinding driver);

  // The IOMMU group of f.
  Expected<unsigned> group_id(const pci::Function& f) const;
  // Opening /dev/vfio/<id>: kNotFound unless the group exists and a member is bound to vfio-pci.
  Expected<VfioGroup*> open_group(unsigned id);
  // Opening /dev/vfio/vfio.
  std::unique_ptr<VfioContainer> open_container();

 private:
  HostKernel* kernel_;
  std::vector<pci::IommuGroup> groups_;
  std::map<unsigned, std::unique_ptr<VfioGroup>> open_;
};

}  // namespace vtdsim::passthrough
