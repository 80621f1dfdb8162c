// Legacy KVM device assignment (KVM_ASSIGN_PCI_DEVICE and friends, in Linux until 4.12; facts
// only): the VM owns one IOMMU domain per remapping unit holding every memslot mapped GPA→HPA
// (read-only slots without write permission) and remapped when memslots change; an assigned
// device (claimed by pci-stub) and its DMA aliases are attached to it. Assigned MSI-X entries
// (KVM_ASSIGN_SET_MSIX_ENTRY: table entry → guest GSI) get host interrupts whose handler injects
// the GSI's MSI route into the guest (kvm_set_irq). Guest BARs map straight onto the device's
// BARs (the VMM's mmap of the resource files) except the MSI-X table, which the guest cannot
// write (the VMM traps that page).
// Not modelled: INTx assignment, the "iommu group must be wholly assigned" check of later
// kernels (only pci-stub binding is checked), posted interrupts (legacy assignment predates
// them), MSI-X table emulation (the caller picks entries and GSIs).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "model/error.h"
#include "model/stats.h"
#include "passthrough/guest_mmio.h"
#include "passthrough/host_kernel.h"
#include "passthrough/kvm_vm.h"
#include "pci/function.h"

namespace vtdsim::passthrough {

struct KvmAssignStats {
  std::uint64_t slots_mapped = 0;
  std::uint64_t slots_unmapped = 0;
  std::uint64_t msix_injections = 0;  // host MSI-X handler runs that injected a guest MSI

  static constexpr auto kFields = std::to_array<model::StatField<KvmAssignStats>>({
      {"slots_mapped", "ops", "memslots mapped into the VM's IOMMU domain",
       &KvmAssignStats::slots_mapped},
      {"slots_unmapped", "ops", "memslots unmapped from the VM's IOMMU domain",
       &KvmAssignStats::slots_unmapped},
      {"msix_injections", "interrupts", "guest MSIs injected by the host MSI-X handler",
       &KvmAssignStats::msix_injections},
  });
};

class KvmDeviceAssignment final : public GuestMmio {
 public:
  KvmDeviceAssignment(KvmVm& vm, HostKernel& kernel);
  ~KvmDeviceAssignment() override;
  KvmDeviceAssignment(const KvmDeviceAssignment&) = delete;
  KvmDeviceAssignment& operator=(const KvmDeviceAssignment&) = delete;

  // KVM_ASSIGN_PCI_DEVICE with KVM_DEV_ASSIGN_ENABLE_IOMMU. Errors (nothing changed): device
  // not bound to pci-stub, already assigned, no unit covers it.
  Status assign_device(pci::Function& f);
  Status deassign_device(pci::Function& f);
  // KVM_ASSIGN_SET_MSIX_NR/ENTRY + KVM_ASSIGN_DEV_IRQ(MSI-X): (table entry, guest GSI) pairs.
  Status assign_msix(pci::Function& f, std::span<const std::pair<unsigned, std::uint32_t>> entries);
  // Maps guest-physical [gpa, +bar size) onto BAR `bar` of f.
  Status map_bar(pci::Function& f, unsigned bar, std::uint64_t gpa);

  bool guest_mmio_read(std::uint64_t gpa, unsigned size, std::uint64_t* value) override;
  bool guest_mmio_write(std::uint64_t gpa, unsigned size, std::uint64_t value) override;

  // The VM's domain id on a unit, if created.
  std::optional<std::uint16_t> domain(std::size_t unit) const;
  const KvmAssignStats& stats() const { return stats_; }

 private:
  struct Assigned {
    pci::Function* function;
    std::size_t unit;
    std::vector<model::SourceId> sids;
    std::vector<HostIrq> irqs;
  };
  struct BarMap {
    pci::Function* function;
    unsigned bar;
    std::uint64_t gpa, size, hpa;
  };
  Expected<std::uint16_t> domain_for(std::size_t unit);
  Status map_slot(std::size_t unit, std::uint16_t did, const Memslot& s);
  void memslot_changed(const Memslot* before, const Memslot* after);
  void release_irqs(Assigned& a);

  KvmVm* vm_;
  HostKernel* kernel_;
  std::size_t listener_ = 0;
  std::map<std::size_t, std::uint16_t> domains_;  // unit → did
  std::vector<Assigned> assigned_;
  std::vector<BarMap> bars_;
  KvmAssignStats stats_;
};

}  // namespace vtdsim::passthrough
