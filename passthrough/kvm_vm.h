// A KVM virtual machine as the passthrough paths need it: memslots (guest-physical → host-
// physical), guest RAM backed by host frames, vCPUs each with a local APIC, the MSI routing
// table (GSI → MSI address/data), irqfds (an event that injects a GSI), and one
// posted-interrupt descriptor per vCPU in host memory (VT-d §9.11, facts §7.4) whose PIR the
// notification handler syncs into the vCPU's APIC.
// Not modelled: instruction execution, EPT (guest memory is accessed through memslots), APIC
// virtualization details beyond IRR, vCPU scheduling (a vCPU runs on a fixed host CPU).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "model/error.h"
#include "model/frame_allocator.h"
#include "model/interrupt_sink.h"
#include "model/physical_memory.h"
#include "model/stats.h"
#include "platform/local_apic.h"

namespace vtdsim::passthrough {

struct Memslot {
  std::uint32_t slot = 0;
  std::uint64_t gpa = 0;   // guest-physical base, 4 KiB aligned
  std::uint64_t size = 0;  // bytes, 4 KiB multiple
  std::uint64_t hpa = 0;   // host-physical base of a contiguous host range
  bool readonly = false;
};

struct VmConfig {
  unsigned vcpus = 2;
  std::uint64_t ram_bytes = 64ull << 20;           // guest RAM at GPA 0 (one memslot)
  std::uint8_t posted_notification_vector = 0xF2;  // host vector for PI notifications
  std::vector<std::uint32_t> host_cpus;            // host APIC id each vCPU runs on (default: i)
  bool x2apic = true;  // NDST encoding of the descriptors (must match IRTA.EIME)
};

// An eventfd: signal() counts and runs the consumers bound to it (KVM irqfd, VFIO triggers).
class EventFd {
 public:
  void signal();
  std::uint64_t count() const { return count_; }
  // Adds a consumer; returns its index.
  std::size_t bind(std::function<void()> consumer);
  // Removes the consumer with that index (other indexes stay valid).
  void unbind(std::size_t index) {
    if (index < consumers_.size()) consumers_[index] = nullptr;
  }
  void unbind_all() { consumers_.clear(); }
  std::size_t consumers() const {
    std::size_t n = 0;
    for (const auto& c : consumers_) n += c ? 1u : 0u;
    return n;
  }

 private:
  std::uint64_t count_ = 0;
  std::vector<std::function<void()>> consumers_;
};

struct MsiRoute {
  std::uint64_t address = 0;
  std::uint32_t data = 0;
};

struct KvmStats {
  std::uint64_t msi_injected = 0;  // MSIs delivered by software injection
  std::uint64_t irqfd_signals = 0;
  std::uint64_t unroutable_msi = 0;      // MSI to no vCPU
  std::uint64_t pi_notifications = 0;    // notification events handled
  std::uint64_t pir_vectors_synced = 0;  // vectors moved from PIR to a vCPU's IRR

  static constexpr auto kFields = std::to_array<model::StatField<KvmStats>>({
      {"msi_injected", "interrupts", "MSIs injected into a vCPU by KVM", &KvmStats::msi_injected},
      {"irqfd_signals", "events", "irqfd events consumed", &KvmStats::irqfd_signals},
      {"unroutable_msi", "interrupts", "MSIs that matched no vCPU", &KvmStats::unroutable_msi},
      {"pi_notifications", "events", "posted-interrupt notification events handled",
       &KvmStats::pi_notifications},
      {"pir_vectors_synced", "vectors", "vectors moved from a PIR into a vCPU's IRR",
       &KvmStats::pir_vectors_synced},
  });
};

class Vcpu {
 public:
  Vcpu(unsigned index, std::uint32_t host_cpu, std::uint64_t pid_address)
      : index_(index), host_cpu_(host_cpu), pid_address_(pid_address), apic_(index) {}
  unsigned index() const { return index_; }
  std::uint32_t apic_id() const { return apic_.apic_id(); }
  std::uint32_t host_cpu() const { return host_cpu_; }
  std::uint64_t pid_address() const { return pid_address_; }
  platform::LocalApic& apic() { return apic_; }
  const platform::LocalApic& apic() const { return apic_; }

