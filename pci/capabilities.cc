// Capability list builder and walkers (PCI 3.0 §6.7, PCIe 4.0 §7.6).
// Spec sections and what is not modelled: see pci/capabilities.h.
#include "pci/capabilities.h"

#include <bit>
#include <string>

namespace vtdsim::pci {
namespace {

constexpr std::uint32_t kStandardEnd = kLegacyConfigSize;
constexpr unsigned kMaxStandardCaps = 48;   // (256 - 64) / 4
constexpr unsigned kMaxExtendedCaps = 960;  // (4096 - 256) / 4

std::uint32_t align4(std::uint32_t v) {
  return (v + 3u) & ~3u;
}

}  // namespace

Expected<std::uint32_t> add_standard_capability(ConfigSpace& cs, CapabilityChain& chain,
                                                std::uint8_t id, std::uint32_t length) {
  const std::uint32_t at = align4(chain.next_standard);
  if (length < 2 || at + length > kStandardEnd) {
    return make_error(ErrorCode::kExhausted,
                      "capability " + std::to_string(id) + " does not fit below 0x100");
  }
  cs.set8(at, id);
  cs.set8(at + 1, 0);
  if (chain.last_standard == 0) {
    cs.set8(cfg::kCapabilitiesPointer, static_cast<std::uint8_t>(at));
    cs.set16(cfg::kStatus,
             static_cast<std::uint16_t>(cs.get16(cfg::kStatus) | status::CAP_LIST::kMask));
  } else {
    cs.set8(chain.last_standard + 1, static_cast<std::uint8_t>(at));
  }
  chain.last_standard = at;
  chain.next_standard = at + length;
  return at;
}

Expected<std::uint32_t> add_extended_capability(ConfigSpace& cs, CapabilityChain& chain,
                                                std::uint16_t id, std::uint8_t version,
                                                std::uint32_t length) {
  const std::uint32_t at = align4(chain.next_extended);
  if (length < 4 || at + length > kConfigSpaceSize) {
    return make_error(ErrorCode::kExhausted,
                      "extended capability " + std::to_string(id) + " does not fit in 4 KiB");
  }
  auto header = static_cast<std::uint32_t>(ext_cap_header::ID::set(0, id));
  header = static_cast<std::uint32_t>(ext_cap_header::VERSION::set(header, version));
  cs.set32(at, header);
  if (chain.last_extended != 0) {
    const std::uint32_t prev = cs.get32(chain.last_extended);
    cs.set32(chain.last_extended, static_cast<std::uint32_t>(ext_cap_header::NEXT::set(prev, at)));
  }
  chain.last_extended = at;
  chain.next_extended = at + length;
  return at;
}

Expected<std::uint32_t> add_pm_capability(ConfigSpace& cs, CapabilityChain& chain) {
  auto at = add_standard_capability(cs, chain, cap_id::kPowerManagement, pm::kLength);
  if (!at) return at;
  cs.set16(*at + pm::kPmc, 0x0003);  // version 3 (PCI PM 1.2), no D1/D2, no PME
  cs.set16(*at + pm::kPmcsr, static_cast<std::uint16_t>(pm::NO_SOFT_RESET::kMask));
  cs.set_masks(*at + pm::kPmcsr, 2,
               static_cast<std::uint32_t>(pm::POWER_STATE::kMask | pm::PME_EN::kMask),
               static_cast<std::uint32_t>(pm::PME_STATUS::kMask));
  return at;
}

Expected<std::uint32_t> add_msi_capability(ConfigSpace& cs, CapabilityChain& chain,
                                           const MsiConfig& config) {
  if (config.vectors == 0 || config.vectors > 32 || !std::has_single_bit(config.vectors)) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "MSI vectors must be a power of two in [1, 32], got " + std::to_string(config.vectors));
  }
  const bool a64 = config.addr64;
  auto at =
      add_standard_capability(cs, chain, cap_id::kMsi, msi::length(a64, config.per_vector_mask));
  if (!at) return at;
  std::uint64_t control = msi::MMC::set(0, static_cast<unsigned>(std::countr_zero(config.vectors)));
  control = msi::ADDR64::set(control, a64 ? 1 : 0);
  control = msi::PVM::set(control, config.per_vector_mask ? 1 : 0);
  cs.set16(*at + msi::kControl, static_cast<std::uint16_t>(control));
  cs.set_masks(*at + msi::kControl, 2,
               static_cast<std::uint32_t>(msi::ENABLE::kMask | msi::MME::kMask));
  cs.set_masks(*at + msi::kAddressLo, 4, 0xFFFFFFFCu);  // dword aligned
  if (a64) cs.set_masks(*at + msi::address_hi(true), 4, 0xFFFFFFFFu);
  cs.set_masks(*at + msi::data(a64), 2, 0xFFFFu);
  if (config.per_vector_mask) {
    const std::uint32_t vector_bits =
        config.vectors == 32 ? 0xFFFFFFFFu : ((1u << config.vectors) - 1u);
    cs.set_masks(*at + msi::mask(a64), 4, vector_bits);
    // Pending bits are read-only to software: the function sets and clears them.
  }
  return at;
}

