// Field tables of the interrupt-remapping formats: remapped IRTE (spec §9.9), posted IRTE
// (§9.10), remappable MSI address/data (§5.1.2.2) and the remappable IOAPIC redirection
// entry (§5.1.5.1), over irq_remap/irte.h and irq_remap/msi.h.
#include <array>

#include <fmt/format.h>

#include "irq_remap/irte.h"
#include "irq_remap/msi.h"
#include "tools/formats.h"

namespace vtdsim::tools::formats {

namespace ir = vtdsim::irq_remap;

std::string describe_delivery_mode(std::uint64_t dlm) {
  switch (dlm) {
    case 0:
      return "fixed";
    case 1:
      return "lowest priority";
    case 2:
      return "SMI";
    case 4:
      return "NMI";
    case 5:
      return "INIT";
    case 7:
      return "ExtINT";
    default:
      return "reserved";
  }
}

std::string describe_svt(std::uint64_t svt) {
  switch (svt) {
    case ir::irte::kSvtNone:
      return "no source-id verification";
    case ir::irte::kSvtSidSq:
      return "verify requester id against SID/SQ";
    case ir::irte::kSvtBus:
      return "verify requester bus in [SID[15:8], SID[7:0]]";
    default:
      return "reserved";
  }
}

std::string describe_sq(std::uint64_t sq) {
  switch (sq) {
    case 0:
      return "compare all 16 bits";
    case 1:
      return "ignore bit 2";
    case 2:
      return "ignore bits 2:1";
    default:
      return "ignore bits 2:0";
  }
}

namespace {

std::string describe_present(std::uint64_t v) {
  return v != 0 ? "present" : "not present";
}
std::string describe_dm(std::uint64_t v) {
  return v != 0 ? "logical" : "physical";
}
std::string describe_tm(std::uint64_t v) {
  return v != 0 ? "level" : "edge";
}
std::string describe_im(std::uint64_t v) {
  return v != 0 ? "posted" : "remapped";
}
std::string describe_sid(std::uint64_t v) {
  return fmt::format("{:02x}:{:02x}.{:x}", v >> 8, (v >> 3) & 0x1F, v & 7);
}
std::string describe_if(std::uint64_t v) {
  return v != 0 ? "remappable" : "compatibility";
}

namespace it = ir::irte;
constexpr std::array kIrteRows{
    VTDSIM_ROW(it, P, kFlag, "", describe_present),
    VTDSIM_ROW(it, FPD, kFlag, "fault processing disable"),
    VTDSIM_ROW(it, DM, kFlag, "destination mode", describe_dm),
    VTDSIM_ROW(it, RH, kFlag, "redirection hint"),
    VTDSIM_ROW(it, TM, kFlag, "trigger mode", describe_tm),
    VTDSIM_ROW(it, DLM, kEnum, "delivery mode", describe_delivery_mode),
    VTDSIM_ROW(it, AVAIL, kHex, "available to software"),
    VTDSIM_ROW(it, IM, kFlag, "IRTE mode", describe_im),
    VTDSIM_ROW(it, V, kHex, "vector"),
    VTDSIM_ROW(it, DST, kHex, "destination id (x2APIC: 32-bit; xAPIC: bits 47:40)"),
    VTDSIM_ROW(it, SID, kHex, "source id", describe_sid),
    VTDSIM_ROW(it, SQ, kEnum, "source-id qualifier", describe_sq),
    VTDSIM_ROW(it, SVT, kEnum, "source validation type", describe_svt),
};
static_assert(rows_cover_layout<it::Layout>(kIrteRows));

void irte_extra(const Words& q, std::vector<std::string>& warnings) {
  if (it::dlm_reserved(it::DLM::get(q[0]))) {
    warnings.push_back("DLM is a reserved delivery mode (fault 0x24 when present)");
  }
  if (it::SVT::get(q[1]) == 3) warnings.push_back("SVT = 11b is reserved (fault 0x24)");
  if ((q[0] & it::kXapicDstReserved) != 0) {
    warnings.push_back(
        "note: DST bits 63:48/39:32 are set: reserved if IRTA.EIME = 0 (xAPIC mode, fault 0x24)");
  }
}

namespace pt = ir::posted_irte;
constexpr std::array kPostedRows{
    VTDSIM_ROW(pt, P, kFlag, "", describe_present),
    VTDSIM_ROW(pt, FPD, kFlag, "fault processing disable"),
    VTDSIM_ROW(pt, AVAIL, kHex, "available to software"),
    VTDSIM_ROW(pt, URG, kFlag, "urgent (notify even when PID.SN = 1)"),
    VTDSIM_ROW(pt, IM, kFlag, "IRTE mode", describe_im),
    VTDSIM_ROW(pt, VV, kHex, "virtual vector posted in the PIR"),
    VTDSIM_ROW(pt, PDA_L, kHex, "descriptor address bits 31:6"),
    VTDSIM_ROW(pt, SID, kHex, "source id", describe_sid),
    VTDSIM_ROW(pt, SQ, kEnum, "source-id qualifier", describe_sq),
    VTDSIM_ROW(pt, SVT, kEnum, "source validation type", describe_svt),
    VTDSIM_ROW(pt, PDA_H, kHex, "descriptor address bits 63:32"),
};
static_assert(rows_cover_layout<pt::Layout>(kPostedRows));

void posted_extra(const Words& q, std::vector<std::string>& warnings) {
  const model::Entry128 e{{q[0], q[1]}};
  warnings.push_back(
      fmt::format("note: posted-interrupt descriptor at {:#x}", pt::descriptor_address(e)));
  if (pt::SVT::get(q[1]) == 3) warnings.push_back("SVT = 11b is reserved (fault 0x24)");
}

namespace ma = ir::msi_address;
constexpr std::array kMsiAddressRows{
    VTDSIM_ROW(ma, HANDLE_15, kFlag, "HANDLE[15]"),
    VTDSIM_ROW(ma, SHV, kFlag, "sub-handle valid"),
    VTDSIM_ROW(ma, IF, kFlag, "interrupt format", describe_if),
    VTDSIM_ROW(ma, HANDLE_LO, kHex, "HANDLE[14:0]"),
    VTDSIM_ROW(ma, ID, kHex, "interrupt address id (0xFEE)"),
    VTDSIM_ROW(ma, HIGH, kHex, "upper address dword (must be 0)"),
};
static_assert(rows_cover_layout<ma::Layout>(kMsiAddressRows));

void msi_address_extra(const Words& q, std::vector<std::string>& warnings) {
  if (ma::ID::get(q[0]) != ma::kInterruptId) {
    warnings.push_back("address 31:20 is not 0xFEE: not an interrupt request (fault 0x20)");
  }
  if (ma::HIGH::get(q[0]) != 0) warnings.push_back("upper address dword not 0 (fault 0x20)");
}

namespace md = ir::msi_data;
using MsiDataLayout = model::Layout<1, md::SUBHANDLE, md::HIGH>;
static_assert(model::valid_layout<MsiDataLayout>());
constexpr std::array kMsiDataRows{
    VTDSIM_ROW(md, SUBHANDLE, kHex, "sub-handle (used when SHV = 1)"),
    VTDSIM_ROW(md, HIGH, kHex, "must be 0 when SHV = 1 (fault 0x20)"),
};
static_assert(rows_cover_layout<MsiDataLayout>(kMsiDataRows));

namespace io = ir::ioapic_rte;
constexpr std::array kIoapicRows{
    VTDSIM_ROW(io, VECTOR, kHex, "vector (should equal IRTE.V)"),
    VTDSIM_ROW(io, DLM, kEnum, "must be 000b in remappable format"),
    VTDSIM_ROW(io, INDEX_15, kFlag, "interrupt index[15]"),
    VTDSIM_ROW(io, DELIVS, kFlag, "delivery status (RO)"),
    VTDSIM_ROW(io, POLARITY, kFlag, "polarity (1 = active low)"),
    VTDSIM_ROW(io, RIRR, kFlag, "remote IRR (RO)"),
    VTDSIM_ROW(io, TM, kFlag, "trigger mode (must equal IRTE.TM)", describe_tm),
    VTDSIM_ROW(io, MASK, kFlag, "masked"),
    VTDSIM_ROW(io, IF, kFlag, "interrupt format", describe_if),
    VTDSIM_ROW(io, INDEX_LO, kHex, "interrupt index[14:0]"),
};
static_assert(rows_cover_layout<io::Layout>(kIoapicRows));

void ioapic_extra(const Words& q, std::vector<std::string>& warnings) {
  if (io::IF::get(q[0]) != 0 && io::DLM::get(q[0]) != 0) {
    warnings.push_back("DLM must be 000b in remappable format");
  }
}

}  // namespace

const Format& irte_remapped() {
  static const Format f{"IRTE, remapped format (IM = 0)", "§9.9",    128, kIrteRows,
                        reserved_of<it::Layout>(),        irte_extra};
  return f;
}
const Format& irte_posted() {
  static const Format f{"IRTE, posted format (IM = 1)", "§9.10",     128, kPostedRows,
                        reserved_of<pt::Layout>(),      posted_extra};
  return f;
}
const Format& msi_address() {
  static const Format f{"remappable MSI address",  "§5.1.2.2",       64, kMsiAddressRows,
                        reserved_of<ma::Layout>(), msi_address_extra};
  return f;
}
const Format& msi_data() {
  static const Format f{"remappable MSI data", "§5.1.2.2", 32, kMsiDataRows,
                        reserved_of<MsiDataLayout>()};
  return f;
}
const Format& ioapic_rte() {
  static const Format f{"remappable IOAPIC redirection entry",
                        "§5.1.5.1",
                        64,
                        kIoapicRows,
                        reserved_of<io::Layout>(),
                        ioapic_extra};
  return f;
}

}  // namespace vtdsim::tools::formats
