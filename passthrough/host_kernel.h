// The host kernel's IOMMU and interrupt plumbing for one platform::Machine, as Linux sets it
// up: at boot one VT-d DMA-remapping driver and one interrupt-remapping driver per unit
// (translation and interrupt remapping enabled, VT-d §11.4.4); driver binding of PCI functions
// (what VFIO group viability looks at); host interrupts for a device (an IRTE, a vector on a
// host CPU and its handler: what pci_alloc_irq_vectors + request_irq do) and switching that
// IRTE between remapped and posted format (§9.10/§9.11); the posted-interrupt notification
// handler that lets every VM with a vCPU on that CPU sync its PIR; the irq bypass manager.
// Not modelled: host DMA-API domains for host-bound devices (they stay blocked), RMRR domains,
// vector migration, IOAPIC/INTx routing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "host/ir_driver.h"
#include "host/vtd_driver.h"
#include "irq_remap/msi.h"
#include "model/error.h"
#include "model/stats.h"
#include "passthrough/irq_bypass.h"
#include "pci/function.h"
#include "platform/machine.h"

namespace vtdsim::passthrough {

class KvmVm;

// Which host driver a PCI function is bound to.
enum class DriverBinding : std::uint8_t {
  kNone,     // no driver
  kHost,     // a host kernel driver (e.g. the NIC's own driver): owns the device's DMA
  kVfioPci,  // vfio-pci
  kPciStub,  // pci-stub (legacy KVM assignment claims devices through it)
};
const char* to_string(DriverBinding binding);

struct HostKernelConfig {
  host::DriverConfig dma{};
  host::IrDriverConfig ir{};
  std::uint8_t first_vector = 0x30;  // device vectors are taken from [first, last]
  std::uint8_t last_vector = 0xEF;
};

// One host interrupt of a device: its IRTE (the remappable MSI handle) and the host vector.
struct HostIrq {
  std::size_t unit = 0;  // remapping unit index
  std::uint16_t irte = 0;
  std::uint32_t cpu = 0;  // host APIC id
  std::uint8_t vector = 0;
  model::SourceId requester{};
  bool posted = false;
};

struct HostKernelStats {
  std::uint64_t irqs_requested = 0;
  std::uint64_t irqs_freed = 0;
  std::uint64_t host_irqs_handled = 0;  // device interrupts that reached their handler
  std::uint64_t spurious_irqs = 0;      // vectors with no handler
  std::uint64_t irte_posted = 0;        // IRTEs switched to posted format
  std::uint64_t irte_remapped = 0;      // IRTEs switched back to remapped format
  std::uint64_t pi_notifications = 0;   // posted-interrupt notification events handled

  static constexpr auto kFields = std::to_array<model::StatField<HostKernelStats>>({
      {"irqs_requested", "irqs", "device interrupts allocated", &HostKernelStats::irqs_requested},
      {"irqs_freed", "irqs", "device interrupts freed", &HostKernelStats::irqs_freed},
      {"host_irqs_handled", "interrupts", "device interrupts handled on a host CPU",
       &HostKernelStats::host_irqs_handled},
      {"spurious_irqs", "interrupts", "interrupts on a vector without handler",
       &HostKernelStats::spurious_irqs},
      {"irte_posted", "ops", "IRTEs programmed in posted format", &HostKernelStats::irte_posted},
      {"irte_remapped", "ops", "IRTEs programmed back to remapped format",
       &HostKernelStats::irte_remapped},
      {"pi_notifications", "events", "posted-interrupt notification events",
       &HostKernelStats::pi_notifications},
  });
};

class HostKernel {
 public:
  // Brings up every unit: DMA remapping (root table, QI), interrupt remapping (when ECAP.IR),
  // then translation. Every device starts without a context entry (DMA blocked).
  static Expected<std::unique_ptr<HostKernel>> boot(platform::Machine& machine,
                                                    const HostKernelConfig& config = {});
  HostKernel(const HostKernel&) = delete;
  HostKernel& operator=(const HostKernel&) = delete;

