// Field tables of the queued-invalidation descriptors (spec §6.5.2): types 1–5 over
// iommu/descriptors.h; the type is bits 3:0 with bits 11:9 as type[6:4].
// Not modelled: PASID-based types 6–8 and page-group responses until iommu/ defines them.
#include <array>

#include <fmt/format.h>

#include "iommu/descriptors.h"
#include "tools/formats.h"

namespace vtdsim::tools::formats {

namespace ie = vtdsim::iommu;

namespace {

std::string describe_cc_g(std::uint64_t g) {
  switch (g) {
    case 1:
      return "global";
    case 2:
      return "domain-selective";
    case 3:
      return "device-selective";
    default:
      return "invalid (queue error)";
  }
}
std::string describe_iotlb_g(std::uint64_t g) {
  switch (g) {
    case 1:
      return "global";
    case 2:
      return "domain-selective";
    case 3:
      return "page-selective";
    default:
      return "invalid (queue error)";
  }
}
std::string describe_fm(std::uint64_t fm) {
  switch (fm) {
    case 0:
      return "no bits masked";
    case 1:
      return "mask SID bit 2";
    case 2:
      return "mask SID bits 2:1";
    default:
      return "mask SID bits 2:0";
  }
}
std::string describe_sid(std::uint64_t v) {
  return fmt::format("{:02x}:{:02x}.{:x}", v >> 8, (v >> 3) & 0x1F, v & 7);
}
std::string describe_am(std::uint64_t am) {
  return fmt::format("2^{} pages", am);
}
std::string describe_entries(std::uint64_t im) {
  return fmt::format("2^{} entries", im);
}
std::string describe_iec_g(std::uint64_t g) {
  return g != 0 ? "index-selective" : "global";
}
std::string describe_s(std::uint64_t s) {
  return s != 0 ? "range encoded in ADDR" : "one 4 KiB page";
}

namespace d = ie::desc;
namespace cc = ie::cc_desc;
constexpr std::array kCcRows{
    VTDSIM_ROW(d, Type, kHex, "type[3:0]"),
    VTDSIM_ROW(cc, G, kEnum, "granularity", describe_cc_g),
    VTDSIM_ROW(d, TypeHi, kHex, "type[6:4]"),
    VTDSIM_ROW(cc, DID, kNumber, "domain id"),
    VTDSIM_ROW(cc, SID, kHex, "source id", describe_sid),
    VTDSIM_ROW(cc, FM, kEnum, "function mask", describe_fm),
};
static_assert(rows_cover_layout<cc::Layout>(kCcRows));

namespace io = ie::iotlb_desc;
constexpr std::array kIotlbRows{
    VTDSIM_ROW(d, Type, kHex, "type[3:0]"),
    VTDSIM_ROW(io, G, kEnum, "granularity", describe_iotlb_g),
    VTDSIM_ROW(io, DW, kFlag, "drain writes"),
    VTDSIM_ROW(io, DR, kFlag, "drain reads"),
    VTDSIM_ROW(d, TypeHi, kHex, "type[6:4]"),
    VTDSIM_ROW(io, DID, kNumber, "domain id"),
    VTDSIM_ROW(io, AM, kNumber, "address mask", describe_am),
    VTDSIM_ROW(io, IH, kFlag, "invalidation hint (leaf entries only)"),
    VTDSIM_ROW(io, ADDR, kAddress, "address"),
};
static_assert(rows_cover_layout<io::Layout>(kIotlbRows));

namespace dt = ie::dev_tlb_desc;
constexpr std::array kDevTlbRows{
    VTDSIM_ROW(d, Type, kHex, "type[3:0]"),
    VTDSIM_ROW(d, TypeHi, kHex, "type[6:4]"),
    VTDSIM_ROW(dt, MIP, kNumber, "max invalidations pending"),
    VTDSIM_ROW(dt, SID, kHex, "source id", describe_sid),
    VTDSIM_ROW(dt, S, kFlag, "size", describe_s),
    VTDSIM_ROW(dt, ADDR, kAddress, "address"),
};
static_assert(rows_cover_layout<dt::Layout>(kDevTlbRows));

void dev_tlb_extra(const Words& q, std::vector<std::string>& warnings) {
  const auto r =
      ie::decode_device_tlb_range(model::SourceId{}, 0, dt::ADDR::get(q[1]), dt::S::get(q[1]) != 0);
  warnings.push_back(
      fmt::format("note: invalidates [{:#x}, +2^{} bytes)", r.address, r.size_order));
}

namespace ic = ie::iec_desc;
constexpr std::array kIecRows{
    VTDSIM_ROW(d, Type, kHex, "type[3:0]"),
    VTDSIM_ROW(ic, G, kFlag, "granularity", describe_iec_g),
    VTDSIM_ROW(d, TypeHi, kHex, "type[6:4]"),
    VTDSIM_ROW(ic, IM, kNumber, "index mask", describe_entries),
    VTDSIM_ROW(ic, IIDX, kHex, "interrupt index"),
};
static_assert(rows_cover_layout<ic::Layout>(kIecRows));

namespace wt = ie::wait_desc;
constexpr std::array kWaitRows{
    VTDSIM_ROW(d, Type, kHex, "type[3:0]"),
    VTDSIM_ROW(wt, IF, kFlag, "interrupt on completion (ICS.IWC)"),
    VTDSIM_ROW(wt, SW, kFlag, "write status data"),
    VTDSIM_ROW(wt, FN, kFlag, "fence"),
    VTDSIM_ROW(d, TypeHi, kHex, "type[6:4]"),
    VTDSIM_ROW(wt, STATUS_DATA, kHex, "status data"),
    VTDSIM_ROW(wt, STATUS_ADDR, kAddress, "status address (dword aligned)"),
};
static_assert(rows_cover_layout<wt::Layout>(kWaitRows));

}  // namespace

const Format* descriptor(unsigned type, std::string& name) {
  static const Format kCc{"context-cache invalidate descriptor", "§6.5.2", 128, kCcRows,
                          reserved_of<cc::Layout>()};
  static const Format kIotlb{"IOTLB invalidate descriptor", "§6.5.2", 128, kIotlbRows,
                             reserved_of<io::Layout>()};
  static const Format kDevTlb{"device-TLB invalidate descriptor", "§6.5.2",     128, kDevTlbRows,
                              reserved_of<dt::Layout>(),          dev_tlb_extra};
  static const Format kIec{"interrupt-entry-cache invalidate descriptor", "§6.5.2", 128, kIecRows,
                           reserved_of<ic::Layout>()};
  static const Format kWait{"invalidation wait descriptor", "§6.5.2", 128, kWaitRows,
                            reserved_of<wt::Layout>()};
  switch (type) {
    case d::kContextCache:
      name = "context-cache invalidate";
      return &kCc;
    case d::kIotlb:
      name = "IOTLB invalidate";
      return &kIotlb;
    case d::kDeviceTlb:
      name = "device-TLB invalidate";
      return &kDevTlb;
    case d::kIec:
      name = "interrupt-entry-cache invalidate";
      return &kIec;
    case d::kWait:
      name = "invalidation wait";
      return &kWait;
    case 6:
      name = "PASID-based IOTLB invalidate (256-bit)";
      return nullptr;
    case 7:
      name = "PASID-cache invalidate (256-bit)";
      return nullptr;
    case 8:
      name = "PASID-based device-TLB invalidate (256-bit)";
      return nullptr;
    case 9:
      name = "page-group response (256-bit)";
      return nullptr;
    default:
      name = "reserved";
      return nullptr;
  }
}

}  // namespace vtdsim::tools::formats
