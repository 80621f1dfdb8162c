#include "iommu/context_lookup.h"

#include <algorithm>

#include "iommu/legacy_formats.h"

namespace vtdsim::iommu {

namespace {

bool read_entry128(const model::PhysicalMemory& memory, std::uint64_t pa, model::Entry128& e) {
  model::U128 v;
  if (!memory.read_into(pa, v)) return false;
  e.q = {v.lo, v.hi};
  return true;
}

}  // namespace

ContextFetch fetch_context(const model::PhysicalMemory& memory, const UnitConfig& config,
                           std::uint64_t root_table, model::SourceId sid) {
  ContextFetch out;
  const std::uint64_t above_haw = bits_at_or_above(config.host_address_width);

  // Root entry (§3.4.2, §9.1): read error 0x08, P=0 0x01, reserved bits 0x0A.
  model::Entry128 re;
  ++out.reads;
  if (!read_entry128(memory, root_table + sid.bus() * root_entry::kSize, re)) {
    out.reason = FaultReason::kRootReadError;
    return out;
  }
  if (re.get<root_entry::P>() == 0) {
    out.reason = FaultReason::kRootNotPresent;
    return out;
  }
  const std::uint64_t ctp = re.raw<root_entry::CTP>();
  if (root_entry::Layout::reserved_bits_set(re) || (ctp & above_haw) != 0) {
    out.reason = FaultReason::kRootReserved;
    return out;
  }

  // Context entry (§9.3): read error 0x09; FPD is taken even when P=0 (facts §3.2, §5.2).
  model::Entry128 ce;
  ++out.reads;
  if (!read_entry128(memory, ctp + sid.devfn() * context_entry::kSize, ce)) {
    out.reason = FaultReason::kContextReadError;
    return out;
  }
  out.info.fpd = ce.get<context_entry::FPD>() != 0;
  if (ce.get<context_entry::P>() == 0) {
    out.reason = FaultReason::kContextNotPresent;
    return out;
  }
  const auto tt = static_cast<std::uint8_t>(ce.get<context_entry::TT>());
  const std::uint64_t slptptr = ce.raw<context_entry::SLPTPTR>();
  // SLPTPTR is ignored for pass-through (§9.3), so its high bits are reserved only otherwise.
  const bool ptr_reserved = tt != context_entry::kTtPassThrough && (slptptr & above_haw) != 0;
  if (context_entry::Layout::reserved_bits_set(ce) || ptr_reserved) {
    out.reason = FaultReason::kContextReserved;
    return out;
  }
  // TT must be an encoding the unit advertises (TT=01 needs ECAP.DT, TT=10 ECAP.PT) (§9.3).
  const bool tt_ok = tt == context_entry::kTtUntranslatedOnly ||
                     (tt == context_entry::kTtDeviceTlb && config.device_tlb) ||
                     (tt == context_entry::kTtPassThrough && config.pass_through);
  if (!tt_ok) {
    out.reason = FaultReason::kContextInvalid;
    return out;
  }
  out.info.tt = tt;
  out.info.did = static_cast<std::uint16_t>(ce.get<context_entry::DID>());
  out.info.present = true;
  if (tt == context_entry::kTtPassThrough) {
    // AW is not consulted for pass-through: nothing is walked (decision, see DmaRemapper).
    return out;
  }
  // AW must name a level count set in CAP.SAGAW (3, 4 or 5 levels) (§9.3; facts §3.2, §4.1).
  const auto aw = static_cast<unsigned>(ce.get<context_entry::AW>());
  if (aw < 1 || aw > 3 || ((config.sagaw >> aw) & 1u) == 0) {
    out.info.present = false;
    out.reason = FaultReason::kContextInvalid;
    return out;
  }
  out.info.translating = true;
  out.info.slptptr = slptptr;
  out.info.levels = static_cast<std::uint8_t>(levels_for_aw(aw));
  out.info.width = static_cast<std::uint8_t>(std::min(width_for_aw(aw), config.mgaw));
  return out;
}

}  // namespace vtdsim::iommu
