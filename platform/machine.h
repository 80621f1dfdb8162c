// The machine (DESIGN.md "platform/"): physical memory, the remapping units of a DMAR-like
// description with their device scopes (VT-d spec ch. 8), the enumerated PCI hierarchy, and the
// host CPUs' local APICs on an APIC bus. It routes each device DMA to the unit covering its
// source-id, interrupt-window writes to that unit's interrupt remapping (compatibility delivery
// when no unit covers the device), MMIO to unit registers and BARs, configuration requests to
// the hierarchy, and device-TLB invalidations to ATS devices. Memory map: machine_config.h.
// Not modelled: DMA to MMIO (peer-to-peer; DMA reaches memory only), IOAPIC, MSI delivery time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "iommu/remapping_unit.h"
#include "model/dma_translator.h"
#include "model/error.h"
#include "model/frame_allocator.h"
#include "model/physical_memory.h"
#include "model/stats.h"
#include "pci/dma_port.h"
#include "pci/iommu_group.h"
#include "pci/topology.h"
#include "platform/device_tlb_router.h"
#include "platform/local_apic.h"
#include "platform/machine_config.h"
#include "platform/scope_map.h"
#include "platform/topology_builder.h"

namespace vtdsim::platform {

struct MachineStats {
  std::uint64_t dma_requests = 0;    // translations requested by devices
  std::uint64_t dma_unremapped = 0;  // ... from a source-id no unit covers
  std::uint64_t msi_writes = 0;      // interrupt-window writes delivered by devices
  std::uint64_t msi_unremapped = 0;  // ... decoded as compatibility MSIs (no unit)
  std::uint64_t mmio_reads = 0;
  std::uint64_t mmio_writes = 0;
  std::uint64_t mmio_unclaimed_reads = 0;  // returned all-ones
  std::uint64_t mmio_dropped_writes = 0;   // nothing decoded the address
  std::uint64_t dev_tlb_forwarded = 0;     // device-TLB invalidations reaching an ATS device
  std::uint64_t dev_tlb_unclaimed = 0;     // ... naming no ATS device behind the unit

  static constexpr auto kFields = std::to_array<model::StatField<MachineStats>>({
      {"dma_requests", "requests", "device DMA translations routed", &MachineStats::dma_requests},
      {"dma_unremapped", "requests", "DMA from source-ids no remapping unit covers",
       &MachineStats::dma_unremapped},
      {"msi_writes", "messages", "interrupt-window writes by devices", &MachineStats::msi_writes},
      {"msi_unremapped", "messages", "MSIs delivered in compatibility format (no unit)",
       &MachineStats::msi_unremapped},
      {"mmio_reads", "accesses", "CPU MMIO reads", &MachineStats::mmio_reads},
      {"mmio_writes", "accesses", "CPU MMIO writes", &MachineStats::mmio_writes},
      {"mmio_unclaimed_reads", "accesses", "MMIO reads nothing decoded (all-ones)",
       &MachineStats::mmio_unclaimed_reads},
      {"mmio_dropped_writes", "accesses", "MMIO writes nothing decoded (dropped)",
       &MachineStats::mmio_dropped_writes},
      {"dev_tlb_forwarded", "requests", "device-TLB invalidations delivered to ATS devices",
       &MachineStats::dev_tlb_forwarded},
      {"dev_tlb_unclaimed", "requests", "device-TLB invalidations for no ATS device",
       &MachineStats::dev_tlb_unclaimed},
  });
};

class Machine final : public model::DmaTranslator, public pci::MsiTarget {
 public:
  // Validates the config (MachineConfig::validate), builds memory, units, APICs and the PCI
  // tree, enumerates it as firmware does (config.enumeration) and resolves the scopes.
  static Expected<std::unique_ptr<Machine>> create(const MachineConfig& config);
  ~Machine() override;
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  const MachineConfig& config() const { return config_; }

  // ---- memory ----
  model::PhysicalMemory& memory() { return memory_; }
  // Zeroed frames from [low_ram_end - host_memory_size, low_ram_end), for host software.
  model::FrameAllocator& frame_allocator() { return *frames_; }

