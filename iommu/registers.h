// Register offsets and field layouts of one remapping hardware unit (spec §11.4; facts sheet
// §1, §2, §5.3, §6.1, §7.1). One namespace of model::Field descriptors per register; the
// masks that govern software access (RW, RW1C) are derived in register_file.cc.
// Not modelled: AFLOG/PMEN/PLMR/PHMR, page-request, MTRR, perfmon, ECMD and VCMD registers
// (the unit never advertises them, so their offsets are reserved).
#pragma once

#include <cstdint>

#include "model/field.h"

namespace vtdsim::iommu {

// Fixed register offsets (spec §11.4, facts §1.1). IVA/IOTLB sit at ECAP.IRO×16, FRCDs at
// CAP.FRO×16 + 16·i.
namespace reg_offset {
inline constexpr std::uint32_t kVer = 0x000;
inline constexpr std::uint32_t kCap = 0x008;
inline constexpr std::uint32_t kEcap = 0x010;
inline constexpr std::uint32_t kGcmd = 0x018;
inline constexpr std::uint32_t kGsts = 0x01C;
inline constexpr std::uint32_t kRtaddr = 0x020;
inline constexpr std::uint32_t kCcmd = 0x028;
inline constexpr std::uint32_t kFsts = 0x034;
inline constexpr std::uint32_t kFectl = 0x038;
inline constexpr std::uint32_t kFedata = 0x03C;
inline constexpr std::uint32_t kFeaddr = 0x040;
inline constexpr std::uint32_t kFeuaddr = 0x044;
inline constexpr std::uint32_t kIqh = 0x080;
inline constexpr std::uint32_t kIqt = 0x088;
inline constexpr std::uint32_t kIqa = 0x090;
inline constexpr std::uint32_t kIcs = 0x09C;
inline constexpr std::uint32_t kIectl = 0x0A0;
inline constexpr std::uint32_t kIedata = 0x0A4;
inline constexpr std::uint32_t kIeaddr = 0x0A8;
inline constexpr std::uint32_t kIeuaddr = 0x0AC;
inline constexpr std::uint32_t kIqer = 0x0B0;
inline constexpr std::uint32_t kIrta = 0x0B8;
// First offset past the architectural fixed block (PEUADDR ends at 0x0F0): IVA/IOTLB and the
// FRCDs must be placed at or above it.
inline constexpr std::uint32_t kFixedEnd = 0x0F0;
}  // namespace reg_offset

// VER (spec §11.4).
namespace ver {
using Min = model::Field<3, 0>;
using Max = model::Field<7, 4>;
using Layout = model::Layout<1, Min, Max>;
static_assert(model::valid_layout<Layout>());
}  // namespace ver

// CAP (spec §11.4, facts §1.2).
namespace cap {
using ND = model::Field<2, 0>;
using AFL = model::Field<3, 3>;
using RWBF = model::Field<4, 4>;
using PLMR = model::Field<5, 5>;
using PHMR = model::Field<6, 6>;
using CM = model::Field<7, 7>;
using SAGAW = model::Field<12, 8>;
using MGAW = model::Field<21, 16>;
using ZLR = model::Field<22, 22>;
using FRO = model::Field<33, 24>;
using SLLPS = model::Field<37, 34>;
using PSI = model::Field<39, 39>;
using NFR = model::Field<47, 40>;
using MAMV = model::Field<53, 48>;
using DWD = model::Field<54, 54>;
using DRD = model::Field<55, 55>;
using FL1GP = model::Field<56, 56>;
using PI = model::Field<59, 59>;
using FL5LP = model::Field<60, 60>;
using ECMDS = model::Field<61, 61>;
using ESIRTPS = model::Field<62, 62>;
using ESRTPS = model::Field<63, 63>;
using Layout = model::Layout<1, ND, AFL, RWBF, PLMR, PHMR, CM, SAGAW, MGAW, ZLR, FRO, SLLPS, PSI,
                             NFR, MAMV, DWD, DRD, FL1GP, PI, FL5LP, ECMDS, ESIRTPS, ESRTPS>;
static_assert(model::valid_layout<Layout>());
}  // namespace cap

// ECAP (spec §11.4, facts §1.3).
namespace ecap {
using C = model::Field<0, 0>;
using QI = model::Field<1, 1>;
using DT = model::Field<2, 2>;
using IR = model::Field<3, 3>;
using EIM = model::Field<4, 4>;
using PT = model::Field<6, 6>;
using SC = model::Field<7, 7>;
using IRO = model::Field<17, 8>;
using MHMV = model::Field<23, 20>;
using MTS = model::Field<25, 25>;
using NEST = model::Field<26, 26>;
using PRS = model::Field<29, 29>;
using ERS = model::Field<30, 30>;
using SRS = model::Field<31, 31>;
using NWFS = model::Field<33, 33>;
using EAFS = model::Field<34, 34>;
using PSS = model::Field<39, 35>;
using PASID = model::Field<40, 40>;
using DIT = model::Field<41, 41>;
using PDS = model::Field<42, 42>;
using SMTS = model::Field<43, 43>;
using VCS = model::Field<44, 44>;
using SLADS = model::Field<45, 45>;
using SLTS = model::Field<46, 46>;
using FLTS = model::Field<47, 47>;
using SMPWCS = model::Field<48, 48>;
using RPS = model::Field<49, 49>;
using Layout =
    model::Layout<1, C, QI, DT, IR, EIM, PT, SC, IRO, MHMV, MTS, NEST, PRS, ERS, SRS, NWFS, EAFS,
                  PSS, PASID, DIT, PDS, SMTS, VCS, SLADS, SLTS, FLTS, SMPWCS, RPS>;
static_assert(model::valid_layout<Layout>());
}  // namespace ecap

// GCMD and GSTS share bit positions (spec §11.4, facts §1.4); bits 22:0 reserved.
namespace gcmd {
using CFI = model::Field<23, 23>;    // level
using SIRTP = model::Field<24, 24>;  // one-shot
using IRE = model::Field<25, 25>;    // level
using QIE = model::Field<26, 26>;    // level
using WBF = model::Field<27, 27>;    // one-shot
using EAFL = model::Field<28, 28>;   // level
using SFL = model::Field<29, 29>;    // one-shot
using SRTP = model::Field<30, 30>;   // one-shot
using TE = model::Field<31, 31>;     // level
using Layout = model::Layout<1, CFI, SIRTP, IRE, QIE, WBF, EAFL, SFL, SRTP, TE>;
static_assert(model::valid_layout<Layout>());
}  // namespace gcmd
namespace gsts {
using CFIS = gcmd::CFI;
using IRTPS = gcmd::SIRTP;
using IRES = gcmd::IRE;
using QIES = gcmd::QIE;
using WBFS = gcmd::WBF;
using AFLS = gcmd::EAFL;
using FLS = gcmd::SFL;
using RTPS = gcmd::SRTP;
using TES = gcmd::TE;
}  // namespace gsts

// RTADDR (spec §11.4, facts §1.5).
namespace rtaddr {
using TTM = model::Field<11, 10>;
using RTA = model::Field<63, 12>;
using Layout = model::Layout<1, TTM, RTA>;
static_assert(model::valid_layout<Layout>());
}  // namespace rtaddr

// CCMD (spec §11.4, facts §2.1).
namespace ccmd {
using DID = model::Field<15, 0>;
using SID = model::Field<31, 16>;
using FM = model::Field<33, 32>;
using CAIG = model::Field<60, 59>;  // RO
using CIRG = model::Field<62, 61>;
using ICC = model::Field<63, 63>;
using Layout = model::Layout<1, DID, SID, FM, CAIG, CIRG, ICC>;
static_assert(model::valid_layout<Layout>());
}  // namespace ccmd

// FSTS (spec §11.4, facts §1.6).
namespace fsts {
using PFO = model::Field<0, 0>;  // RW1C
using PPF = model::Field<1, 1>;  // RO: OR of all FRCD.F
using AFO = model::Field<2, 2>;
using APF = model::Field<3, 3>;
using IQE = model::Field<4, 4>;   // RW1C
using ICE = model::Field<5, 5>;   // RW1C (device-TLB only)
using ITE = model::Field<6, 6>;   // RW1C (device-TLB only)
using FRI = model::Field<15, 8>;  // RO
using Layout = model::Layout<1, PFO, PPF, AFO, APF, IQE, ICE, ITE, FRI>;
static_assert(model::valid_layout<Layout>());
}  // namespace fsts

// FECTL and IECTL (spec §11.4): IM RW, IP RO.
namespace event_ctl {
using IP = model::Field<30, 30>;
using IM = model::Field<31, 31>;
using Layout = model::Layout<1, IP, IM>;
static_assert(model::valid_layout<Layout>());
}  // namespace event_ctl

// FEDATA/IEDATA: 16-bit interrupt data (bits 31:16, extended data, treated as RsvdZ).
namespace event_data {
using IMD = model::Field<15, 0>;
using Layout = model::Layout<1, IMD>;
static_assert(model::valid_layout<Layout>());
}  // namespace event_data

// FEADDR/IEADDR: message address 31:2.
namespace event_addr {
using MA = model::Field<31, 2>;
using Layout = model::Layout<1, MA>;
static_assert(model::valid_layout<Layout>());
}  // namespace event_addr

// FEUADDR/IEUADDR: upper message address (only with ECAP.EIM).
namespace event_uaddr {
using MUA = model::Field<31, 0>;
using Layout = model::Layout<1, MUA>;
static_assert(model::valid_layout<Layout>());
}  // namespace event_uaddr

// IQH / IQT (spec §11.4, facts §6.1): byte offset of head/tail in bits 18:4.
namespace queue_pointer {
using QO = model::Field<18, 4>;
using Layout = model::Layout<1, QO>;
static_assert(model::valid_layout<Layout>());
}  // namespace queue_pointer

// IQA (spec §11.4, facts §6.1).
namespace iqa {
using QS = model::Field<2, 0>;
using DW = model::Field<11, 11>;
using IQA = model::Field<63, 12>;
using Layout = model::Layout<1, QS, DW, IQA>;
static_assert(model::valid_layout<Layout>());
}  // namespace iqa

// ICS (spec §11.4).
namespace ics {
using IWC = model::Field<0, 0>;  // RW1C
using Layout = model::Layout<1, IWC>;
static_assert(model::valid_layout<Layout>());
}  // namespace ics

// IQER (spec §11.4): error information, RO.
namespace iqer {
using IQEI = model::Field<3, 0>;
using ITESID = model::Field<47, 32>;
using ICESID = model::Field<63, 48>;
using Layout = model::Layout<1, IQEI, ITESID, ICESID>;
static_assert(model::valid_layout<Layout>());
}  // namespace iqer

// IQER.IQEI encodings (spec §11.4, Intel datasheets, IQERCD_REG "Invalidation Queue Error
// Info").
enum class QueueError : std::uint8_t {
  kNone = 0,
  kInvalidTail = 1,    // IQT beyond the queue, or bit 4 set with 256-bit descriptors
  kFetchError = 2,     // the descriptor read failed
  kInvalidType = 3,    // unknown type, or a type the unit does not support
  kReservedField = 4,  // reserved field set (or invalid encoding) in a valid type
  kInvalidWidth = 5,   // IQA.DW does not fit the translation mode
};

// IRTA (spec §11.4 / §7.1 of the facts sheet).
namespace irta {
using S = model::Field<3, 0>;
using EIME = model::Field<11, 11>;
using IRTA = model::Field<63, 12>;
using Layout = model::Layout<1, S, EIME, IRTA>;
static_assert(model::valid_layout<Layout>());
}  // namespace irta

// IVA (spec §11.4, facts §2.3).
namespace iva {
using AM = model::Field<5, 0>;
using IH = model::Field<6, 6>;
using ADDR = model::Field<63, 12>;
using Layout = model::Layout<1, AM, IH, ADDR>;
static_assert(model::valid_layout<Layout>());
}  // namespace iva

// IOTLB register (spec §11.4, facts §2.2).
namespace iotlb_reg {
using DID = model::Field<47, 32>;
using DW = model::Field<48, 48>;
using DR = model::Field<49, 49>;
using IAIG = model::Field<58, 57>;  // RO
using IIRG = model::Field<61, 60>;
using IVT = model::Field<63, 63>;
using Layout = model::Layout<1, DID, DW, DR, IAIG, IIRG, IVT>;
static_assert(model::valid_layout<Layout>());
}  // namespace iotlb_reg

// Fault recording register, 128 bits (spec §11.4, facts §5.3).
namespace frcd {
using FI = model::Field<63, 12>;     // DMA: page address; IR: index in 63:48
using FI_IR = model::Field<63, 48>;  // interrupt index for IR faults (bits 47:12 clear)
using SID = model::Field<79, 64>;
using PRIV = model::Field<93, 93>;
using EXE = model::Field<94, 94>;
using PP = model::Field<95, 95>;
using FR = model::Field<103, 96>;
using PV = model::Field<123, 104>;
using AT = model::Field<125, 124>;
using T = model::Field<126, 126>;  // 0 write, 1 read
using F = model::Field<127, 127>;  // RW1C
using Layout = model::Layout<2, FI, SID, PRIV, EXE, PP, FR, PV, AT, T, F>;
static_assert(model::valid_layout<Layout>());
}  // namespace frcd

}  // namespace vtdsim::iommu
