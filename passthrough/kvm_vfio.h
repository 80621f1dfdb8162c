// The KVM-VFIO pseudo device and KVM's posted-interrupt bypass (Linux virt/kvm/vfio.c and the
// x86 irqfd bypass consumer, facts only): KVM_DEV_VFIO_GROUP_ADD/DEL tell KVM which VFIO groups
// the VM uses. Every irqfd of the VM is an irq-bypass consumer; when it meets a VFIO producer
// (same eventfd) of a device in one of those groups, behind a unit with CAP.PI, and the irqfd's
// MSI route targets exactly one vCPU with fixed or lowest-priority delivery in physical mode,
// the device vector's IRTE becomes a posted IRTE (VT-d §9.11) with the guest vector and that
// vCPU's descriptor; otherwise it stays remapped to the host handler, which signals the eventfd
// (irqfd injection). A route change re-evaluates the connection; disconnecting restores the
// remapped IRTE.
// Not modelled: multicast/broadcast posting (Linux falls back to remapped as well), vCPU
// migration updating NDST, wakeup vectors for blocked vCPUs.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "model/error.h"
#include "model/stats.h"
#include "passthrough/host_kernel.h"
#include "passthrough/kvm_vm.h"

namespace vtdsim::passthrough {

class VfioGroup;

struct KvmVfioStats {
  std::uint64_t connections = 0;    // producer/consumer pairs connected
  std::uint64_t posted = 0;         // IRTEs programmed posted
  std::uint64_t remapped = 0;       // connections left (or put back) remapped
  std::uint64_t post_failures = 0;  // IRTE programming that failed (kept remapped)

  static constexpr auto kFields = std::to_array<model::StatField<KvmVfioStats>>({
      {"connections", "ops", "irq bypass connections made", &KvmVfioStats::connections},
      {"posted", "ops", "IRTEs switched to posted format", &KvmVfioStats::posted},
      {"remapped", "ops", "connections left in or returned to remapped format",
       &KvmVfioStats::remapped},
      {"post_failures", "ops", "posted IRTE updates that failed", &KvmVfioStats::post_failures},
  });
};

class KvmVfioDevice {
 public:
  // KVM_CREATE_DEVICE(KVM_DEV_TYPE_VFIO) on vm. Registers the VM with the kernel's
  // notification handler and makes every irqfd (present and future) a bypass consumer.
  KvmVfioDevice(KvmVm& vm, HostKernel& kernel);
  ~KvmVfioDevice();
  KvmVfioDevice(const KvmVfioDevice&) = delete;
  KvmVfioDevice& operator=(const KvmVfioDevice&) = delete;

  // KVM_DEV_VFIO_GROUP_ADD / DEL. kAlreadyExists / kNotFound on repeats.
  Status add_group(VfioGroup& group);
  Status del_group(VfioGroup& group);
  bool covers(const pci::Function& f) const;

  // Whether the connection on eventfd `fd` is currently posted.
  bool posted(const EventFd& fd) const;
  const KvmVfioStats& stats() const { return stats_; }

 private:
  struct Connection {
    BypassProducer producer;
    std::uint32_t gsi = 0;
    bool posted = false;
  };
  void irqfd_added(EventFd& fd, std::uint32_t gsi);
  void irqfd_removed(EventFd& fd);
  void update(Connection& c);
  void unpost(Connection& c);

  KvmVm* vm_;
  HostKernel* kernel_;
  std::size_t listener_ = 0;
  std::vector<VfioGroup*> groups_;
  std::map<const EventFd*, IrqBypassManager::Handle> consumers_;
  std::map<const EventFd*, Connection> connections_;
  KvmVfioStats stats_;
};

}  // namespace vtdsim::passthrough
