// DRHD device scopes resolved against the enumerated topology (VT-d spec §8.3, §8.3.1): which
// remapping unit covers each source-id. An explicit scope match wins, then the INCLUDE_PCI_ALL
// unit; a source-id covered by neither has no unit (its DMA is not remapped). The id a device's
// DMA actually carries (its PCIe-to-PCI bridge alias, say) is routed to the unit whose scope
// holds the device itself, as Linux attaches every DMA alias to the device's unit.
// Not modelled: scope changes after boot (bus renumbering by software does not move devices).
#pragma once

#include <cstdint>
#include <vector>

#include "model/error.h"
#include "model/types.h"
#include "pci/topology.h"
#include "platform/machine_config.h"
#include "platform/topology_builder.h"

namespace vtdsim::platform {

// One scope entry after enumeration.
struct ResolvedScope {
  std::size_t unit = 0;
  ScopeType type = ScopeType::kEndpoint;
  bool has_self = false;   // kEndpoint, or a named sub-hierarchy (the bridge itself)
  model::SourceId self{};  // that function's requester id
  bool has_buses = false;  // kSubHierarchy
  std::uint8_t first_bus = 0;
  std::uint8_t last_bus = 0;
  std::string text;  // for error messages

  bool covers(model::SourceId sid) const {
    return (has_self && sid == self) ||
           (has_buses && sid.bus() >= first_bus && sid.bus() <= last_bus);
  }
};

// An RMRR after enumeration.
struct Rmrr {
  std::uint64_t base = 0;
  std::uint64_t limit = 0;               // last byte
  std::vector<model::SourceId> devices;  // requester ids of the endpoints that use it
};

// Resolves an endpoint scope entry to a requester id (named: the function's own id).
Expected<model::SourceId> resolve_endpoint(const DeviceScope& scope, const FunctionsByName& names);

class ScopeMap {
 public:
  static constexpr std::uint8_t kNoUnit = 0xFF;

  // Errors: a named device missing, scopes of two units overlapping once resolved, or two
  // devices in different units' scopes whose DMA carries the same source-id.
  static Expected<ScopeMap> build(const MachineConfig& config, const pci::RootComplex& rc,
                                  const FunctionsByName& names);

  // The unit index covering sid, or kNoUnit.
  std::uint8_t unit_of(model::SourceId sid) const { return table_[sid.raw]; }
  const std::vector<ResolvedScope>& entries() const { return entries_; }

 private:
  std::vector<std::uint8_t> table_;  // 65536 entries, indexed by source-id
  std::vector<ResolvedScope> entries_;
};

}  // namespace vtdsim::platform
