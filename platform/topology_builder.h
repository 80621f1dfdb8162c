// Builds the PCI tree of a MachineConfig (PciNode) into a pci::RootComplex: bridges (root ports,
// switch ports, PCIe-to-PCI and PCI-to-PCI bridges) with their secondary buses, and the
// endpoint devices with their parameters, ACS capabilities and quirk DMA aliases.
// Not modelled: hot plug (the tree is fixed once the machine is built).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "model/error.h"
#include "pci/topology.h"
#include "platform/machine_config.h"

namespace vtdsim::platform {

using FunctionsByName = std::map<std::string, pci::Function*, std::less<>>;

// Attaches `nodes` (and their children) below the root bus of rc, siblings in dev.fn order.
// Errors name the node (slot taken, function 0 missing, device other than 0 below a link).
Expected<FunctionsByName> build_topology(pci::RootComplex& rc, const std::vector<PciNode>& nodes);

}  // namespace vtdsim::platform
