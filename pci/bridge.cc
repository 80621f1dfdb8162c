// Type 1 header registers and bus-number bookkeeping (PCI-to-PCI Bridge Architecture 1.2 §3.2).
// Spec sections and what is not modelled: see pci/bridge.h.
#include "pci/bridge.h"

#include "pci/topology.h"

namespace vtdsim::pci {

const char* to_string(BridgeKind kind) {
  switch (kind) {
    case BridgeKind::kRootPort:
      return "root port";
    case BridgeKind::kSwitchUpstream:
      return "switch upstream port";
    case BridgeKind::kSwitchDownstream:
      return "switch downstream port";
    case BridgeKind::kPcieToPci:
      return "PCIe-to-PCI bridge";
    case BridgeKind::kPciToPci:
      return "PCI-to-PCI bridge";
  }
  return "?";
}

namespace {
FunctionIdentity bridge_identity(FunctionIdentity id) {
  if (id.class_code == 0) id.class_code = kBridgeClassCode;
  return id;
}
}  // namespace

Bridge::Bridge(FunctionIdentity identity, BridgeKind kind)
    : Function(bridge_identity(identity), HeaderType::kType1),
      kind_(kind),
      secondary_(std::make_unique<Bus>(this)) {
  ConfigSpace& cs = config();
  cs.set_masks(cfg::kPrimaryBus, 4, 0xFFFFFFFFu);  // primary, secondary, subordinate, latency
  cs.set8(cfg::kIoBase, 0x01);                     // 32-bit I/O addressing
  cs.set8(cfg::kIoLimit, 0x01);
  cs.set_masks(cfg::kIoBase, 2, 0xF0F0u);
  cs.set_masks(cfg::kSecondaryStatus, 2, 0, 0xF900u);  // error bits RW1C
  cs.set_masks(cfg::kMemoryBase, 4, 0xFFF0FFF0u);
  cs.set16(cfg::kPrefMemoryBase, 0x0001);  // 64-bit prefetchable window
  cs.set16(cfg::kPrefMemoryLimit, 0x0001);
  cs.set_masks(cfg::kPrefMemoryBase, 4, 0xFFF0FFF0u);
  cs.set_masks(cfg::kPrefBaseUpper, 4, 0xFFFFFFFFu);
  cs.set_masks(cfg::kPrefLimitUpper, 4, 0xFFFFFFFFu);
  cs.set_masks(cfg::kIoBaseUpper, 4, 0xFFFFFFFFu);
  cs.set_masks(cfg::kBridgeControl, 2, 0x0FFFu);
  switch (kind) {
    case BridgeKind::kRootPort:
      (void)add_pcie_capability(PortType::kRootPort);
      break;
    case BridgeKind::kSwitchUpstream:
      (void)add_pcie_capability(PortType::kUpstreamPort);
      break;
    case BridgeKind::kSwitchDownstream:
      (void)add_pcie_capability(PortType::kDownstreamPort);
      break;
    case BridgeKind::kPcieToPci:
      (void)add_pcie_capability(PortType::kPcieToPciBridge);
      break;
    case BridgeKind::kPciToPci:
      break;
  }
}

Bridge::~Bridge() = default;

void Bridge::config_written(std::uint32_t offset, unsigned size) {
  if (offset < cfg::kSubordinateBus + 1 && cfg::kPrimaryBus < offset + size) {
    if (RootComplex* rc = secondary_->root_complex()) rc->refresh_source_ids();
  }
}

}  // namespace vtdsim::pci
