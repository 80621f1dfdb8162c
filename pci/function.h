// One PCI function: its configuration space (type 0 or type 1 header), BARs with memory decode
// and bus-master control (PCI 3.0 §6.2), capabilities, MSI / MSI-X signalling with masking and
// pending bits (PCI 3.0 §6.8), its DMA port and the MMIO handlers devices override.
// A conventional PCI function (no PCI Express capability) has only 256 bytes of config space.
// Not modelled: INTx (a function with neither MSI nor MSI-X enabled drops its interrupts),
// function-level reset, power-state effects.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "model/dma_translator.h"
#include "model/physical_memory.h"
#include "model/stats.h"
#include "model/types.h"
#include "pci/bar.h"
#include "pci/capabilities.h"
#include "pci/config_space.h"
#include "pci/dma_port.h"
#include "pci/msix_table.h"

namespace vtdsim::pci {

class Bus;

struct FunctionIdentity {
  std::uint16_t vendor_id = 0x8086;
  std::uint16_t device_id = 0;
  std::uint32_t class_code = 0;  // base class 23:16, sub-class 15:8, prog-if 7:0
  std::uint8_t revision = 0;
};

enum class InterruptOutcome : std::uint8_t {
  kDelivered,   // the message left the function (MsiTarget or memory)
  kPended,      // masked: the pending bit is set
  kNotEnabled,  // neither MSI nor MSI-X is enabled (INTx is not modelled)
  kBadVector,   // vector beyond the enabled/allocated vectors
  kFailed,      // bus mastering off, or the write was blocked
};

struct InterruptStats {
  std::uint64_t signalled = 0;
  std::uint64_t delivered = 0;
  std::uint64_t pended = 0;
  std::uint64_t dropped = 0;

  static constexpr auto kFields = std::to_array<model::StatField<InterruptStats>>({
      {"signalled", "interrupts", "interrupt events raised by the device",
       &InterruptStats::signalled},
      {"delivered", "messages", "MSI/MSI-X messages sent (including flushed pending ones)",
       &InterruptStats::delivered},
      {"pended", "interrupts", "events held in a pending bit because the vector was masked",
       &InterruptStats::pended},
      {"dropped", "interrupts", "events lost: not enabled, bad vector or blocked write",
       &InterruptStats::dropped},
  });
};

class Function {
 public:
  explicit Function(FunctionIdentity identity, HeaderType type = HeaderType::kType0);
  virtual ~Function();
  Function(const Function&) = delete;
  Function& operator=(const Function&) = delete;

  // ---- identity and place in the topology ----
  HeaderType header_type() const { return header_type_; }
  unsigned bar_count() const {
    return header_type_ == HeaderType::kType0 ? cfg::kType0Bars : cfg::kType1Bars;
  }
  Bus* bus() const { return bus_; }
  unsigned devfn() const { return devfn_; }
  // The function's own requester id: its bus's current number and its devfn.
  model::SourceId requester_id() const;
  bool multifunction() const;
  bool is_pcie() const { return pcie_offset_.has_value(); }
  std::optional<PortType> port_type() const { return port_type_; }
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  // A quirk alias (Linux PCI_DEV_FLAGS_DMA_ALIAS_DEVFN style): the function also issues DMA
  // as devfn `alias` on its own bus.
  void set_dma_alias_devfn(std::optional<std::uint8_t> alias) { dma_alias_devfn_ = alias; }
  std::optional<std::uint8_t> dma_alias_devfn() const { return dma_alias_devfn_; }

  // ---- configuration space ----
  // Guest configuration requests. Bad size/alignment/range: all-ones / ignored.
  std::uint32_t config_read(std::uint32_t offset, unsigned size) const;
  void config_write(std::uint32_t offset, unsigned size, std::uint32_t value);
  ConfigSpace& config() { return config_; }
  const ConfigSpace& config() const { return config_; }
  std::uint16_t command() const { return config_.get16(cfg::kCommand); }
  bool memory_enabled() const { return command::MSE::get(command()) != 0; }
  bool bus_master_enabled() const { return command::BME::get(command()) != 0; }
  // Sets status bits the way hardware does (e.g. status::RMA on a UR completion).
  void set_status_bits(std::uint16_t bits);

