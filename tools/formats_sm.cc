// Field tables of the scalable-mode structures: scalable root entry (spec §9.2), scalable
// context entry (§9.4), PASID directory entry (§9.5), PASID table entry (§9.6) and the IA-32e
// first-stage paging entry (§9.7), over iommu/scalable_formats.h.
// Not modelled: checks that depend on CAP/ECAP (SRE, SSADE, EAFE need their ECAP bits).
#include <array>

#include <fmt/format.h>

#include "iommu/scalable_formats.h"
#include "tools/formats.h"

namespace vtdsim::tools::formats {

namespace ie = vtdsim::iommu;

namespace {

std::string describe_present(std::uint64_t v) {
  return v != 0 ? "present" : "not present";
}

namespace sr = ie::sm_root_entry;
constexpr std::array kSmRootRows{
    VTDSIM_ROW(sr, LP, kFlag, "lower present (devfn 0x00-0x7F)"),
    VTDSIM_ROW(sr, LCTP, kAddress, "lower context-table pointer"),
    VTDSIM_ROW(sr, UP, kFlag, "upper present (devfn 0x80-0xFF)"),
    VTDSIM_ROW(sr, UCTP, kAddress, "upper context-table pointer"),
};
static_assert(rows_cover_layout<sr::Layout>(kSmRootRows));

std::string describe_pdts(std::uint64_t v) {
  return fmt::format("{} directory entries ({} PASIDs)",
                     ie::pasid_dir_entries(static_cast<unsigned>(v)),
                     ie::pasid_dir_entries(static_cast<unsigned>(v)) * 64);
}

namespace sc = ie::sm_context_entry;
constexpr std::array kSmContextRows{
    VTDSIM_ROW(sc, P, kFlag, "", describe_present),
    VTDSIM_ROW(sc, FPD, kFlag, "fault processing disable"),
    VTDSIM_ROW(sc, DTE, kFlag, "device-TLB (ATS) enable"),
    VTDSIM_ROW(sc, PASIDE, kFlag, "requests with PASID allowed"),
    VTDSIM_ROW(sc, PRE, kFlag, "page-request enable"),
    VTDSIM_ROW(sc, PDTS, kNumber, "PASID directory size", describe_pdts),
    VTDSIM_ROW(sc, PASIDDIRPTR, kAddress, "PASID directory pointer"),
    VTDSIM_ROW(sc, RID_PASID, kHex, "PASID for requests without PASID"),
};
static_assert(rows_cover_layout<sc::Layout>(kSmContextRows));

namespace pd = ie::pasid_dir_entry;
constexpr std::array kPasidDirRows{
    VTDSIM_ROW(pd, P, kFlag, "", describe_present),
    VTDSIM_ROW(pd, FPD, kFlag, "fault processing disable"),
    VTDSIM_ROW(pd, SMPTBLPTR, kAddress, "PASID table pointer"),
};
static_assert(rows_cover_layout<pd::Layout>(kPasidDirRows));

std::string describe_pgtt(std::uint64_t v) {
  switch (v) {
    case ie::pasid_entry::kPgttFirstStage:
      return "first-stage only";
    case ie::pasid_entry::kPgttSecondStage:
      return "second-stage only";
    case ie::pasid_entry::kPgttNested:
      return "nested";
    case ie::pasid_entry::kPgttPassThrough:
      return "pass-through";
    default:
      return "reserved (fault 0x5B)";
  }
}
std::string describe_fspm(std::uint64_t v) {
  switch (v) {
    case 0:
      return "4-level (48-bit)";
    case 1:
      return "5-level (57-bit, needs CAP.FL5LP)";
    default:
      return "reserved";
  }
}

namespace pe = ie::pasid_entry;
constexpr std::array kPasidRows{
    VTDSIM_ROW(pe, P, kFlag, "", describe_present),
    VTDSIM_ROW(pe, FPD, kFlag, "fault processing disable"),
    VTDSIM_ROW(pe, AW, kEnum, "second-stage address width", describe_aw),
    VTDSIM_ROW(pe, PGTT, kEnum, "PASID granular translation type", describe_pgtt),
    VTDSIM_ROW(pe, SSADE, kFlag, "second-stage accessed/dirty enable"),
    VTDSIM_ROW(pe, SSPTPTR, kAddress, "second-stage page-table pointer"),
    VTDSIM_ROW(pe, DID, kNumber, "domain id"),
    VTDSIM_ROW(pe, PWSNP, kFlag, "page-walk snoop"),
    VTDSIM_ROW(pe, PGSNP, kFlag, "page snoop"),
    VTDSIM_ROW(pe, CD, kFlag, "cache disable (ignored)"),
    VTDSIM_ROW(pe, EMTE, kFlag, "extended memory type enable (ignored)"),
    VTDSIM_ROW(pe, EMT, kEnum, "extended memory type (ignored)"),
    VTDSIM_ROW(pe, PWT, kFlag, "page-level write-through (ignored)"),
    VTDSIM_ROW(pe, PCD, kFlag, "page-level cache disable (ignored)"),
    VTDSIM_ROW(pe, PAT, kHex, "page attribute table (ignored)"),
    VTDSIM_ROW(pe, SRE, kFlag, "supervisor requests enable"),
    VTDSIM_ROW(pe, FSPM, kEnum, "first-stage paging mode", describe_fspm),
    VTDSIM_ROW(pe, WPE, kFlag, "write-protect enable"),
    VTDSIM_ROW(pe, NXE, kFlag, "no-execute enable"),
    VTDSIM_ROW(pe, IGN_134, kFlag, "ignored"),
    VTDSIM_ROW(pe, EAFE, kFlag, "extended accessed flag enable"),
    VTDSIM_ROW(pe, FSPTPTR, kAddress, "first-stage page-table pointer"),
};
static_assert(rows_cover_layout<pe::Layout>(kPasidRows));

namespace fe = ie::fs_entry;
constexpr std::array kFsRows{
    VTDSIM_ROW(fe, P, kFlag, "", describe_present),
    VTDSIM_ROW(fe, RW, kFlag, "writable"),
    VTDSIM_ROW(fe, US, kFlag, "user accessible"),
    VTDSIM_ROW(fe, PWT, kFlag, "page-level write-through"),
    VTDSIM_ROW(fe, PCD, kFlag, "page-level cache disable"),
    VTDSIM_ROW(fe, A, kFlag, "accessed"),
    VTDSIM_ROW(fe, D, kFlag, "dirty (leaf)"),
    VTDSIM_ROW(fe, PS, kFlag, "page size: leaf in a PDE (2 MiB) / PDPE (1 GiB)"),
    VTDSIM_ROW(fe, G, kFlag, "global"),
    VTDSIM_ROW(fe, IGN_11_9, kHex, "ignored"),
    VTDSIM_ROW(fe, ADDR, kAddress, "next-table or page address (bit 12 = PAT in large leaves)"),
    VTDSIM_ROW(fe, IGN_62_52, kHex, "ignored"),
    VTDSIM_ROW(fe, XD, kFlag, "execute disable (with PASID NXE)"),
};
static_assert(rows_cover_layout<fe::Layout>(kFsRows));

void fs_extra(const Words& q, std::vector<std::string>& warnings) {
  if (fe::P::get(q[0]) == 0) warnings.push_back("not present: a walk reaching it faults (0x71)");
}

}  // namespace

const Format& root_scalable() {
  static const Format f{"scalable-mode root entry", "§9.2", 128, kSmRootRows,
                        reserved_of<sr::Layout>()};
  return f;
}
const Format& context_scalable() {
  static const Format f{"scalable-mode context entry", "§9.4", 256, kSmContextRows,
                        reserved_of<sc::Layout>()};
  return f;
}
const Format& pasid_dir() {
  static const Format f{"PASID directory entry", "§9.5", 64, kPasidDirRows,
                        reserved_of<pd::Layout>()};
  return f;
}
const Format& pasid_entry() {
  static const Format f{"PASID table entry", "§9.6", 512, kPasidRows, reserved_of<pe::Layout>()};
  return f;
}
const Format& fs_entry() {
  static const Format f{"first-stage paging entry (IA-32e)", "§9.7",  64, kFsRows,
                        reserved_of<fe::Layout>(),           fs_extra};
  return f;
}

}  // namespace vtdsim::tools::formats
