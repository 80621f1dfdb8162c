#include "iommu/pasid_lookup.h"

#include <algorithm>

#include "iommu/legacy_formats.h"
#include "iommu/scalable_formats.h"

namespace vtdsim::iommu {

namespace {

template <std::size_t N>
bool read_entry(const model::PhysicalMemory& memory, std::uint64_t pa, model::Entry<N>& e) {
  for (std::size_t i = 0; i < N; ++i) {
    if (!memory.read_into(pa + 8 * i, e.q[i])) return false;
  }
  return true;
}

}  // namespace

ContextFetch fetch_sm_context(const model::PhysicalMemory& memory, const UnitConfig& config,
                              std::uint64_t root_table, model::SourceId sid) {
  ContextFetch out;
  const std::uint64_t above_haw = bits_at_or_above(config.host_address_width);

  // Scalable root entry (§9.2): devfn 0x00–0x7F use the lower half, 0x80–0xFF the upper.
  model::Entry128 re;
  ++out.reads;
  if (!read_entry(memory, root_table + sid.bus() * sm_root_entry::kSize, re)) {
    out.reason = FaultReason::kSmRootReadError;
    return out;
  }
  const bool upper = sid.devfn() >= 0x80;
  const bool present = upper ? re.get<sm_root_entry::UP>() != 0 : re.get<sm_root_entry::LP>() != 0;
  if (!present) {
    out.reason = FaultReason::kSmRootNotPresent;
    return out;
  }
  const std::uint64_t ctp =
      upper ? sm_root_entry::UCTP::get(re.q[1]) << 12 : re.raw<sm_root_entry::LCTP>();
  // Reserved bits of the whole entry count, as does the used pointer above the HAW.
  if (sm_root_entry::Layout::reserved_bits_set(re) || (ctp & above_haw) != 0) {
    out.reason = FaultReason::kSmRootReserved;
    return out;
  }

  // Scalable context entry (§9.4): FPD is taken even when P = 0 (facts §3.3).
  model::Entry256 ce;
  ++out.reads;
  const std::uint64_t index = sid.devfn() & 0x7Fu;
  if (!read_entry(memory, ctp + index * sm_context_entry::kSize, ce)) {
    out.reason = FaultReason::kSmContextReadError;
    return out;
  }
  out.info.scalable = true;
  out.info.fpd = ce.get<sm_context_entry::FPD>() != 0;
  if (ce.get<sm_context_entry::P>() == 0) {
    out.reason = FaultReason::kSmContextNotPresent;
    return out;
  }
  const std::uint64_t dir = ce.raw<sm_context_entry::PASIDDIRPTR>();
  if (sm_context_entry::Layout::reserved_bits_set(ce) || (dir & above_haw) != 0) {
    out.reason = FaultReason::kSmContextReserved;
    return out;
  }
  const bool dte = ce.get<sm_context_entry::DTE>() != 0;
  const bool paside = ce.get<sm_context_entry::PASIDE>() != 0;
  const bool pre = ce.get<sm_context_entry::PRE>() != 0;
  // Decision: enabling a feature the unit does not advertise (DTE without ECAP.DT, PASIDE
  // without ECAP.PASID, PRE without ECAP.PRS) is invalid programming (0x43).
  if ((dte && !config.device_tlb) || (paside && !config.pasid) || pre) {
    out.reason = FaultReason::kSmContextInvalid;
    return out;
  }
  // RID_PASID must be 0 without ECAP.RPS and inside the PASID space (0x48).
  const auto rid_pasid = static_cast<std::uint32_t>(ce.get<sm_context_entry::RID_PASID>());
  const std::uint64_t pasids = std::uint64_t{1} << (config.pss + 1);
  if ((rid_pasid != 0 && !config.rid_pasid) || rid_pasid >= pasids) {
    out.reason = FaultReason::kSmRidPasidError;
    return out;
  }
  out.info.present = true;
  out.info.dte = dte;
  out.info.paside = paside;
  out.info.pre = pre;
  out.info.pdts = static_cast<std::uint8_t>(ce.get<sm_context_entry::PDTS>());
  out.info.rid_pasid = rid_pasid;
  out.info.pasid_dir = dir;
  return out;
}

PasidFetch fetch_pasid(const model::PhysicalMemory& memory, const UnitConfig& config,
                       const ContextInfo& context, std::uint32_t pasid) {
  PasidFetch out;
  out.info.fpd = context.fpd;
  const std::uint64_t above_haw = bits_at_or_above(config.host_address_width);
  // PASID beyond the directory the context describes (0x46; facts §3.3).
  if (pasid_dir_index(pasid) >= pasid_dir_entries(context.pdts)) {
    out.reason = FaultReason::kSmPasidBeyondDirectory;
    return out;
  }

  // PASID directory entry (§9.5): FPD ORed in even when P = 0.
  std::uint64_t de = 0;
  ++out.reads;
  if (!memory.read_into(context.pasid_dir + pasid_dir_index(pasid) * pasid_dir_entry::kSize, de)) {
    out.reason = FaultReason::kSmPasidDirReadError;
    return out;
  }
  out.info.fpd = out.info.fpd || pasid_dir_entry::FPD::get(de) != 0;
  if (pasid_dir_entry::P::get(de) == 0) {
    out.reason = FaultReason::kSmPasidDirNotPresent;
    return out;
  }
  const std::uint64_t table = pasid_dir_entry::SMPTBLPTR::raw(de);
  if ((de & pasid_dir_entry::Layout::kReserved[0]) != 0 || (table & above_haw) != 0) {
    out.reason = FaultReason::kSmPasidDirReserved;
    return out;
  }

  // PASID table entry (§9.6).
  model::Entry512 pe;
  ++out.reads;
  if (!read_entry(memory, table + pasid_table_index(pasid) * pasid_entry::kSize, pe)) {
    out.reason = FaultReason::kSmPasidEntryReadError;
    return out;
  }
  PasidInfo& info = out.info;
  info.fpd = info.fpd || pe.get<pasid_entry::FPD>() != 0;
  if (pe.get<pasid_entry::P>() == 0) {
    out.reason = FaultReason::kSmPasidEntryNotPresent;
    return out;
  }
  const auto pgtt = static_cast<std::uint8_t>(pe.get<pasid_entry::PGTT>());
  const bool uses_ss = pgtt == pasid_entry::kPgttSecondStage || pgtt == pasid_entry::kPgttNested;
  const bool uses_fs = pgtt == pasid_entry::kPgttFirstStage || pgtt == pasid_entry::kPgttNested;
  info.sre = pe.get<pasid_entry::SRE>() != 0;
  info.ssade = pe.get<pasid_entry::SSADE>() != 0;
  info.eafe = pe.get<pasid_entry::EAFE>() != 0;
  info.ssptptr = pe.raw<pasid_entry::SSPTPTR>();
  info.fsptptr = pe.get<pasid_entry::FSPTPTR>() << 12;
  // Reserved: the layout's bits, capability-dependent bits (SRE without ECAP.SRS is reserved,
  // per the Linux fix for fault 0x5A; SSADE without SLADS; EAFE without EAFS), and the used
  // table pointers above the HAW (a nested FSPTPTR is a GPA, checked by the walk: 0x74).
  const bool reserved = pasid_entry::Layout::reserved_bits_set(pe) ||
                        (info.sre && !config.supervisor_requests) ||
                        (info.ssade && !config.ss_ad) || (info.eafe && !config.eafs) ||
                        (uses_ss && (info.ssptptr & above_haw) != 0) ||
                        (pgtt == pasid_entry::kPgttFirstStage && (info.fsptptr & above_haw) != 0);
  if (reserved) {
    out.reason = FaultReason::kSmPasidEntryReserved;
    return out;
  }
  // Invalid programming (0x5B): a PGTT the unit does not support, an AW outside CAP.SAGAW, a
  // first-stage paging mode without CAP.FL5LP.
  bool valid = false;
  switch (pgtt) {
    case pasid_entry::kPgttFirstStage:
      valid = config.fs_translation;
      break;
    case pasid_entry::kPgttSecondStage:
      valid = config.ss_translation;
      break;
    case pasid_entry::kPgttNested:
      valid = config.nested && config.fs_translation && config.ss_translation;
      break;
    case pasid_entry::kPgttPassThrough:
      valid = config.pass_through;
      break;
    default:
      break;
  }
  if (uses_ss) {
    const auto aw = static_cast<unsigned>(pe.get<pasid_entry::AW>());
    if (aw < 1 || aw > 3 || ((config.sagaw >> aw) & 1u) == 0) {
      valid = false;
    } else {
      info.ss_levels = static_cast<std::uint8_t>(levels_for_aw(aw));
      info.ss_width = static_cast<std::uint8_t>(std::min(width_for_aw(aw), config.mgaw));
    }
  }
  if (uses_fs) {
    const auto fspm = pe.get<pasid_entry::FSPM>();
    if (fspm == 0) {
      info.fs_levels = 4;
    } else if (fspm == 1 && config.fs_5level) {
      info.fs_levels = 5;
    } else {
      valid = false;
    }
  }
  if (!valid) {
    out.reason = FaultReason::kSmPasidEntryInvalid;
    return out;
  }
  info.pgtt = pgtt;
  info.did = static_cast<std::uint16_t>(pe.get<pasid_entry::DID>());
  info.wpe = pe.get<pasid_entry::WPE>() != 0;
  info.nxe = pe.get<pasid_entry::NXE>() != 0;
  info.snooped = pe.get<pasid_entry::PWSNP>() != 0 || config.sm_page_walk_coherent;
  return out;
}

}  // namespace vtdsim::iommu
