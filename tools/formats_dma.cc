// Field tables of the legacy translation structures: root entry (spec §9.1), context entry
// (§9.3) and second-stage paging entry (§9.8), over iommu/legacy_formats.h.
#include <array>

#include <fmt/format.h>

#include "iommu/legacy_formats.h"
#include "tools/formats.h"

namespace vtdsim::tools::formats {

namespace ie = vtdsim::iommu;

std::string describe_aw(std::uint64_t aw) {
  if (aw > 3) return "reserved";
  const std::string s = fmt::format("{}-bit, {}-level", ie::width_for_aw(static_cast<unsigned>(aw)),
                                    ie::levels_for_aw(static_cast<unsigned>(aw)));
  return aw == 0 ? s + " (obsolete)" : s;
}

namespace {

std::string describe_present(std::uint64_t v) {
  return v != 0 ? "present" : "not present";
}

std::string describe_tt(std::uint64_t tt) {
  switch (tt) {
    case ie::context_entry::kTtUntranslatedOnly:
      return "untranslated requests only (ATS requests blocked)";
    case ie::context_entry::kTtDeviceTlb:
      return "untranslated and ATS requests (device-TLB)";
    case ie::context_entry::kTtPassThrough:
      return "pass-through (output = input)";
    default:
      return "reserved";
  }
}

namespace re = ie::root_entry;
constexpr std::array kRootRows{
    VTDSIM_ROW(re, P, kFlag, "", describe_present),
    VTDSIM_ROW(re, CTP, kAddress, "context-table pointer"),
};
static_assert(rows_cover_layout<re::Layout>(kRootRows));

namespace ce = ie::context_entry;
constexpr std::array kContextRows{
    VTDSIM_ROW(ce, P, kFlag, "", describe_present),
    VTDSIM_ROW(ce, FPD, kFlag, "fault processing disable"),
    VTDSIM_ROW(ce, TT, kEnum, "translation type", describe_tt),
    VTDSIM_ROW(ce, SLPTPTR, kAddress, "second-stage page-table pointer"),
    VTDSIM_ROW(ce, AW, kEnum, "address width", describe_aw),
    VTDSIM_ROW(ce, AVAIL, kHex, "available to software"),
    VTDSIM_ROW(ce, DID, kNumber, "domain id"),
};
static_assert(rows_cover_layout<ce::Layout>(kContextRows));

void context_extra(const Words& q, std::vector<std::string>& warnings) {
  const std::uint64_t tt = ce::TT::get(q[0]);
  if (tt == 3) warnings.push_back("TT = 11b is reserved (fault 0x03 when present)");
  const std::uint64_t aw = ce::AW::get(q[1]);
  if (aw == 0 || aw > 3) warnings.push_back("AW not a 3/4/5-level width (fault 0x03 unless SAGAW)");
}

namespace se = ie::sl_entry;
constexpr std::array kSlRows{
    VTDSIM_ROW(se, R, kFlag, "read"),
    VTDSIM_ROW(se, W, kFlag, "write"),
    VTDSIM_ROW(se, IGN_6_2, kHex, "ignored (X/EMT/IPAT in older specs)"),
    VTDSIM_ROW(se, PS, kFlag, "page size: leaf at level 2 (2 MiB) / 3 (1 GiB)"),
    VTDSIM_ROW(se, A, kFlag, "accessed (scalable mode with SSADE only)"),
    VTDSIM_ROW(se, D, kFlag, "dirty (scalable mode with SSADE only)"),
    VTDSIM_ROW(se, IGN_10, kFlag, "ignored"),
    VTDSIM_ROW(se, SNP, kFlag, "snoop (with ECAP.SC)"),
    VTDSIM_ROW(se, ADDR, kAddress, "next-table or page address"),
    VTDSIM_ROW(se, IGN_61_52, kHex, "ignored"),
    VTDSIM_ROW(se, IGN_63, kFlag, "ignored"),
};
static_assert(rows_cover_layout<se::Layout>(kSlRows));

void sl_extra(const Words& q, std::vector<std::string>& warnings) {
  if (se::R::get(q[0]) == 0 && se::W::get(q[0]) == 0) {
    warnings.push_back("not present (R = W = 0): the walk stops here");
  }
}

}  // namespace

const Format& root_legacy() {
  static const Format f{"legacy root entry", "§9.1", 128, kRootRows, reserved_of<re::Layout>()};
  return f;
}
const Format& context_legacy() {
  static const Format f{"legacy context entry",    "§9.3",       128, kContextRows,
                        reserved_of<ce::Layout>(), context_extra};
  return f;
}
const Format& sl_entry() {
  static const Format f{"second-stage paging entry", "§9.8",  64, kSlRows,
                        reserved_of<se::Layout>(),   sl_extra};
  return f;
}

}  // namespace vtdsim::tools::formats