Expected<std::uint32_t> add_msix_capability(ConfigSpace& cs, CapabilityChain& chain,
                                            const MsixConfig& config) {
  if (config.vectors == 0 || config.vectors > msix::kMaxVectors) {
    return make_error(ErrorCode::kInvalidArgument, "MSI-X table size must be in [1, 2048], got " +
                                                       std::to_string(config.vectors));
  }
  if (config.table_bar > 5 || config.pba_bar > 5 || config.table_offset % 8 != 0 ||
      config.pba_offset % 8 != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "MSI-X table/PBA need a BAR index 0-5 and 8-byte aligned offsets");
  }
  auto at = add_standard_capability(cs, chain, cap_id::kMsix, msix::kLength);
  if (!at) return at;
  cs.set16(*at + msix::kControl, static_cast<std::uint16_t>(config.vectors - 1));
  cs.set_masks(*at + msix::kControl, 2,
               static_cast<std::uint32_t>(msix::FUNCTION_MASK::kMask | msix::ENABLE::kMask));
  cs.set32(*at + msix::kTable, config.table_offset | config.table_bar);
  cs.set32(*at + msix::kPba, config.pba_offset | config.pba_bar);
  return at;
}

Expected<std::uint32_t> add_pcie_capability(ConfigSpace& cs, CapabilityChain& chain,
                                            PortType type) {
  auto at = add_standard_capability(cs, chain, cap_id::kPciExpress, pcie::kLength);
  if (!at) return at;
  std::uint64_t flags = pcie::VERSION::set(0, 2);
  flags = pcie::TYPE::set(flags, static_cast<std::uint8_t>(type));
  const bool port = type == PortType::kRootPort || type == PortType::kDownstreamPort;
  flags = pcie::SLOT::set(flags, port ? 1 : 0);
  cs.set16(*at + pcie::kFlags, static_cast<std::uint16_t>(flags));
  // DEVCAP: 256-byte max payload, FLR for endpoints.
  const bool endpoint = type == PortType::kEndpoint || type == PortType::kLegacyEndpoint ||
                        type == PortType::kRcIntegratedEndpoint;
  cs.set32(*at + pcie::kDevCap,
           static_cast<std::uint32_t>(pcie::FLR_CAPABLE::set(0x1, endpoint ? 1 : 0)));
  cs.set16(*at + pcie::kDevCtl, 0x2810);  // MRRS 512 B; relaxed ordering and no-snoop enabled
  cs.set_masks(*at + pcie::kDevCtl, 2, 0x7FFFu);
  cs.set_masks(*at + pcie::kDevSta, 2, 0, static_cast<std::uint32_t>(pcie::DEVSTA_ERRORS::kMask));
  cs.set32(*at + pcie::kLnkCap, 0x00000041u);  // 2.5 GT/s, x4
  cs.set_masks(*at + pcie::kLnkCtl, 2, 0x0FFBu);
  cs.set16(*at + pcie::kLnkSta, 0x0041u);
  cs.set_masks(*at + pcie::kDevCtl2, 2, 0x063Fu);
  return at;
}

Expected<std::uint32_t> add_acs_capability(ConfigSpace& cs, CapabilityChain& chain,
                                           std::uint16_t capability) {
  if ((capability & ~acs::kAll) != 0) {
    return make_error(ErrorCode::kInvalidArgument, "ACS capability bits beyond bit 6");
  }
  auto at = add_extended_capability(cs, chain, ext_cap_id::kAcs, 1, acs::kLength);
  if (!at) return at;
  cs.set16(*at + acs::kCapability, capability);
  cs.set_masks(*at + acs::kControl, 2, capability);
  return at;
}

