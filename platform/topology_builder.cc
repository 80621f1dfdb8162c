// Builds PciNode trees into a root complex (see topology_builder.h).
#include "platform/topology_builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "pci/ats_device.h"
#include "pci/bridge.h"
#include "pci/dma_engine.h"
#include "pci/nic.h"
#include "pci/nvme.h"

namespace vtdsim::platform {

namespace {

pci::BridgeKind bridge_kind(NodeKind k) {
  switch (k) {
    case NodeKind::kSwitchUpstream:
      return pci::BridgeKind::kSwitchUpstream;
    case NodeKind::kSwitchDownstream:
      return pci::BridgeKind::kSwitchDownstream;
    case NodeKind::kPcieToPciBridge:
      return pci::BridgeKind::kPcieToPci;
    case NodeKind::kPciToPciBridge:
      return pci::BridgeKind::kPciToPci;
    default:
      return pci::BridgeKind::kRootPort;
  }
}

// Device ids used when a node leaves identity.device_id at 0 (arbitrary, distinct).
std::uint16_t default_device_id(NodeKind k) {
  switch (k) {
    case NodeKind::kRootPort:
      return 0x7A38;
    case NodeKind::kSwitchUpstream:
      return 0x8747;
    case NodeKind::kSwitchDownstream:
      return 0x8748;
    case NodeKind::kPcieToPciBridge:
      return 0x244E;
    case NodeKind::kPciToPciBridge:
      return 0x2448;
    default:
      return 0x0F00;
  }
}

std::unique_ptr<pci::Function> make_function(const PciNode& n) {
  pci::FunctionIdentity id = n.identity;
  if (id.device_id == 0) id.device_id = default_device_id(n.kind);
  switch (n.kind) {
    case NodeKind::kRootPort:
    case NodeKind::kSwitchUpstream:
    case NodeKind::kSwitchDownstream:
    case NodeKind::kPcieToPciBridge:
    case NodeKind::kPciToPciBridge:
      return std::make_unique<pci::Bridge>(id, bridge_kind(n.kind));
    case NodeKind::kEndpoint: {
      if (id.class_code == 0) id.class_code = 0xFF0000;  // unclassified device
      auto f = std::make_unique<pci::Function>(id);
      if (!n.conventional) (void)f->add_pcie_capability(pci::PortType::kEndpoint);
      return f;
    }
    case NodeKind::kDmaEngine:
      return n.identity.device_id == 0 ? std::make_unique<pci::DmaEngine>()
                                       : std::make_unique<pci::DmaEngine>(n.identity);
    case NodeKind::kNic:
      return std::make_unique<pci::Nic>(n.nic);
    case NodeKind::kNvme:
      return std::make_unique<pci::Nvme>(n.nvme);
    case NodeKind::kAts:
      return std::make_unique<pci::AtsDevice>(n.ats);
  }
  return nullptr;
}

Status attach_all(pci::Bus& bus, const std::vector<PciNode>& nodes, FunctionsByName& names) {
  std::vector<const PciNode*> order;
  for (const PciNode& n : nodes) order.push_back(&n);
  std::stable_sort(order.begin(), order.end(), [](const PciNode* a, const PciNode* b) {
    return a->dev * 8 + a->fn < b->dev * 8 + b->fn;
  });
  for (const PciNode* n : order) {
    const std::string what =
        n->name.empty() ? fmt::format("unnamed {} at {}.{}", to_string(n->kind), n->dev, n->fn)
                        : fmt::format("node '{}'", n->name);
    std::unique_ptr<pci::Function> f = make_function(*n);
    if (f == nullptr) {
      return make_error(ErrorCode::kInvalidArgument, fmt::format("pci: {}: unknown kind", what));
    }
    f->set_name(n->name);
    if (n->dma_alias_devfn) f->set_dma_alias_devfn(n->dma_alias_devfn);
    if (n->acs != 0) {
      if (auto s = f->add_acs_capability(n->acs); !s) {
        return make_error(s.error().code,
                          fmt::format("pci: {}: ACS capability: {}", what, s.error().message));
      }
    }
    auto placed = bus.attach(n->dev, n->fn, std::move(f));
    if (!placed) {
      return make_error(placed.error().code,
                        fmt::format("pci: {}: {}", what, placed.error().message));
    }
    if (!n->name.empty()) names.emplace(n->name, *placed);
    if (auto* b = dynamic_cast<pci::Bridge*>(*placed)) {
      if (auto s = attach_all(b->secondary(), n->children, names); !s) return s;
    }
  }
  return {};
}

}  // namespace

Expected<FunctionsByName> build_topology(pci::RootComplex& rc, const std::vector<PciNode>& nodes) {
  FunctionsByName names;
  if (auto s = attach_all(rc.root_bus(), nodes, names); !s) return tl::unexpected(s.error());
  return names;
}

}  // namespace vtdsim::platform
