// A plain-data description of a machine, shaped like the ACPI DMAR table (VT-d spec ch. 8:
// DRHD §8.3 with INCLUDE_PCI_ALL, device scopes §8.3.1, RMRR §8.4) plus memory, CPUs and the
// PCI topology to build. Machine::create() turns it into hardware.
// Not modelled: multiple PCI segments, ATSR/RHSA/ANDD structures, IOAPIC/HPET scope entries
// (there is no IOAPIC model), hot plug.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "iommu/unit_config.h"
#include "model/error.h"
#include "model/types.h"
#include "pci/ats_device.h"
#include "pci/nic.h"
#include "pci/nvme.h"
#include "pci/topology.h"

namespace vtdsim::platform {

// Memory map (all defaults; see MachineConfig::validate for the rules):
//   [0, low_ram_end)                 RAM below the MMIO hole (low_ram_end = min(ram, 3 GiB))
//   [low_ram_end - host, low_ram_end) frames for host software (Machine::frame_allocator)
//   [0xC000_0000, 0xFEC0_0000)       PCI memory BARs, assigned by the enumerator
//   [0xFED9_0000, ...)               remapping unit register windows (4 KiB each by default)
//   [0xFEE0_0000, 0xFEF0_0000)       the interrupt window: never RAM, BAR or register
//   [4 GiB, 4 GiB + ram - low)       RAM above the hole
inline constexpr std::uint64_t kMmioHoleBase = 0xC000'0000;
inline constexpr std::uint64_t kHighRamBase = 0x1'0000'0000;
inline constexpr std::uint64_t kUnitRegisterBase = 0xFED9'0000;

// DMAR device scope entry types (§8.3.1).
enum class ScopeType : std::uint8_t {
  kEndpoint = 1,      // one PCI function
  kSubHierarchy = 2,  // a bridge and every bus below it
};

// One device scope entry. A named entry is resolved after enumeration: an endpoint to the
// function's requester id, a sub-hierarchy to the bridge's own id plus the buses
// [secondary, subordinate]. Unnamed entries give the id or the bus range directly.
struct DeviceScope {
  ScopeType type = ScopeType::kEndpoint;
  std::string device;           // a PciNode name; empty: use source_id / the bus range
  model::SourceId source_id{};  // unnamed kEndpoint
  std::uint8_t first_bus = 0;   // unnamed kSubHierarchy: buses [first_bus, last_bus]
  std::uint8_t last_bus = 0;