Expected<std::uint32_t> add_ats_capability(ConfigSpace& cs, CapabilityChain& chain,
                                           const AtsConfig& config) {
  if (config.invalidate_queue_depth > 31) {
    return make_error(ErrorCode::kInvalidArgument, "ATS invalidate queue depth above 31");
  }
  auto at = add_extended_capability(cs, chain, ext_cap_id::kAts, 1, ats::kLength);
  if (!at) return at;
  std::uint64_t cap = ats::IQD::set(0, config.invalidate_queue_depth);
  cap = ats::PAR::set(cap, config.page_aligned_request ? 1 : 0);
  cap = ats::GIS::set(cap, config.global_invalidate ? 1 : 0);
  cs.set16(*at + ats::kCapability, static_cast<std::uint16_t>(cap));
  cs.set_masks(*at + ats::kControl, 2,
               static_cast<std::uint32_t>(ats::STU::kMask | ats::ENABLE::kMask));
  return at;
}

Expected<std::uint32_t> add_pasid_capability(ConfigSpace& cs, CapabilityChain& chain,
                                             const PasidConfig& config) {
  if (config.max_pasid_width == 0 || config.max_pasid_width > 20) {
    return make_error(ErrorCode::kInvalidArgument, "max PASID width must be in [1, 20]");
  }
  auto at = add_extended_capability(cs, chain, ext_cap_id::kPasid, 1, pasid::kLength);
  if (!at) return at;
  std::uint64_t cap = pasid::MPW::set(0, config.max_pasid_width);
  cap = pasid::EPS::set(cap, config.execute ? 1 : 0);
  cap = pasid::PMS::set(cap, config.privileged ? 1 : 0);
  cs.set16(*at + pasid::kCapability, static_cast<std::uint16_t>(cap));
  std::uint64_t writable = pasid::PE::kMask;
  if (config.execute) writable |= pasid::EPE::kMask;
  if (config.privileged) writable |= pasid::PME::kMask;
  cs.set_masks(*at + pasid::kControl, 2, static_cast<std::uint32_t>(writable));
  return at;
}

std::optional<std::uint32_t> find_capability(const ConfigSpace& cs, std::uint8_t id) {
  if (status::CAP_LIST::get(cs.get16(cfg::kStatus)) == 0) return std::nullopt;
  std::uint32_t at = cs.get8(cfg::kCapabilitiesPointer) & 0xFCu;
  for (unsigned i = 0; i < kMaxStandardCaps && at >= 0x40; ++i) {
    if (cs.get8(at) == id) return at;
    at = cs.get8(at + 1) & 0xFCu;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> find_extended_capability(const ConfigSpace& cs, std::uint16_t id) {
  std::uint32_t at = cfg::kExtendedCapabilities;
  for (unsigned i = 0; i < kMaxExtendedCaps && at >= cfg::kExtendedCapabilities; ++i) {
    const std::uint32_t header = cs.get32(at);
    if (header == 0 || header == kAllOnes) return std::nullopt;
    if (ext_cap_header::ID::get(header) == id) return at;
    at = static_cast<std::uint32_t>(ext_cap_header::NEXT::get(header)) & 0xFFCu;
  }
  return std::nullopt;
}

std::vector<CapabilityEntry> list_capabilities(const ConfigSpace& cs) {
  std::vector<CapabilityEntry> out;
  if (status::CAP_LIST::get(cs.get16(cfg::kStatus)) != 0) {
    std::uint32_t at = cs.get8(cfg::kCapabilitiesPointer) & 0xFCu;
    for (unsigned i = 0; i < kMaxStandardCaps && at >= 0x40; ++i) {
      out.push_back({false, cs.get8(at), at});
      at = cs.get8(at + 1) & 0xFCu;
    }
  }
  std::uint32_t at = cfg::kExtendedCapabilities;
  for (unsigned i = 0; i < kMaxExtendedCaps && at >= cfg::kExtendedCapabilities; ++i) {
    const std::uint32_t header = cs.get32(at);
    if (header == 0 || header == kAllOnes) break;
    out.push_back({true, static_cast<std::uint16_t>(ext_cap_header::ID::get(header)), at});
    at = static_cast<std::uint32_t>(ext_cap_header::NEXT::get(header)) & 0xFFCu;
  }
  return out;
}

}  // namespace vtdsim::pci