  // ---- capabilities (device construction) ----
  Expected<std::uint32_t> add_pm_capability();
  Expected<std::uint32_t> add_msi_capability(const MsiConfig& config);
  Expected<std::uint32_t> add_msix_capability(const MsixConfig& config);
  Expected<std::uint32_t> add_pcie_capability(PortType type);
  Expected<std::uint32_t> add_acs_capability(std::uint16_t capability);
  Expected<std::uint32_t> add_ats_capability(const AtsConfig& config);
  Expected<std::uint32_t> add_pasid_capability(const PasidConfig& config);
  std::optional<std::uint32_t> msi_offset() const { return msi_offset_; }
  std::optional<std::uint32_t> msix_offset() const { return msix_offset_; }
  std::optional<std::uint32_t> pcie_offset() const { return pcie_offset_; }
  std::optional<std::uint32_t> acs_offset() const { return acs_offset_; }
  std::optional<std::uint32_t> ats_offset() const { return ats_offset_; }
  std::optional<std::uint32_t> pasid_offset() const { return pasid_offset_; }
  bool ats_enabled() const;
  bool pasid_enabled() const;

  // ---- BARs and MMIO ----
  Status define_bar(unsigned index, const BarSpec& spec);
  const BarSpec& bar_spec(unsigned index) const { return bars_[index % 6]; }
  // The base the guest programmed (type bits stripped).
  std::uint64_t bar_address(unsigned index) const;
  struct BarHit {
    unsigned bar;
    std::uint64_t offset;
  };
  // The memory BAR holding [address, address+size) if memory decode is enabled.
  std::optional<BarHit> decode_mmio(std::uint64_t address, unsigned size) const;
  // BAR-relative accesses of 1/2/4/8 bytes; the MSI-X table and PBA are served here, the rest
  // goes to the device's bar_read/bar_write. Out-of-BAR offsets read all-ones.
  std::uint64_t mmio_read(unsigned bar, std::uint64_t offset, unsigned size);
  void mmio_write(unsigned bar, std::uint64_t offset, unsigned size, std::uint64_t value);

  // ---- DMA, interrupts, time ----
  DmaPort& dma() { return dma_; }
  const DmaPort& dma() const { return dma_; }
  void connect(model::DmaTranslator& translator, model::PhysicalMemory& memory, MsiTarget* msi);
  bool msi_enabled() const;
  bool msix_enabled() const;
  // Raises interrupt `vector` through MSI-X (if enabled) or MSI (if enabled).
  InterruptOutcome signal_interrupt(unsigned vector);
  bool msi_pending(unsigned vector) const;
  bool msix_pending(unsigned vector) const;
  const MsixTable* msix_table() const { return msix_table_.get(); }
  const InterruptStats& interrupt_stats() const { return irq_stats_; }
  // Device time: requests are stamped with now(). Devices with timers override advance().
  model::Cycle now() const { return now_; }
  virtual void advance(model::Cycle now) { now_ = now; }

 protected:
  // Device register handlers for BAR accesses outside the MSI-X structures. Defaults: reads
  // return zero, writes are ignored.
  virtual std::uint64_t bar_read(unsigned bar, std::uint64_t offset, unsigned size);
  virtual void bar_write(unsigned bar, std::uint64_t offset, unsigned size, std::uint64_t value);
  // Called after a guest config write has been applied through the masks.
  virtual void config_written(std::uint32_t offset, unsigned size);
  DmaAttrs attrs_now() const {
    DmaAttrs a;
    a.arrival = now_;
    return a;
  }
  // Records a failed DMA the way a requester sees it: UR/CA completions of reads set RMA.
  void note_dma_error(const DmaResult& result, bool was_read);

 private:
  friend class Bus;
  void attach_to(Bus* bus, unsigned devfn) {
    bus_ = bus;
    devfn_ = devfn;
  }
  void set_multifunction(bool mf);
  bool touches(std::uint32_t offset, unsigned size, std::uint32_t reg, unsigned reg_size) const;
  InterruptOutcome send(std::uint64_t address, std::uint32_t data);
  InterruptOutcome msi_send(unsigned vector);
  void msi_flush_pending();
  void msix_flush_pending();

  HeaderType header_type_;
  ConfigSpace config_;
  CapabilityChain chain_;
  std::array<BarSpec, 6> bars_{};
  Bus* bus_ = nullptr;
  unsigned devfn_ = 0;
  std::string name_;
  std::optional<std::uint8_t> dma_alias_devfn_;
  std::optional<std::uint32_t> msi_offset_, msix_offset_, pcie_offset_, acs_offset_, ats_offset_,
      pasid_offset_;
  std::optional<PortType> port_type_;
  MsixConfig msix_config_;
  std::unique_ptr<MsixTable> msix_table_;
  DmaPort dma_;
  InterruptStats irq_stats_;
  model::Cycle now_ = 0;
};

}  // namespace vtdsim::pci
