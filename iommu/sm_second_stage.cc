#include "iommu/sm_second_stage.h"

#include "iommu/legacy_formats.h"

namespace vtdsim::iommu {

namespace {

// Writes entry e | bits back at pa when some of `bits` are clear. False when the walk is not
// snooped (the unit cannot update A/D, faults 0x7C / 0x90).
bool update_bits(model::PhysicalMemory& memory, std::uint64_t pa, std::uint64_t e,
                 std::uint64_t bits, bool snooped, unsigned& writes) {
  if ((e & bits) == bits) return true;
  if (!snooped) return false;
  // MODEL: the update is one locked write of the whole entry (no race with software).
  (void)memory.write<std::uint64_t>(pa, e | bits);
  ++writes;
  return true;
}

}  // namespace

SsTranslation translate_second_stage(model::PhysicalMemory& memory, const UnitConfig& config,
                                     PagingStructureCache& pwc, const PasidInfo& pasid,
                                     std::uint64_t gpa, std::uint8_t need,
                                     SmWalkCounters& counters) {
  SsTranslation out;
  if ((gpa >> pasid.ss_width) != 0) {
    out.reason = FaultReason::kSmAddressBeyondMax;
    return out;
  }
  ++counters.ss_walks;
  // Deepest cached non-leaf entry first (§6.2.4).
  std::uint64_t table = pasid.ssptptr;
  unsigned level = pasid.ss_levels;
  std::uint8_t acc = kPermRW;
  for (unsigned l = 2; l <= pasid.ss_levels; ++l) {
    if (!pwc.built(l)) continue;
    if (const PwcEntry* p = pwc.lookup(l, pasid.did, gpa)) {
      table = p->next_table;
      level = l - 1;
      acc = p->perms;
      ++counters.ss_pwc_hits;
      break;
    }
  }
  const bool top = level == pasid.ss_levels;
  const std::uint64_t above_haw = bits_at_or_above(config.host_address_width);
  const bool write = (need & kPermW) != 0;
  for (; level >= 1; --level) {
    const std::uint64_t pa = table + level_index(gpa, level) * sl_entry::kSize;
    std::uint64_t e = 0;
    ++counters.reads;
    ++counters.ss_reads;
    if (!memory.read_into(pa, e)) {
      out.reason = level == pasid.ss_levels && top ? FaultReason::kSmSsInvalidPointer
                                                   : FaultReason::kSmSsEntryReadError;
      return out;
    }
    const auto perm = static_cast<std::uint8_t>(e & kPermRW);
    if (perm == 0) {
      out.not_present = true;
      out.reason = FaultReason::kSmSsPermission;
      return out;
    }
    const std::uint64_t addr = sl_entry::ADDR::raw(e);
    const bool ps = level >= 2 && sl_entry::PS::get(e) != 0;
    bool reserved = (e & sl_entry::Layout::kReserved[0]) != 0;
    if (ps) {
      const bool allowed = (level == 2 && config.sl_2m_pages) || (level == 3 && config.sl_1g_pages);
      reserved = reserved || !allowed || (addr & (level_page_size(level) - 1)) != 0;
    }
    if (reserved) {
      out.reason = FaultReason::kSmSsEntryReserved;
      return out;
    }
    if ((addr & above_haw) != 0) {
      out.reason = FaultReason::kSmSsAddressBeyondMax;
      return out;
    }
    acc &= perm;
    if (const FaultReason f = sm_permission_fault(acc, need); f != FaultReason::kNone) {
      out.reason = f;
      out.perms = acc;
      return out;
    }
    const bool leaf = level == 1 || ps;
    if (pasid.ssade) {
      std::uint64_t bits = sl_entry::A::kMask;
      if (leaf && write) bits |= sl_entry::D::kMask;
      if (!update_bits(memory, pa, e, bits, pasid.snooped, counters.writes)) {
        out.reason = FaultReason::kSmSsAdNotSnooped;
        return out;
      }
    }
    if (leaf) {
      out.page_base = addr;
      out.page_level = level;
      out.perms = acc;
      out.leaf_pa = pa;
      return out;
    }
    pwc.insert(level, pasid.did, gpa, PwcEntry{.next_table = addr, .perms = acc});
    table = addr;
  }
  out.reason = FaultReason::kSmSsEntryReadError;  // unreachable: ss_levels >= 3
  return out;
}

FaultReason set_second_stage_dirty(model::PhysicalMemory& memory, const PasidInfo& pasid,
                                   std::uint64_t leaf_pa, SmWalkCounters& counters) {
  if (!pasid.ssade) return FaultReason::kNone;
  std::uint64_t e = 0;
  if (!memory.read_into(leaf_pa, e)) return FaultReason::kSmSsEntryReadError;
  const std::uint64_t bits = sl_entry::A::kMask | sl_entry::D::kMask;
  if (!update_bits(memory, leaf_pa, e, bits, pasid.snooped, counters.writes)) {
    return FaultReason::kSmSsAdNotSnooped;
  }
  return FaultReason::kNone;
}

}  // namespace vtdsim::iommu
