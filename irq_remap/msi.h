// Interrupt request formats seen by the remapping hardware (VT-d spec §5.1.2): the remappable
// MSI/MSI-X address/data (§5.1.2.2, facts §7.5), the compatibility format (§5.1.2.1), and the
// remappable IOAPIC redirection-table entry that an IOAPIC turns into a request (§5.1.5.1,
// facts §7.6). Decoders are total: any 64-bit address / 32-bit data decodes to a value.
// Not modelled: the hypervisor-only extended destination id in compatibility addresses 11:5.
#pragma once

#include <cstdint>

#include "model/field.h"
#include "model/interrupt_sink.h"

namespace vtdsim::irq_remap {

// §5.1.2.2 Table "Address fields in remappable format" (low dword of the address).
namespace msi_address {
using HANDLE_15 = model::Field<2, 2>;
using SHV = model::Field<3, 3>;
using IF = model::Field<4, 4>;  // 1 remappable, 0 compatibility
using HANDLE_LO = model::Field<19, 5>;
using ID = model::Field<31, 20>;    // must be 0xFEE
using HIGH = model::Field<63, 32>;  // upper address dword: must be 0
using Layout = model::Layout<1, HANDLE_15, SHV, IF, HANDLE_LO, ID, HIGH>;
static_assert(model::valid_layout<Layout>());
inline constexpr std::uint64_t kInterruptId = 0xFEE;
}  // namespace msi_address

// §5.1.2.2 data: SUBHANDLE in 15:0; 31:16 reserved (0) when SHV=1, ignored when SHV=0.
namespace msi_data {
using SUBHANDLE = model::Field<15, 0>;
using HIGH = model::Field<31, 16>;
}  // namespace msi_data

struct MsiRequest {
  bool remappable = false;  // address IF bit
  bool shv = false;
  std::uint16_t handle = 0;     // HANDLE[15] from address bit 2, HANDLE[14:0] from 19:5
  std::uint16_t subhandle = 0;  // data 15:0 (meaningful only with SHV)
  std::uint32_t index = 0;      // handle + (SHV ? subhandle : 0); may exceed 0xFFFF
  // Reserved-field check of §5.1.4 for a remappable request (fault 0x20): upper address dword
  // non-zero, address 31:20 not 0xFEE, or data 31:16 non-zero with SHV. For a compatibility
  // request only the address part applies.
  bool reserved_violation = false;
};

MsiRequest decode_msi(std::uint64_t address, std::uint32_t data);

struct MsiMessage {
  std::uint64_t address = 0;
  std::uint32_t data = 0;
  friend constexpr bool operator==(const MsiMessage&, const MsiMessage&) = default;
};

// Remappable-format address/data as a driver programs them (§5.1.5.2): 0xFEE, HANDLE, IF=1,
// SHV; data = subhandle (0 when shv is false).
MsiMessage encode_remappable_msi(std::uint16_t handle, bool shv, std::uint16_t subhandle);
// Compatibility-format address/data for an 8-bit APIC destination (§5.1.2.1, SDM §11.11);
// the inverse of model::decode_compat_msi for the fields it carries.
MsiMessage encode_compat_msi(const model::ApicMessage& message);

// §5.1.5.1 remappable IOAPIC redirection-table entry (facts §7.6).
namespace ioapic_rte {
using VECTOR = model::Field<7, 0>;
using DLM = model::Field<10, 8>;  // must be 000 so the generated request has SHV=0
using INDEX_15 = model::Field<11, 11>;
using DELIVS = model::Field<12, 12>;  // delivery status (RO)
using POLARITY = model::Field<13, 13>;
using RIRR = model::Field<14, 14>;  // remote IRR (RO)
using TM = model::Field<15, 15>;
using MASK = model::Field<16, 16>;
using IF = model::Field<48, 48>;  // 1 = remappable format
using INDEX_LO = model::Field<63, 49>;
using Layout =
    model::Layout<1, VECTOR, DLM, INDEX_15, DELIVS, POLARITY, RIRR, TM, MASK, IF, INDEX_LO>;
static_assert(model::valid_layout<Layout>());  // reserved: 47:17
}  // namespace ioapic_rte

struct IoapicRequest {
  bool remappable = false;
  bool masked = false;
  bool reserved_violation = false;  // RTE 47:17 non-zero or DLM != 000 in remappable format
  std::uint16_t index = 0;
  MsiMessage msi{};  // the request the IOAPIC emits (remappable: SHV=0, handle = index)
};

// Decodes a remappable RTE into the equivalent request. The emitted data carries the RTE's
// vector (7:0) and trigger mode (15); with SHV=0 the remapping hardware ignores the data.
// MODEL: the IOAPIC's address bit 3 (SHV here) is derived from RTE bit 8, as an xAPIC IOAPIC
// derives RH from lowest-priority delivery; §5.1.5.1 requires 10:8 = 000, i.e. SHV = 0.
// A compatibility-format RTE (bit 48 = 0) returns remappable = false and a compat MSI with the
// destination from RTE 63:56.
IoapicRequest decode_ioapic_rte(std::uint64_t rte);

// The RTE for a remappable entry (inverse of decode_ioapic_rte for remappable entries).
std::uint64_t encode_ioapic_rte(std::uint16_t index, std::uint8_t vector, bool level,
                                bool active_low, bool masked);

}  // namespace vtdsim::irq_remap
