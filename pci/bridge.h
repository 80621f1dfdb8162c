// PCI-to-PCI bridges with a type 1 header (PCI-to-PCI Bridge Architecture 1.2 §3.2): PCIe root
// ports, switch upstream/downstream ports, PCIe-to-PCI bridges and conventional PCI-to-PCI
// bridges. Each owns its secondary bus; the primary/secondary/subordinate bus-number registers
// route configuration requests (§3.2.5.3-5). PCIe root and downstream ports carry only device 0
// on their link (PCIe 4.0 §7.3.1). Not modelled: ARI, I/O and memory window filtering (MMIO
// decode is flat), secondary bus reset.
#pragma once

#include <cstdint>
#include <memory>

#include "pci/function.h"

namespace vtdsim::pci {

enum class BridgeKind : std::uint8_t {
  kRootPort,          // PCIe port type 4
  kSwitchUpstream,    // PCIe port type 5
  kSwitchDownstream,  // PCIe port type 6
  kPcieToPci,         // PCIe port type 7: conventional PCI (or PCI-X) below
  kPciToPci,          // conventional bridge: no PCI Express capability
};

const char* to_string(BridgeKind kind);

inline constexpr std::uint32_t kBridgeClassCode = 0x060400;  // bridge, PCI-to-PCI

class Bridge : public Function {
 public:
  // Adds the PCI Express capability with the matching port type (none for kPciToPci). identity
  // class_code 0 is replaced by kBridgeClassCode.
  Bridge(FunctionIdentity identity, BridgeKind kind);
  ~Bridge() override;

  BridgeKind kind() const { return kind_; }
  Bus& secondary() { return *secondary_; }
  const Bus& secondary() const { return *secondary_; }
  std::uint8_t primary_bus_number() const { return config().get8(cfg::kPrimaryBus); }
  std::uint8_t secondary_bus_number() const { return config().get8(cfg::kSecondaryBus); }
  std::uint8_t subordinate_bus_number() const { return config().get8(cfg::kSubordinateBus); }
  // True when the secondary side is a PCIe link (root port, downstream port): device 0 only.
  bool link_below() const {
    return kind_ == BridgeKind::kRootPort || kind_ == BridgeKind::kSwitchDownstream;
  }

 protected:
  void config_written(std::uint32_t offset, unsigned size) override;

 private:
  BridgeKind kind_;
  std::unique_ptr<Bus> secondary_;
};

}  // namespace vtdsim::pci