  // ---- remapping units ----
  std::size_t unit_count() const { return units_.size(); }
  iommu::RemappingUnit& unit(std::size_t i) { return *units_.at(i); }
  std::uint64_t unit_register_base(std::size_t i) const { return config_.unit_register_base(i); }
  // The unit covering sid (explicit scope, then INCLUDE_PCI_ALL), or null: no remapping.
  iommu::RemappingUnit* unit_for(model::SourceId sid) {
    const std::uint8_t u = scopes_.unit_of(sid);
    return u == ScopeMap::kNoUnit ? nullptr : units_[u].get();
  }
  std::optional<std::size_t> unit_index_for(model::SourceId sid) const {
    const std::uint8_t u = scopes_.unit_of(sid);
    return u == ScopeMap::kNoUnit ? std::nullopt : std::optional<std::size_t>(u);
  }
  const std::vector<ResolvedScope>& scopes() const { return scopes_.entries(); }
  const std::vector<Rmrr>& rmrrs() const { return rmrrs_; }

  // ---- PCI ----
  pci::RootComplex& root_complex() { return rc_; }
  const pci::RootComplex& root_complex() const { return rc_; }
  // The function a PciNode named, or null.
  pci::Function* function(std::string_view name) const;
  template <class T>
  T* device(std::string_view name) const {
    return dynamic_cast<T*>(function(name));
  }
  std::vector<pci::Function*> functions() const { return rc_.functions(); }
  std::vector<pci::IommuGroup> iommu_groups() const { return pci::compute_iommu_groups(rc_); }
  const pci::EnumerationResult& enumeration() const { return enumeration_; }

  // ---- CPUs ----
  std::size_t cpu_count() const { return apics_.size(); }
  LocalApic& apic(std::size_t i) { return *apics_.at(i); }
  ApicBus& apic_bus() { return apic_bus_; }

  // ---- routing ----
  // Device DMA: to the covering unit; with none, untranslated (hpa = address, read/write),
  // except interrupt-window requests (kInterruptWindow) and ATS translation requests, which
  // fail (reason 0, not recorded): without remapping hardware nothing answers them.
  model::Translation translate(const model::DmaRequest& request) override;
  // Interrupt-window writes: the covering unit's remap_interrupt (it delivers the result on the
  // APIC bus); with none, the compatibility-format MSI goes straight to the APIC bus.
  void deliver_msi(model::SourceId source_id, std::uint64_t address, std::uint32_t data,
                   model::Cycle time) override;

  // CPU MMIO of 1/2/4/8 bytes: a unit's register window (the unit decides which sizes it
  // takes), else a memory BAR with memory decode enabled; else reads are all-ones and writes
  // are dropped, both counted.
  std::uint64_t mmio_read(std::uint64_t address, unsigned size);
  void mmio_write(std::uint64_t address, unsigned size, std::uint64_t value);

  // Configuration requests by bus:dev.fn, as through ECAM.
  std::uint32_t config_read(model::SourceId bdf, std::uint32_t offset, unsigned size) const {
    return rc_.config_read(bdf, offset, size);
  }
  void config_write(model::SourceId bdf, std::uint32_t offset, unsigned size, std::uint32_t value) {
    rc_.config_write(bdf, offset, size, value);
  }

  MachineStats stats() const;
  void reset_stats();

 private:
  explicit Machine(const MachineConfig& config);
  Status build();
  // The unit whose register window holds [address, address+size), or -1.
  int unit_at(std::uint64_t address, unsigned size) const;

  MachineConfig config_;
  model::PhysicalMemory memory_;
  std::unique_ptr<model::FrameAllocator> frames_;
  std::vector<std::unique_ptr<LocalApic>> apics_;
  ApicBus apic_bus_;
  std::vector<std::unique_ptr<iommu::RemappingUnit>> units_;
  std::vector<std::unique_ptr<DeviceTlbRouter>> routers_;  // one per unit
  pci::RootComplex rc_;
  FunctionsByName names_;
  pci::EnumerationResult enumeration_{};
  ScopeMap scopes_;
  std::vector<Rmrr> rmrrs_;
  MachineStats stats_;
};

}  // namespace vtdsim::platform
