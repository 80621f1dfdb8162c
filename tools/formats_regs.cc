// Field tables of the fault recording register (spec §7.1.3, §11.4.14) and of the registers
// `vtdsim decode` knows: CAP, ECAP, GSTS, FSTS, IQA, IRTA, RTADDR (§11.4), over
// iommu/registers.h.
#include <array>

#include <fmt/format.h>

#include "iommu/fault_reason.h"
#include "iommu/registers.h"
#include "irq_remap/ir_fault.h"
#include "tools/formats.h"

namespace vtdsim::tools::formats {

namespace ie = vtdsim::iommu;

namespace {

std::string describe_fault_reason(std::uint64_t fr) {
  if (fr >= 0x20 && fr <= 0x28) {
    return std::string(irq_remap::to_string(static_cast<irq_remap::IrFaultReason>(fr)));
  }
  return std::string(ie::describe(static_cast<ie::FaultReason>(fr)));
}
std::string describe_t(std::uint64_t t) {
  return t != 0 ? "read" : "write";
}
std::string describe_at(std::uint64_t at) {
  switch (at) {
    case 0:
      return "untranslated";
    case 1:
      return "translation request";
    case 2:
      return "translated";
    default:
      return "reserved";
  }
}
std::string describe_sid(std::uint64_t v) {
  return fmt::format("{:02x}:{:02x}.{:x}", v >> 8, (v >> 3) & 0x1F, v & 7);
}

namespace fr = ie::frcd;
constexpr std::array kFrcdRows{
    VTDSIM_ROW(fr, FI, kAddress, "fault info: page address (DMA) / index in 63:48 (IR)"),
    VTDSIM_ROW(fr, SID, kHex, "source id", describe_sid),
    VTDSIM_ROW(fr, PRIV, kFlag, "privilege-mode request"),
    VTDSIM_ROW(fr, EXE, kFlag, "execute request"),
    VTDSIM_ROW(fr, PP, kFlag, "PASID present"),
    VTDSIM_ROW(fr, FR, kHex, "fault reason", describe_fault_reason),
    VTDSIM_ROW(fr, PV, kHex, "PASID value"),
    VTDSIM_ROW(fr, AT, kEnum, "address type", describe_at),
    VTDSIM_ROW(fr, T, kFlag, "request type", describe_t),
    VTDSIM_ROW(fr, F, kFlag, "fault (record valid; RW1C)"),
};
static_assert(rows_cover_layout<fr::Layout>(kFrcdRows));

void frcd_extra(const Words& q, std::vector<std::string>& warnings) {
  const std::uint64_t reason = fr::FR::get(q[1]);
  if (reason >= 0x20 && reason <= 0x28) {
    warnings.push_back(fmt::format("note: interrupt-remapping fault, interrupt index {:#x}",
                                   fr::FI_IR::get(q[0])));
  }
}

std::string describe_nd(std::uint64_t nd) {
  return nd > 6 ? "reserved" : fmt::format("{} domain ids", std::uint64_t{1} << (4 + 2 * nd));
}
std::string describe_sagaw(std::uint64_t s) {
  std::string out;
  for (unsigned aw = 0; aw < 5; ++aw) {
    if (((s >> aw) & 1u) == 0) continue;
    if (!out.empty()) out += ", ";
    out += aw == 4 ? std::string("reserved bit 4") : describe_aw(aw);
  }
  return out.empty() ? "none" : out;
}
std::string describe_mgaw(std::uint64_t v) {
  return fmt::format("{}-bit guest addresses", v + 1);
}
std::string describe_offset16(std::uint64_t v) {
  return fmt::format("offset {:#x}", v * 16);
}
std::string describe_sllps(std::uint64_t v) {
  std::string out = (v & 1u) != 0 ? "2 MiB" : "";
  if ((v & 2u) != 0) out += out.empty() ? "1 GiB" : ", 1 GiB";
  return out.empty() ? "4 KiB only" : out;
}
std::string describe_plus_one(std::uint64_t v) {
  return fmt::format("{}", v + 1);
}
std::string describe_pages_pow2(std::uint64_t v) {
  return fmt::format("up to 2^{} pages per invalidation", v);
}

namespace cp = ie::cap;
constexpr std::array kCapRows{
    VTDSIM_ROW(cp, ND, kNumber, "number of domains", describe_nd),
    VTDSIM_ROW(cp, AFL, kFlag, "advanced fault logging"),
    VTDSIM_ROW(cp, RWBF, kFlag, "required write-buffer flushing"),
    VTDSIM_ROW(cp, PLMR, kFlag, "protected low-memory region"),
    VTDSIM_ROW(cp, PHMR, kFlag, "protected high-memory region"),
    VTDSIM_ROW(cp, CM, kFlag, "caching mode"),
    VTDSIM_ROW(cp, SAGAW, kEnum, "supported adjusted guest address widths", describe_sagaw),
    VTDSIM_ROW(cp, MGAW, kNumber, "maximum guest address width - 1", describe_mgaw),
    VTDSIM_ROW(cp, ZLR, kFlag, "zero-length read"),
    VTDSIM_ROW(cp, FRO, kHex, "fault-recording register offset / 16", describe_offset16),
    VTDSIM_ROW(cp, SLLPS, kEnum, "second-stage large pages", describe_sllps),
    VTDSIM_ROW(cp, PSI, kFlag, "page-selective invalidation"),
    VTDSIM_ROW(cp, NFR, kNumber, "fault-recording registers - 1", describe_plus_one),
    VTDSIM_ROW(cp, MAMV, kNumber, "maximum address mask value", describe_pages_pow2),
    VTDSIM_ROW(cp, DWD, kFlag, "write draining"),
    VTDSIM_ROW(cp, DRD, kFlag, "read draining"),
    VTDSIM_ROW(cp, FL1GP, kFlag, "first-stage 1 GiB pages"),
    VTDSIM_ROW(cp, PI, kFlag, "posted interrupts"),
    VTDSIM_ROW(cp, FL5LP, kFlag, "first-stage 5-level paging"),
    VTDSIM_ROW(cp, ECMDS, kFlag, "enhanced command interface"),
    VTDSIM_ROW(cp, ESIRTPS, kFlag, "SIRTP invalidates the interrupt entry cache"),
    VTDSIM_ROW(cp, ESRTPS, kFlag, "SRTP invalidates the translation caches"),
};
static_assert(rows_cover_layout<cp::Layout>(kCapRows));

std::string describe_pss(std::uint64_t v) {
  return fmt::format("{}-bit PASIDs", v + 1);
}
std::string describe_mhmv(std::uint64_t v) {
  return fmt::format("handle mask up to {} (blocks of 2^{} IRTEs)", v, v);
}

namespace ec = ie::ecap;
constexpr std::array kEcapRows{
    VTDSIM_ROW(ec, C, kFlag, "page-walk coherency"),
    VTDSIM_ROW(ec, QI, kFlag, "queued invalidation"),
    VTDSIM_ROW(ec, DT, kFlag, "device-TLB (ATS)"),
    VTDSIM_ROW(ec, IR, kFlag, "interrupt remapping"),
    VTDSIM_ROW(ec, EIM, kFlag, "extended interrupt mode (x2APIC)"),
    VTDSIM_ROW(ec, PT, kFlag, "pass-through"),
    VTDSIM_ROW(ec, SC, kFlag, "snoop control"),
    VTDSIM_ROW(ec, IRO, kHex, "IOTLB register offset / 16", describe_offset16),
    VTDSIM_ROW(ec, MHMV, kNumber, "maximum handle mask value", describe_mhmv),
    VTDSIM_ROW(ec, MTS, kFlag, "memory-type support"),
    VTDSIM_ROW(ec, NEST, kFlag, "nested translation"),
    VTDSIM_ROW(ec, PRS, kFlag, "page requests"),
    VTDSIM_ROW(ec, ERS, kFlag, "execute requests"),
    VTDSIM_ROW(ec, SRS, kFlag, "supervisor requests"),
    VTDSIM_ROW(ec, NWFS, kFlag, "no-write flag"),
    VTDSIM_ROW(ec, EAFS, kFlag, "extended accessed flag"),
    VTDSIM_ROW(ec, PSS, kNumber, "PASID size - 1", describe_pss),
    VTDSIM_ROW(ec, PASID, kFlag, "PASID support"),
    VTDSIM_ROW(ec, DIT, kFlag, "device-TLB invalidation throttling"),
    VTDSIM_ROW(ec, PDS, kFlag, "page-request drain"),
    VTDSIM_ROW(ec, SMTS, kFlag, "scalable-mode translation"),
    VTDSIM_ROW(ec, VCS, kFlag, "virtual command"),
    VTDSIM_ROW(ec, SLADS, kFlag, "second-stage accessed/dirty"),
    VTDSIM_ROW(ec, SLTS, kFlag, "second-stage translation (scalable mode)"),
    VTDSIM_ROW(ec, FLTS, kFlag, "first-stage translation"),
    VTDSIM_ROW(ec, SMPWCS, kFlag, "scalable-mode page-walk coherency"),
    VTDSIM_ROW(ec, RPS, kFlag, "RID_PASID"),
};
static_assert(rows_cover_layout<ec::Layout>(kEcapRows));

namespace gs = ie::gsts;
constexpr std::array kGstsRows{
    VTDSIM_ROW(gs, CFIS, kFlag, "compatibility-format interrupts allowed"),
    VTDSIM_ROW(gs, IRTPS, kFlag, "interrupt remapping table pointer latched"),
    VTDSIM_ROW(gs, IRES, kFlag, "interrupt remapping enabled"),
    VTDSIM_ROW(gs, QIES, kFlag, "queued invalidation enabled"),
    VTDSIM_ROW(gs, WBFS, kFlag, "write-buffer flush in progress"),
    VTDSIM_ROW(gs, AFLS, kFlag, "advanced fault logging enabled"),
    VTDSIM_ROW(gs, FLS, kFlag, "fault log pointer latched"),
    VTDSIM_ROW(gs, RTPS, kFlag, "root table pointer latched"),
    VTDSIM_ROW(gs, TES, kFlag, "translation enabled"),
};
static_assert(rows_cover_layout<ie::gcmd::Layout>(kGstsRows));

namespace fs = ie::fsts;
constexpr std::array kFstsRows{
    VTDSIM_ROW(fs, PFO, kFlag, "primary fault overflow (RW1C)"),
    VTDSIM_ROW(fs, PPF, kFlag, "primary pending fault"),
    VTDSIM_ROW(fs, AFO, kFlag, "advanced fault overflow"),
    VTDSIM_ROW(fs, APF, kFlag, "advanced pending fault"),
    VTDSIM_ROW(fs, IQE, kFlag, "invalidation queue error (RW1C)"),
    VTDSIM_ROW(fs, ICE, kFlag, "invalidation completion error (RW1C)"),
    VTDSIM_ROW(fs, ITE, kFlag, "invalidation time-out error (RW1C)"),
    VTDSIM_ROW(fs, FRI, kNumber, "fault record index"),
};
static_assert(rows_cover_layout<fs::Layout>(kFstsRows));

std::string describe_qs(std::uint64_t qs) {
  return fmt::format("2^{} pages: {} 128-bit / {} 256-bit descriptors", qs,
                     std::uint64_t{1} << (qs + 8), std::uint64_t{1} << (qs + 7));
}
std::string describe_dw(std::uint64_t dw) {
  return dw != 0 ? "256-bit descriptors" : "128-bit descriptors";
}
namespace qa = ie::iqa;
constexpr std::array kIqaRows{
    VTDSIM_ROW(qa, QS, kNumber, "queue size", describe_qs),
    VTDSIM_ROW(qa, DW, kFlag, "descriptor width", describe_dw),
    VTDSIM_ROW(qa, IQA, kAddress, "invalidation queue base"),
};
static_assert(rows_cover_layout<qa::Layout>(kIqaRows));

std::string describe_irta_s(std::uint64_t s) {
  return fmt::format("{} entries", std::uint64_t{1} << (s + 1));
}
std::string describe_eime(std::uint64_t v) {
  return v != 0 ? "x2APIC mode (32-bit destinations)" : "xAPIC mode (8-bit destinations)";
}
namespace ra = ie::irta;
constexpr std::array kIrtaRows{
    VTDSIM_ROW(ra, S, kNumber, "table size", describe_irta_s),
    VTDSIM_ROW(ra, EIME, kFlag, "extended interrupt mode enable", describe_eime),
    VTDSIM_ROW(ra, IRTA, kAddress, "interrupt remapping table base"),
};
static_assert(rows_cover_layout<ra::Layout>(kIrtaRows));

std::string describe_ttm(std::uint64_t ttm) {
  switch (ttm) {
    case 0:
      return "legacy mode";
    case 1:
      return "scalable mode";
    case 3:
      return "abort-DMA mode (with ECAP.ADMS)";
    default:
      return "reserved";
  }
}
namespace rt = ie::rtaddr;
constexpr std::array kRtaddrRows{
    VTDSIM_ROW(rt, TTM, kEnum, "translation table mode", describe_ttm),
    VTDSIM_ROW(rt, RTA, kAddress, "root table address"),
};
static_assert(rows_cover_layout<rt::Layout>(kRtaddrRows));

}  // namespace

const Format& frcd() {
  static const Format f{"fault recording register", "§11.4",   128, kFrcdRows,
                        reserved_of<fr::Layout>(),  frcd_extra};
  return f;
}
const Format& cap() {
  static const Format f{"capability register (CAP)", "§11.4", 64, kCapRows,
                        reserved_of<cp::Layout>()};
  return f;
}
const Format& ecap() {
  static const Format f{"extended capability register (ECAP)", "§11.4", 64, kEcapRows,
                        reserved_of<ec::Layout>()};
  return f;
}
const Format& gsts() {
  static const Format f{"global status register (GSTS)", "§11.4", 32, kGstsRows,
                        reserved_of<ie::gcmd::Layout>()};
  return f;
}
const Format& fsts() {
  static const Format f{"fault status register (FSTS)", "§11.4", 32, kFstsRows,
                        reserved_of<fs::Layout>()};
  return f;
}
const Format& iqa() {
  static const Format f{"invalidation queue address register (IQA)", "§11.4", 64, kIqaRows,
                        reserved_of<qa::Layout>()};
  return f;
}
const Format& irta() {
  static const Format f{"interrupt remapping table address register (IRTA)", "§11.4", 64, kIrtaRows,
                        reserved_of<ra::Layout>()};
  return f;
}
const Format& rtaddr() {
  static const Format f{"root table address register (RTADDR)", "§11.4", 64, kRtaddrRows,
                        reserved_of<rt::Layout>()};
  return f;
}

}  // namespace vtdsim::tools::formats
