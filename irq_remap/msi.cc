// Remappable / compatibility MSI and IOAPIC RTE decoding and encoding (VT-d spec §5.1.2,
// §5.1.5).
#include "irq_remap/msi.h"

namespace vtdsim::irq_remap {

MsiRequest decode_msi(std::uint64_t address, std::uint32_t data) {
  MsiRequest r;
  r.remappable = msi_address::IF::get(address) != 0;
  r.shv = msi_address::SHV::get(address) != 0;
  r.handle = static_cast<std::uint16_t>((msi_address::HANDLE_15::get(address) << 15) |
                                        msi_address::HANDLE_LO::get(address));
  r.subhandle = static_cast<std::uint16_t>(msi_data::SUBHANDLE::get(data));
  r.index = std::uint32_t{r.handle} + (r.shv ? std::uint32_t{r.subhandle} : 0u);
  const bool address_bad = msi_address::HIGH::get(address) != 0 ||
                           msi_address::ID::get(address) != msi_address::kInterruptId;
  const bool data_bad = r.remappable && r.shv && msi_data::HIGH::get(data) != 0;
  r.reserved_violation = address_bad || data_bad;
  return r;
}

MsiMessage encode_remappable_msi(std::uint16_t handle, bool shv, std::uint16_t subhandle) {
  std::uint64_t a = 0;
  a = msi_address::ID::set(a, msi_address::kInterruptId);
  a = msi_address::HANDLE_LO::set(a, handle & 0x7FFFu);
  a = msi_address::HANDLE_15::set(a, handle >> 15);
  a = msi_address::IF::set(a, 1);
  a = msi_address::SHV::set(a, shv ? 1 : 0);
  return MsiMessage{a, shv ? std::uint32_t{subhandle} : 0u};
}

MsiMessage encode_compat_msi(const model::ApicMessage& m) {
  std::uint64_t a = model::kInterruptWindowBase;
  a |= std::uint64_t{m.destination & 0xFFu} << 12;
  a |= std::uint64_t{m.redirection_hint ? 1u : 0u} << 3;
  a |= std::uint64_t{m.logical ? 1u : 0u} << 2;
  std::uint32_t d = m.vector;
  d |= (static_cast<std::uint32_t>(m.delivery_mode) & 0x7u) << 8;
  d |= 1u << 14;  // level-assert
  d |= (m.level ? 1u : 0u) << 15;
  return MsiMessage{a, d};
}

IoapicRequest decode_ioapic_rte(std::uint64_t rte) {
  IoapicRequest r;
  r.masked = ioapic_rte::MASK::get(rte) != 0;
  r.remappable = ioapic_rte::IF::get(rte) != 0;
  const std::uint32_t data =
      static_cast<std::uint32_t>(ioapic_rte::VECTOR::get(rte) | (ioapic_rte::DLM::get(rte) << 8) |
                                 (ioapic_rte::TM::get(rte) << 15));
  if (!r.remappable) {
    // Compatibility RTE: destination in 63:56, destination mode in 11.
    std::uint64_t a = model::kInterruptWindowBase | (((rte >> 56) & 0xFFu) << 12) |
                      (((rte >> 11) & 1u) << 2) | (((rte >> 8) & 1u) << 3);
    r.msi = MsiMessage{a, data | (1u << 14)};
    return r;
  }
  r.index = static_cast<std::uint16_t>((ioapic_rte::INDEX_15::get(rte) << 15) |
                                       ioapic_rte::INDEX_LO::get(rte));
  r.reserved_violation = ioapic_rte::Layout::reserved_bits_set(model::Entry64{{rte}}) ||
                         ioapic_rte::DLM::get(rte) != 0;
  const bool shv = (ioapic_rte::DLM::get(rte) & 1u) != 0;
  MsiMessage m = encode_remappable_msi(r.index, shv, 0);
  m.data = data;
  r.msi = m;
  return r;
}

std::uint64_t encode_ioapic_rte(std::uint16_t index, std::uint8_t vector, bool level,
                                bool active_low, bool masked) {
  std::uint64_t e = 0;
  e = ioapic_rte::VECTOR::set(e, vector);
  e = ioapic_rte::INDEX_15::set(e, index >> 15);
  e = ioapic_rte::POLARITY::set(e, active_low ? 1 : 0);
  e = ioapic_rte::TM::set(e, level ? 1 : 0);
  e = ioapic_rte::MASK::set(e, masked ? 1 : 0);
  e = ioapic_rte::IF::set(e, 1);
  e = ioapic_rte::INDEX_LO::set(e, index & 0x7FFFu);
  return e;
}

}  // namespace vtdsim::irq_remap