  static DeviceScope endpoint(std::string name) {
    return DeviceScope{ScopeType::kEndpoint, std::move(name), {}, 0, 0};
  }
  static DeviceScope endpoint(model::SourceId sid) {
    return DeviceScope{ScopeType::kEndpoint, {}, sid, 0, 0};
  }
  static DeviceScope sub_hierarchy(std::string bridge) {
    return DeviceScope{ScopeType::kSubHierarchy, std::move(bridge), {}, 0, 0};
  }
  static DeviceScope buses(std::uint8_t first, std::uint8_t last) {
    return DeviceScope{ScopeType::kSubHierarchy, {}, {}, first, last};
  }
};

// One DRHD: a remapping unit, where its registers are and which devices it covers.
struct RemappingUnitConfig {
  std::string name;                            // for error messages and reports
  iommu::UnitConfig unit{};                    // host_address_width must match the machine
  std::optional<std::uint64_t> register_base;  // unset: packed upwards from kUnitRegisterBase
  bool include_pci_all = false;                // DRHD flag bit 0: every device no other unit has
  std::vector<DeviceScope> scope;              // empty iff include_pci_all
};

// One RMRR (§8.4): [base, limit] must stay identity-mapped for the listed endpoints.
struct RmrrConfig {
  std::uint64_t base = 0;            // 4 KiB aligned
  std::uint64_t limit = 0;           // last byte: limit + 1 is 4 KiB aligned and above base
  std::vector<DeviceScope> devices;  // kEndpoint entries, at least one
};

// What a node of the PCI tree is.
enum class NodeKind : std::uint8_t {
  kRootPort,
  kSwitchUpstream,
  kSwitchDownstream,
  kPcieToPciBridge,
  kPciToPciBridge,
  kEndpoint,  // a plain function (config space only): for topology and group studies
  kDmaEngine,
  kNic,
  kNvme,
  kAts,
};

const char* to_string(NodeKind kind);
constexpr bool is_bridge(NodeKind k) {
  return k == NodeKind::kRootPort || k == NodeKind::kSwitchUpstream ||
         k == NodeKind::kSwitchDownstream || k == NodeKind::kPcieToPciBridge ||
         k == NodeKind::kPciToPciBridge;
}

// One function of the topology, placed at dev.fn of its parent's secondary bus (the root bus
// for top-level nodes).
struct PciNode {
  std::string name;  // unique when not empty; scopes and Machine::function() use it
  NodeKind kind = NodeKind::kEndpoint;
  unsigned dev = 0;
  unsigned fn = 0;
  // Identity for bridges, kEndpoint and kDmaEngine; device_id 0 keeps the kind's default.
  pci::FunctionIdentity identity{0x8086, 0, 0, 0};
  std::uint16_t acs = 0;      // ACS capability bits to add (pci::acs::kSv | ...); 0: none
  bool conventional = false;  // kEndpoint: no PCI Express capability (conventional PCI)
  std::optional<std::uint8_t> dma_alias_devfn;  // quirk alias on the same bus
  pci::NicConfig nic{};
  pci::NvmeConfig nvme{};
  pci::AtsDeviceConfig ats{};
  std::vector<PciNode> children;  // bridges only

  static PciNode bridge(std::string name, NodeKind kind, unsigned dev, unsigned fn = 0,
                        std::uint16_t acs = 0, std::vector<PciNode> children = {}) {
    PciNode n;
    n.name = std::move(name);
    n.kind = kind;
    n.dev = dev;
    n.fn = fn;
    n.acs = acs;
    n.children = std::move(children);
    return n;
  }
  static PciNode device(std::string name, NodeKind kind, unsigned dev, unsigned fn = 0) {
    PciNode n;
    n.name = std::move(name);
    n.kind = kind;
    n.dev = dev;
    n.fn = fn;
    return n;
  }
};

struct MachineConfig {
  unsigned address_width = 46;                               // host physical address bits, [32, 52]
  std::uint64_t ram_size = std::uint64_t{1} << 30;           // bytes, 4 KiB multiple
  std::uint64_t host_memory_size = std::uint64_t{64} << 20;  // frame allocator region
  unsigned cpus = 4;                                         // host CPUs: APIC ids 0 .. cpus-1
  std::vector<RemappingUnitConfig> units;                    // DRHDs in table order
  std::vector<RmrrConfig> rmrrs;
  std::vector<PciNode> pci;               // functions on the root bus (bus 0)
  pci::EnumerationOptions enumeration{};  // BAR window and command enables

  // End of RAM below the MMIO hole, and bytes of RAM above 4 GiB.
  std::uint64_t low_ram_end() const { return ram_size < kMmioHoleBase ? ram_size : kMmioHoleBase; }
  std::uint64_t high_ram_size() const { return ram_size - low_ram_end(); }
  // The register base of unit i: its register_base, or the packed default.
  std::uint64_t unit_register_base(std::size_t i) const;

  // Everything that does not depend on enumerated bus numbers: widths and sizes, the memory
  // map, unit configs and register windows, INCLUDE_PCI_ALL (at most one, last), scope entries
  // (named devices exist and have the right kind, bus ranges ordered, unnamed id/bus overlap
  // between units), RMRR alignment/overlap, topology names and slots. The error names the
  // unit, scope entry, RMRR or node. Machine::create() additionally rejects scopes that
  // overlap once resolved.
  Status validate() const;
};

}  // namespace vtdsim::platform
