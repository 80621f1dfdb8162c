// A VMM's vfio-pci device (what QEMU's vfio-pci realize does, facts only): checks the host
// device (exists, bound to vfio-pci), opens its group (viable), connects a container,
// SET_IOMMU, maps every guest memslot with MAP_DMA (IOVA = GPA; kept in sync with memslot
// changes), gets the device fd and its region/IRQ info, registers the group with the KVM-VFIO
// device; then serves the guest: a config-space shadow (emulated BARs at guest addresses, the
// MSI and MSI-X capabilities emulated, everything else forwarded to the device fd), guest
// BAR accesses (mmap'ed areas go straight to the device's BAR; the MSI-X table and PBA are
// emulated; the rest of a trapped page goes through the device fd), and MSI/MSI-X emulation:
// a vector the guest unmasks gets a GSI with the guest's MSI route, a KVM irqfd and a VFIO
// trigger on the same eventfd (posted via the KVM-VFIO device when possible); a masked vector's
// trigger moves to the VMM's own eventfd, which sets the emulated pending bit, delivered on
// unmask. Not modelled: INTx (pci/ has none), ROM, quirks, migration, hot unplug.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/error.h"
#include "passthrough/guest_mmio.h"
#include "passthrough/kvm_vfio.h"
#include "passthrough/kvm_vm.h"
#include "passthrough/vfio_container.h"
#include "passthrough/vfio_device.h"
#include "passthrough/vfio_group.h"

namespace vtdsim::passthrough {

struct VfioPciOptions {
  std::string host;  // "bb:dd.f"
  vfio::IommuType iommu = vfio::IommuType::kType1v2;
  Type1Config type1{};
  KvmVfioDevice* kvm_vfio = nullptr;  // the VM's KVM-VFIO device; null: no bypass
};

class VfioPciDevice final : public GuestMmio {
 public:
  static Expected<std::unique_ptr<VfioPciDevice>> realize(KvmVm& vm, Vfio& vfio,
                                                          const VfioPciOptions& options);
  ~VfioPciDevice() override;
  VfioPciDevice(const VfioPciDevice&) = delete;
  VfioPciDevice& operator=(const VfioPciDevice&) = delete;

  // Guest configuration requests for the device (1, 2 or 4 bytes, aligned).
  std::uint32_t guest_config_read(std::uint32_t offset, unsigned size);
  void guest_config_write(std::uint32_t offset, unsigned size, std::uint32_t value);
  bool guest_mmio_read(std::uint64_t gpa, unsigned size, std::uint64_t* value) override;
  bool guest_mmio_write(std::uint64_t gpa, unsigned size, std::uint64_t value) override;

  VfioContainer& container() { return *container_; }
  VfioGroup& group() { return *group_; }
  VfioDevice& device() { return *device_; }
  // The guest-programmed base of BAR i (0 when unassigned).
  std::uint64_t guest_bar(unsigned bar) const;
  // The GSI and irqfd of an MSI-X vector the guest has used.
  std::optional<std::uint32_t> msix_gsi(unsigned vector) const;
  EventFd* msix_irqfd(unsigned vector);
  bool msix_pending(unsigned vector) const;

 private:
  struct Vector {
    bool in_use = false;
    bool bypassing_vmm = false;  // VFIO trigger is the KVM irqfd (not the VMM's eventfd)
    bool pending = false;
    std::uint32_t gsi = 0;
    MsiRoute route{};
    EventFd kvm;  // irqfd
    EventFd vmm;  // VMM handler: sets pending
  };
  VfioPciDevice(KvmVm& vm, Vfio& vfio, const VfioPciOptions& options);
  Status connect(pci::Function& f);
  void init_shadow();
  void emulate(std::uint32_t offset, unsigned size, std::uint32_t wmask);
  void memslot_changed(const Memslot* before, const Memslot* after);
  std::optional<std::pair<unsigned, std::uint64_t>> decode(std::uint64_t gpa, unsigned size) const;
  // MSI-X (vmm_msix.cc).
  bool msix_enabled() const;
  bool msix_function_masked() const;
  std::uint64_t msix_table_read(std::uint64_t offset, unsigned size) const;
  void msix_table_write(std::uint64_t offset, unsigned size, std::uint64_t value);
  void msix_control_written();
  void msix_update(unsigned vector);
  Status msix_vfio_grow(unsigned vector);
  void msix_release_all();
  void msi_written();
  void msi_release();

  KvmVm* vm_;
  Vfio* vfio_;
  VfioPciOptions options_;
  std::unique_ptr<VfioContainer> container_;
  VfioGroup* group_ = nullptr;
  VfioDevice* device_ = nullptr;
  std::size_t listener_ = 0;
  bool listening_ = false;
  std::uint32_t config_size_ = 0;
  std::array<std::uint8_t, 4096> cfg_{};     // emulated bytes
  std::array<std::uint8_t, 4096> wmask_{};   // guest-writable bits of emulated bytes
  std::array<bool, 4096> emulated_{};        // byte served from cfg_
  std::array<std::uint64_t, 6> bar_size_{};  // 0: no memory BAR
  std::array<bool, 6> bar64_{};
  struct MmapArea {
    unsigned bar;
    std::uint64_t offset, size, hpa;
  };
  std::vector<MmapArea> mmaps_;
  // MSI-X
  std::uint32_t msix_cap_ = 0;
  unsigned msix_bar_ = 0;
  std::uint64_t msix_table_offset_ = 0, msix_pba_offset_ = 0;
  unsigned msix_bar_pba_ = 0;
  std::vector<std::array<std::uint32_t, 4>> msix_table_;
  std::vector<std::unique_ptr<Vector>> vectors_;
  // MSI
  std::uint32_t msi_cap_ = 0;
  std::vector<std::unique_ptr<Vector>> msi_vectors_;
};

}  // namespace vtdsim::passthrough
