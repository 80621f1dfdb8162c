#include "iommu/second_stage_walk.h"

#include "iommu/legacy_formats.h"

namespace vtdsim::iommu {

WalkResult walk_second_stage(const model::PhysicalMemory& memory, const UnitConfig& config,
                             const WalkStart& start, std::uint64_t iova, std::uint8_t need) {
  WalkResult out;
  std::uint8_t acc = start.perms;
  // A cached upper level may already deny the access (permissions are ANDed, §3.6).
  if (const FaultReason f = permission_fault(acc, need); f != FaultReason::kNone) {
    out.reason = f;
    return out;
  }
  const std::uint64_t above_haw = bits_at_or_above(config.host_address_width);
  std::uint64_t table = start.table;
  for (unsigned level = start.level; level >= 1; --level) {
    std::uint64_t e = 0;
    ++out.reads;
    if (!memory.read_into(table + level_index(iova, level) * sl_entry::kSize, e)) {
      out.reason = FaultReason::kPagingEntryReadError;
      return out;
    }
    const auto perm = static_cast<std::uint8_t>(e & kPermRW);
    if (perm == 0) {
      // Not present (R = W = 0): in legacy mode this is a permission fault (facts §4.2).
      out.not_present = true;
      out.perms = 0;
      out.reason = permission_fault(0, need);
      return out;
    }
    const std::uint64_t addr = sl_entry::ADDR::raw(e);
    bool reserved = (e & sl_entry::Layout::kReserved[0]) != 0 || (addr & above_haw) != 0;
    const bool ps = level >= 2 && sl_entry::PS::get(e) != 0;  // bit 7 is ignored in a PTE
    if (ps) {
      // PS only where CAP.SLLPS allows it; a superpage address must be page-aligned.
      const bool allowed = (level == 2 && config.sl_2m_pages) || (level == 3 && config.sl_1g_pages);
      reserved = reserved || !allowed || (addr & (level_page_size(level) - 1)) != 0;
    }
    if (reserved) {
      out.reason = FaultReason::kPagingEntryReserved;
      return out;
    }
    acc &= perm;
    if (const FaultReason f = permission_fault(acc, need); f != FaultReason::kNone) {
      out.reason = f;
      out.perms = acc;
      return out;
    }
    if (level == 1 || ps) {
      out.page_base = addr;
      out.page_level = level;
      out.perms = acc;
      return out;
    }
    out.steps[out.n_steps++] =
        WalkStep{.next_table = addr, .level = static_cast<std::uint8_t>(level), .perms = acc};
    table = addr;
  }
  // Unreachable for start.level >= 1; a start level of 0 is an internal error.
  out.reason = FaultReason::kPagingEntryReadError;
  return out;
}

}  // namespace vtdsim::iommu