 private:
  unsigned index_;
  std::uint32_t host_cpu_;
  std::uint64_t pid_address_;
  platform::LocalApic apic_;
};

// What other KVM components (the VFIO irq-bypass consumer, legacy assignment) watch.
struct KvmListener {
  std::function<void(EventFd& fd, std::uint32_t gsi)> irqfd_added;
  std::function<void(EventFd& fd, std::uint32_t gsi)> irqfd_removed;
  std::function<void(std::uint32_t gsi)> route_changed;
  // A memslot changed: before is null for a new slot, after is null for a deleted one.
  std::function<void(const Memslot* before, const Memslot* after)> memslot_changed;
};

class KvmVm {
 public:
  // Allocates guest RAM and the posted-interrupt descriptors from `frames`.
  static Expected<std::unique_ptr<KvmVm>> create(model::PhysicalMemory& memory,
                                                 model::FrameAllocator& frames,
                                                 const VmConfig& config);

  // KVM_SET_USER_MEMORY_REGION: adds or replaces a slot (size 0 deletes). Overlap with another
  // slot, misalignment or a host range beyond memory is an error and changes nothing.
  Status set_memslot(const Memslot& slot);
  const std::vector<Memslot>& memslots() const { return slots_; }
  // Guest-physical → host-physical through the memslots.
  Expected<std::uint64_t> gpa_to_hpa(std::uint64_t gpa) const;
  // Guest memory access (may cross slots as long as every byte is in one).
  Status write_guest(std::uint64_t gpa, std::span<const std::byte> bytes);
  Status read_guest(std::uint64_t gpa, std::span<std::byte> bytes) const;

  unsigned vcpu_count() const { return static_cast<unsigned>(vcpus_.size()); }
  Vcpu& vcpu(unsigned i) { return *vcpus_.at(i); }

  // KVM_SET_GSI_ROUTING for one GSI (an MSI route).
  Status set_msi_route(std::uint32_t gsi, MsiRoute route);
  // KVM_SIGNAL_MSI / injection of a compatibility-format guest MSI: delivered to the vCPU(s)
  // whose APIC id matches the destination.
  void inject_msi(std::uint64_t address, std::uint32_t data);
  // KVM_IRQFD: signalling `fd` injects `gsi`'s route. Error when the GSI has no route or the
  // eventfd is already an irqfd of this VM (EBUSY in KVM).
  Status add_irqfd(EventFd& fd, std::uint32_t gsi);
  // KVM_IRQFD with KVM_IRQFD_FLAG_DEASSIGN. kNotFound when (fd, gsi) is not an irqfd.
  Status remove_irqfd(EventFd& fd, std::uint32_t gsi);
  // The GSI of the irqfd on fd, if any.
  std::optional<std::uint32_t> irqfd_gsi(const EventFd& fd) const;
  // Listeners are called after the change took effect; returns an id for remove_listener.
  std::size_t add_listener(KvmListener listener);
  void remove_listener(std::size_t id);
  Expected<MsiRoute> route(std::uint32_t gsi) const;
  // A free GSI for an MSI route, as the VMM hands them out (above the 24 IOAPIC pins).
  std::uint32_t allocate_gsi() { return next_gsi_++; }

  // The host's posted-interrupt notification handler for host CPU `host_apic_id`: sync the
  // PIR of every vCPU running there into its APIC (clearing ON and the PIR bits).
  void handle_posted_notification(std::uint32_t host_apic_id);
  // Syncs one vCPU's PIR (as on VM entry).
  unsigned sync_pir(Vcpu& vcpu);
  // Sets SN (suppress notification) in a vCPU's descriptor, as when it is descheduled.
  Status set_suppress_notification(Vcpu& vcpu, bool sn);

  std::uint8_t posted_notification_vector() const { return config_.posted_notification_vector; }
  const KvmStats& stats() const { return stats_; }
  model::PhysicalMemory& memory() { return *memory_; }

 private:
  KvmVm(model::PhysicalMemory& memory, const VmConfig& config);
  Vcpu* vcpu_for(std::uint32_t apic_id);

  model::PhysicalMemory* memory_;
  VmConfig config_;
  std::vector<Memslot> slots_;
  std::vector<std::unique_ptr<Vcpu>> vcpus_;
  std::vector<std::pair<std::uint32_t, MsiRoute>> routes_;
  struct Irqfd {
    EventFd* fd;
    std::uint32_t gsi;
    std::size_t consumer;
  };
  std::vector<Irqfd> irqfds_;
  std::uint32_t next_gsi_ = 24;
  std::vector<KvmListener> listeners_;  // removed ones are left empty
  KvmStats stats_;
};

}  // namespace vtdsim::passthrough
