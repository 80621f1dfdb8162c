// The `vtdsim demo` scenario: a VM with a NIC assigned through VFIO (vfio-pci, type1 IOMMU,
// IOVA = GPA) receiving traffic. A guest driver fills each RX ring with guest buffers through
// the guest's view of the BARs, packets are injected from the wire, MSI-X reaches the vCPUs
// (remapped through the host handler and irqfd, or posted via the KVM-VFIO device; VT-d spec
// 5.1 and 5.2), the driver services each interrupt, checks the bytes in guest memory and
// re-arms the descriptors. Not modelled: guest instruction execution, TX, interrupt moderation.
#pragma once

#include <cstdint>
#include <string>

#include "iommu/dma_remapper.h"
#include "irq_remap/ir_stats.h"
#include "model/error.h"
#include "model/stats.h"

namespace vtdsim::workload {

struct PassthroughDemoOptions {
  std::uint64_t packets = 4096;
  std::uint32_t packet_size = 1500;  // [1, 2048]: one RX buffer per packet
  unsigned queues = 1;               // [1, 8]: RX queue q uses MSI-X vector q, vCPU q % 2
  bool posted = true;                // KVM-VFIO bypass: posted interrupts; off: remapped
  std::uint64_t seed = 1;            // payload bytes
};

// Interrupt counters of the run, across the unit, the host kernel, KVM and the guest.
struct DemoInterruptStats {
  std::uint64_t nic_interrupts = 0;      // MSI-X messages the NIC raised
  std::uint64_t remapped = 0;            // unit: remapped-format IRTEs used
  std::uint64_t posted = 0;              // unit: posted-format IRTEs used
  std::uint64_t notifications = 0;       // unit: posted-interrupt notification events sent
  std::uint64_t host_irqs_handled = 0;   // host kernel: device interrupts handled (remapped)
  std::uint64_t kvm_msi_injected = 0;    // KVM: MSIs injected by software (irqfd)
  std::uint64_t pir_vectors_synced = 0;  // KVM: vectors moved from PIR into a vCPU's IRR
  std::uint64_t vcpu_vectors = 0;        // guest: vectors acknowledged on its vCPUs
  static constexpr auto kFields = std::to_array<model::StatField<DemoInterruptStats>>({
      {"nic_interrupts", "interrupts", "MSI-X messages the NIC raised",
       &DemoInterruptStats::nic_interrupts},
      {"remapped", "interrupts", "interrupts remapped by the unit", &DemoInterruptStats::remapped},
      {"posted", "interrupts", "interrupts posted by the unit", &DemoInterruptStats::posted},
      {"notifications", "interrupts", "posted-interrupt notifications sent",
       &DemoInterruptStats::notifications},
      {"host_irqs_handled", "interrupts", "device interrupts handled by the host kernel",
       &DemoInterruptStats::host_irqs_handled},
      {"kvm_msi_injected", "interrupts", "MSIs injected by KVM (irqfd)",
       &DemoInterruptStats::kvm_msi_injected},
      {"pir_vectors_synced", "vectors", "vectors synced from PIR into a vCPU",
       &DemoInterruptStats::pir_vectors_synced},
      {"vcpu_vectors", "vectors", "vectors acknowledged by the guest",
       &DemoInterruptStats::vcpu_vectors},
  });
};

struct PassthroughDemoResult {
  PassthroughDemoOptions options;
  std::uint64_t packets_received = 0;  // delivered and verified in guest memory
  std::uint64_t bytes_received = 0;
  std::uint64_t payload_mismatches = 0;  // packets whose guest bytes differ (0 when correct)
  std::uint64_t unit_faults = 0;         // fault records the unit wrote
  iommu::DmaRemapStats dma;
  irq_remap::IrStats ir;
  DemoInterruptStats interrupts;
  std::string text;  // the formatted report (deterministic)
};

// Builds the machine (one unit with IR and PI), the host kernel, a 2-vCPU VM with the NIC
// realized through VFIO, and runs the traffic. Errors: options out of range, or a setup step
// of the stack failing (with its message).
Expected<PassthroughDemoResult> run_passthrough_demo(const PassthroughDemoOptions& options);

// The result as JSON (one object).
std::string passthrough_demo_json(const PassthroughDemoResult& result);

}  // namespace vtdsim::workload
