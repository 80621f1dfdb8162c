// Capability lists: the standard list (pointer at 0x34, PCI 3.0 §6.7) and the extended list at
// 0x100 (PCIe 4.0 §7.6), a builder that lays capabilities out with their RO/RW/RW1C masks, and
// walkers. Capabilities: power management (PCI PM 1.2 §3.2), MSI (PCI 3.0 §6.8.1), MSI-X
// (§6.8.2), PCI Express (PCIe 4.0 §7.5.3), ACS (§7.7.7), ATS (§10.5.1), PASID (§7.8.8).
// Not modelled: PM state side effects (D3hot keeps decoding), PCIe link training.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "model/error.h"
#include "model/field.h"
#include "pci/config_space.h"

namespace vtdsim::pci {

namespace cap_id {
inline constexpr std::uint8_t kPowerManagement = 0x01;
inline constexpr std::uint8_t kMsi = 0x05;
inline constexpr std::uint8_t kPciExpress = 0x10;
inline constexpr std::uint8_t kMsix = 0x11;
}  // namespace cap_id

namespace ext_cap_id {
inline constexpr std::uint16_t kAcs = 0x000D;
inline constexpr std::uint16_t kAts = 0x000F;
inline constexpr std::uint16_t kPasid = 0x001B;
}  // namespace ext_cap_id

// Extended capability header (PCIe 4.0 §7.6.3).
namespace ext_cap_header {
using ID = model::Field<15, 0>;
using VERSION = model::Field<19, 16>;
using NEXT = model::Field<31, 20>;
using Layout = model::Layout<1, ID, VERSION, NEXT>;
static_assert(model::valid_layout<Layout>());
}  // namespace ext_cap_header

// Power management: PMC at +2, PMCSR at +4 (PCI PM 1.2 §3.2.3/§3.2.4).
namespace pm {
inline constexpr std::uint32_t kPmc = 2;
inline constexpr std::uint32_t kPmcsr = 4;
inline constexpr std::uint32_t kLength = 8;
using POWER_STATE = model::Field<1, 0>;  // PMCSR: D0..D3hot
using NO_SOFT_RESET = model::Field<3, 3>;
using PME_EN = model::Field<8, 8>;
using PME_STATUS = model::Field<15, 15>;  // RW1C
using PmcsrLayout = model::Layout<1, POWER_STATE, NO_SOFT_RESET, PME_EN, PME_STATUS>;
static_assert(model::valid_layout<PmcsrLayout>());
}  // namespace pm

// MSI capability (PCI 3.0 §6.8.1): control at +2, address at +4, then 64-bit/PVM-dependent.
namespace msi {
inline constexpr std::uint32_t kControl = 2;
inline constexpr std::uint32_t kAddressLo = 4;
using ENABLE = model::Field<0, 0>;
using MMC = model::Field<3, 1>;  // multiple message capable: log2 of vectors requested
using MME = model::Field<6, 4>;  // multiple message enable: log2 of vectors allocated
using ADDR64 = model::Field<7, 7>;
using PVM = model::Field<8, 8>;  // per-vector masking capable
using ControlLayout = model::Layout<1, ENABLE, MMC, MME, ADDR64, PVM>;
static_assert(model::valid_layout<ControlLayout>());
// Offsets that depend on ADDR64.
constexpr std::uint32_t address_hi(bool addr64) {
  return addr64 ? 8 : 0;
}
constexpr std::uint32_t data(bool addr64) {
  return addr64 ? 12 : 8;
}
constexpr std::uint32_t mask(bool addr64) {
  return addr64 ? 16 : 12;
}
constexpr std::uint32_t pending(bool addr64) {
  return addr64 ? 20 : 16;
}
constexpr std::uint32_t length(bool addr64, bool pvm) {
  return pvm ? (addr64 ? 24 : 20) : (addr64 ? 16 : 12);
}
}  // namespace msi

// MSI-X capability (PCI 3.0 §6.8.2): control at +2, table and PBA locators at +4 / +8.
namespace msix {
inline constexpr std::uint32_t kControl = 2;
inline constexpr std::uint32_t kTable = 4;
inline constexpr std::uint32_t kPba = 8;
inline constexpr std::uint32_t kLength = 12;
using TABLE_SIZE = model::Field<10, 0>;  // N - 1
using FUNCTION_MASK = model::Field<14, 14>;
using ENABLE = model::Field<15, 15>;
using ControlLayout = model::Layout<1, TABLE_SIZE, FUNCTION_MASK, ENABLE>;
static_assert(model::valid_layout<ControlLayout>());
using BIR = model::Field<2, 0>;
using OFFSET = model::Field<31, 3>;  // raw(): byte offset, qword aligned
using LocatorLayout = model::Layout<1, BIR, OFFSET>;
static_assert(model::valid_layout<LocatorLayout>());
inline constexpr unsigned kMaxVectors = 2048;
inline constexpr std::uint32_t kEntrySize = 16;
// Table entry dwords (§6.8.2.6-9).
inline constexpr std::uint32_t kEntryAddressLo = 0;
inline constexpr std::uint32_t kEntryAddressHi = 4;
inline constexpr std::uint32_t kEntryData = 8;
inline constexpr std::uint32_t kEntryVectorControl = 12;
using VECTOR_MASK = model::Field<0, 0>;
}  // namespace msix

// PCI Express capability (PCIe 4.0 §7.5.3): version 2, 0x3C bytes.
enum class PortType : std::uint8_t {
  kEndpoint = 0x0,
  kLegacyEndpoint = 0x1,
  kRootPort = 0x4,
  kUpstreamPort = 0x5,
  kDownstreamPort = 0x6,
  kPcieToPciBridge = 0x7,
  kPciToPcieBridge = 0x8,
  kRcIntegratedEndpoint = 0x9,
  kRcEventCollector = 0xA,
};
namespace pcie {
inline constexpr std::uint32_t kFlags = 2;
inline constexpr std::uint32_t kDevCap = 4;
inline constexpr std::uint32_t kDevCtl = 8;
inline constexpr std::uint32_t kDevSta = 0xA;
inline constexpr std::uint32_t kLnkCap = 0xC;
inline constexpr std::uint32_t kLnkCtl = 0x10;
inline constexpr std::uint32_t kLnkSta = 0x12;
inline constexpr std::uint32_t kDevCap2 = 0x24;
inline constexpr std::uint32_t kDevCtl2 = 0x28;
inline constexpr std::uint32_t kLength = 0x3C;
using VERSION = model::Field<3, 0>;
using TYPE = model::Field<7, 4>;
using SLOT = model::Field<8, 8>;
using FlagsLayout = model::Layout<1, VERSION, TYPE, SLOT>;
static_assert(model::valid_layout<FlagsLayout>());
using FLR_CAPABLE = model::Field<28, 28>;  // DEVCAP
using DEVSTA_ERRORS = model::Field<3, 0>;  // CED/NFED/FED/URD, RW1C
}  // namespace pcie

// ACS extended capability (PCIe 4.0 §7.7.7): capability at +4, control at +6.
namespace acs {
inline constexpr std::uint32_t kCapability = 4;
inline constexpr std::uint32_t kControl = 6;
inline constexpr std::uint32_t kLength = 8;
using SV = model::Field<0, 0>;  // source validation
using TB = model::Field<1, 1>;  // translation blocking
using RR = model::Field<2, 2>;  // P2P request redirect
using CR = model::Field<3, 3>;  // P2P completion redirect
using UF = model::Field<4, 4>;  // upstream forwarding
using EC = model::Field<5, 5>;  // P2P egress control
using DT = model::Field<6, 6>;  // direct translated P2P
using Layout = model::Layout<1, SV, TB, RR, CR, UF, EC, DT>;
static_assert(model::valid_layout<Layout>());
inline constexpr std::uint16_t kSv = 1u << 0;
inline constexpr std::uint16_t kTb = 1u << 1;
inline constexpr std::uint16_t kRr = 1u << 2;
inline constexpr std::uint16_t kCr = 1u << 3;
inline constexpr std::uint16_t kUf = 1u << 4;
inline constexpr std::uint16_t kEc = 1u << 5;
inline constexpr std::uint16_t kDt = 1u << 6;
inline constexpr std::uint16_t kAll = 0x7F;
}  // namespace acs

// ATS extended capability (PCIe 4.0 §10.5.1): capability at +4, control at +6.
namespace ats {
inline constexpr std::uint32_t kCapability = 4;
inline constexpr std::uint32_t kControl = 6;
inline constexpr std::uint32_t kLength = 8;
using IQD = model::Field<4, 0>;  // invalidate queue depth (0 means 32)
using PAR = model::Field<5, 5>;  // page aligned request
using GIS = model::Field<6, 6>;  // global invalidate supported
using CapLayout = model::Layout<1, IQD, PAR, GIS>;
static_assert(model::valid_layout<CapLayout>());
using STU = model::Field<4, 0>;  // smallest translation unit: 2^(STU+12) bytes
using ENABLE = model::Field<15, 15>;
using ControlLayout = model::Layout<1, STU, ENABLE>;
static_assert(model::valid_layout<ControlLayout>());
}  // namespace ats

// PASID extended capability (PCIe 4.0 §7.8.8): capability at +4, control at +6.
namespace pasid {
inline constexpr std::uint32_t kCapability = 4;
inline constexpr std::uint32_t kControl = 6;
inline constexpr std::uint32_t kLength = 8;
using EPS = model::Field<1, 1>;   // execute permission supported
using PMS = model::Field<2, 2>;   // privileged mode supported
using MPW = model::Field<12, 8>;  // max PASID width
using CapLayout = model::Layout<1, EPS, PMS, MPW>;
static_assert(model::valid_layout<CapLayout>());
using PE = model::Field<0, 0>;   // PASID enable
using EPE = model::Field<1, 1>;  // execute permission enable
using PME = model::Field<2, 2>;  // privileged mode enable
using ControlLayout = model::Layout<1, PE, EPE, PME>;
static_assert(model::valid_layout<ControlLayout>());
}  // namespace pasid

struct MsiConfig {
  unsigned vectors = 1;  // requested vectors, power of two in [1, 32] (MMC = log2)
  bool addr64 = true;
  bool per_vector_mask = true;
};

struct MsixConfig {
  unsigned vectors = 1;  // table size, [1, 2048]
  unsigned table_bar = 0;
  std::uint32_t table_offset = 0;  // 8-byte aligned
  unsigned pba_bar = 0;
  std::uint32_t pba_offset = 0;  // 8-byte aligned
};

struct AtsConfig {
  unsigned invalidate_queue_depth = 0;  // 0 means 32
  bool page_aligned_request = true;
  bool global_invalidate = true;
};

struct PasidConfig {
  unsigned max_pasid_width = 20;
  bool execute = false;
  bool privileged = false;
};

// Where the next capability goes and which one links to it.
struct CapabilityChain {
  std::uint32_t next_standard = 0x40;
  std::uint32_t last_standard = 0;  // 0: none yet (the pointer at 0x34 links the first)
  std::uint32_t next_extended = cfg::kExtendedCapabilities;
  std::uint32_t last_extended = 0;
};

// Builders: each returns the capability's offset, or an error naming what did not fit or
// which parameter was out of range. They set the masks of the registers they create.
Expected<std::uint32_t> add_standard_capability(ConfigSpace& cs, CapabilityChain& chain,
                                                std::uint8_t id, std::uint32_t length);
Expected<std::uint32_t> add_extended_capability(ConfigSpace& cs, CapabilityChain& chain,
                                                std::uint16_t id, std::uint8_t version,
                                                std::uint32_t length);
Expected<std::uint32_t> add_pm_capability(ConfigSpace& cs, CapabilityChain& chain);
Expected<std::uint32_t> add_msi_capability(ConfigSpace& cs, CapabilityChain& chain,
                                           const MsiConfig& config);
Expected<std::uint32_t> add_msix_capability(ConfigSpace& cs, CapabilityChain& chain,
                                            const MsixConfig& config);
Expected<std::uint32_t> add_pcie_capability(ConfigSpace& cs, CapabilityChain& chain, PortType type);
// capability: the ACS capability bits (acs::kSv | ...); control bits are writable for those.
Expected<std::uint32_t> add_acs_capability(ConfigSpace& cs, CapabilityChain& chain,
                                           std::uint16_t capability);
Expected<std::uint32_t> add_ats_capability(ConfigSpace& cs, CapabilityChain& chain,
                                           const AtsConfig& config);
Expected<std::uint32_t> add_pasid_capability(ConfigSpace& cs, CapabilityChain& chain,
                                             const PasidConfig& config);

// Walkers over guest-visible content; bounded, never loop forever on a malformed chain.
std::optional<std::uint32_t> find_capability(const ConfigSpace& cs, std::uint8_t id);
std::optional<std::uint32_t> find_extended_capability(const ConfigSpace& cs, std::uint16_t id);

struct CapabilityEntry {
  bool extended = false;
  std::uint16_t id = 0;
  std::uint32_t offset = 0;
  friend bool operator==(const CapabilityEntry&, const CapabilityEntry&) = default;
};
// Every capability in chain order, standard list first.
std::vector<CapabilityEntry> list_capabilities(const ConfigSpace& cs);

}  // namespace vtdsim::pci