  platform::Machine& machine() { return *machine_; }
  model::PhysicalMemory& memory() { return machine_->memory(); }
  model::FrameAllocator& frames() { return machine_->frame_allocator(); }

  // ---- IOMMU drivers ----
  // The unit covering f (its requester id, as the DRHD scope does). kUnsupported for none.
  Expected<std::size_t> unit_of(const pci::Function& f) const;
  host::VtdDriver& dma_driver(std::size_t unit) { return *units_.at(unit).dma; }
  host::IrDriver* ir_driver(std::size_t unit) { return units_.at(unit).ir.get(); }
  // CAP.PI of the unit: posted interrupts supported (§11.4.2).
  bool posting_supported(std::size_t unit) const;
  // The ids f's DMA carries (own id first, then bridge aliases), de-duplicated.
  std::vector<model::SourceId> dma_source_ids(const pci::Function& f) const;

  // ---- driver binding ----
  DriverBinding binding(const pci::Function& f) const;
  void bind(const pci::Function& f, DriverBinding driver);

  // ---- device interrupts ----
  // Allocates `count` IRTEs (one naturally aligned block when `block`, as multi-vector MSI
  // needs) and a vector for each on a host CPU (round robin), programs remapped IRTEs with
  // source validation for f's requester id (bus range when a bridge substitutes it).
  Expected<std::vector<HostIrq>> request_irqs(const pci::Function& f, unsigned count, bool block);
  Status free_irqs(const std::vector<HostIrq>& irqs, bool block);
  // The handler run when the interrupt arrives on its host CPU (null: spurious).
  void set_handler(const HostIrq& irq, std::function<void()> handler);
  // The remappable MSI address/data for the IRTE (what the device's table is written with).
  irq_remap::MsiMessage msi_message(const HostIrq& irq) const;
  // Device programming as a host driver does it: one MSI-X table entry (through the BAR),
  // the MSI-X control bits, the MSI capability (address, data, MME, enable).
  void write_msix_entry(pci::Function& f, unsigned vector, const irq_remap::MsiMessage& msg,
                        bool masked);
  void set_msix_control(pci::Function& f, bool enable, bool function_mask);
  void write_msi(pci::Function& f, const irq_remap::MsiMessage& msg, unsigned vectors, bool enable);
  // IRQ bypass: post the interrupt into descriptor `pda` as guest `vector`, or back to the host.
  Status set_posted(HostIrq& irq, std::uint64_t pda, std::uint8_t vector);
  Status set_remapped(HostIrq& irq);

  // ---- KVM ----
  // Installs the notification handler for vm's notification vector on every host CPU; the
  // handler syncs the PIR of every registered VM with a vCPU on that CPU.
  void register_vm(KvmVm& vm);
  void unregister_vm(KvmVm& vm);

  IrqBypassManager& irq_bypass() { return bypass_; }
  const HostKernelStats& stats() const { return stats_; }

 private:
  struct Unit {
    std::unique_ptr<host::VtdDriver> dma;
    std::unique_ptr<host::IrDriver> ir;
  };
  HostKernel(platform::Machine& machine, const HostKernelConfig& config);
  Expected<std::uint8_t> allocate_vector(std::uint32_t cpu);
  host::SourceValidation validation_for(const pci::Function& f) const;
  Status program_remapped(const HostIrq& irq);
  void dispatch(std::uint32_t cpu, std::uint8_t vector);
  void notification(std::uint32_t cpu, std::uint8_t vector);

  platform::Machine* machine_;
  HostKernelConfig config_;
  std::vector<Unit> units_;
  std::map<const pci::Function*, DriverBinding> bindings_;
  // Per host CPU: vector → handler (empty function = allocated, no handler yet).
  std::vector<std::map<std::uint8_t, std::function<void()>>> vectors_;
  std::uint32_t next_cpu_ = 0;
  std::vector<KvmVm*> vms_;
  IrqBypassManager bypass_;
  HostKernelStats stats_;
};

}  // namespace vtdsim::passthrough
