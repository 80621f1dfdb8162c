#include "iommu/first_stage_walk.h"

#include "iommu/legacy_formats.h"
#include "iommu/scalable_formats.h"

namespace vtdsim::iommu {

namespace {

// Nested: the host address of a first-stage table at GPA `table` (read permission needed). The
// second-stage faults the spec names for nested table accesses replace the generic ones.
FaultReason nested_table(model::PhysicalMemory& memory, const UnitConfig& config,
                         PagingStructureCache& ss_pwc, const PasidInfo& pasid, std::uint64_t table,
                         bool top, SsTranslation& ss, SmWalkCounters& counters) {
  ss = translate_second_stage(memory, config, ss_pwc, pasid, table, kPermR, counters);
  switch (ss.reason) {
    case FaultReason::kSmAddressBeyondMax:
      return FaultReason::kSmFsEntryBeyondMgaw;  // 0x74
    case FaultReason::kSmSsPermission:           // R = W = 0
    case FaultReason::kSmReadDenied:
      return top ? FaultReason::kSmFsTopReadDenied : FaultReason::kSmFsEntryReadDenied;
    default:
      return ss.reason;
  }
}

}  // namespace

std::uint8_t fs_grant(std::uint8_t rights, bool user, const PasidInfo& pasid) {
  if (user && (rights & kFsUser) == 0) return 0;
  auto p = kPermR;
  if ((rights & kFsWritable) != 0 || (!user && !pasid.wpe)) p |= kPermW;
  if ((rights & kFsExec) != 0 || !pasid.nxe) p |= kPermX;
  return p;
}

FsWalk walk_first_stage(model::PhysicalMemory& memory, const UnitConfig& config, FsPwc& fs_pwc,
                        PagingStructureCache& ss_pwc, const PasidInfo& pasid, const FsRequest& req,
                        SmWalkCounters& counters) {
  FsWalk out;
  const bool nested = pasid.pgtt == pasid_entry::kPgttNested;
  const unsigned levels = pasid.fs_levels;
  // Canonical check on the input address (facts §4.3: 0x80).
  if (!is_canonical(req.address, levels == 5 ? 57 : 48)) {
    out.reason = FaultReason::kSmFsNonCanonical;
    return out;
  }
  const std::uint64_t va = req.address & ((std::uint64_t{1} << (levels == 5 ? 57 : 48)) - 1);
  std::uint64_t table = pasid.fsptptr;
  unsigned level = levels;
  std::uint8_t rights = kFsAll;
  bool table_is_hpa = !nested;
  for (unsigned l = 2; l <= levels; ++l) {
    if (!fs_pwc.built(l)) continue;
    if (const FsPwcEntry* p = fs_pwc.lookup(l, pasid.did, req.pasid, va)) {
      table = p->next_table;  // a host address, also when nested
      table_is_hpa = true;
      level = l - 1;
      rights = p->rights;
      ++counters.fs_pwc_hits;
      break;
    }
  }
  const std::uint64_t above_haw = bits_at_or_above(config.host_address_width);
  const std::uint64_t ad_extra = pasid.eafe ? (std::uint64_t{1} << 10) : 0;  // EA with EAFE
  unsigned pending = 0;  // level of a non-leaf entry to cache once its table's HPA is known
  std::uint8_t pending_rights = 0;
  for (; level >= 1; --level) {
    const bool top = level == levels;
    // Host address of the table (nested: through the second stage).
    std::uint64_t table_hpa = table;
    SsTranslation ss;
    if (!table_is_hpa) {
      const FaultReason f = nested_table(memory, config, ss_pwc, pasid, table, top, ss, counters);
      if (f != FaultReason::kNone) {
        out.reason = f;
        return out;
      }
      table_hpa = ss.page_base | (table & (level_page_size(ss.page_level) - 1));
    }
    table_is_hpa = !nested;
    if (pending != 0) {
      fs_pwc.insert(pending, pasid.did, req.pasid, va,
                    FsPwcEntry{.next_table = table_hpa, .rights = pending_rights});
      pending = 0;
    }
    const std::uint64_t pa = table_hpa + level_index(va, level) * fs_entry::kSize;
    std::uint64_t e = 0;
    ++counters.reads;
    if (!memory.read_into(pa, e)) {
      out.reason = top ? FaultReason::kSmFsTopReadError : FaultReason::kSmFsEntryReadError;
      return out;
    }
    if (fs_entry::P::get(e) == 0) {
      out.not_present = true;
      out.reason = FaultReason::kSmFsEntryNotPresent;
      return out;
    }
    const std::uint64_t addr = fs_entry::ADDR::raw(e);
    const bool ps = level >= 2 && fs_entry::PS::get(e) != 0;
    bool reserved = fs_entry::XD::get(e) != 0 && !pasid.nxe;
    // Host widths bound FS-only addresses; nested addresses are GPAs (checked as 0x74).
    if (!nested && (addr & above_haw) != 0) reserved = true;
    if (ps) {
      const bool allowed = level == 2 || (level == 3 && config.fs_1g_pages);
      // Bit 12 of a large-page entry is PAT; the bits above it up to the page size are reserved.
      const std::uint64_t low = (level_page_size(level) - 1) & ~std::uint64_t{0x1FFF};
      reserved = reserved || !allowed || (addr & low) != 0;
    }
    if (reserved) {
      out.reason = FaultReason::kSmFsEntryReserved;
      return out;
    }
    if (fs_entry::RW::get(e) == 0) rights &= static_cast<std::uint8_t>(~kFsWritable);
    if (fs_entry::US::get(e) == 0) rights &= static_cast<std::uint8_t>(~kFsUser);
    if (fs_entry::XD::get(e) != 0) rights &= static_cast<std::uint8_t>(~kFsExec);
    const bool leaf = level == 1 || ps;
    // Accessed on every walked entry; Dirty on the leaf of a write that is allowed (§3.6.3).
    std::uint64_t bits = fs_entry::A::kMask | ad_extra;
    if (leaf && req.write && !req.translation_request &&
        (fs_grant(rights, req.user, pasid) & kPermW) != 0) {
      bits |= fs_entry::D::kMask;
    }
    if ((e & bits) != bits) {
      if (!pasid.snooped) {
        out.reason = FaultReason::kSmFsAdNotSnooped;
        return out;
      }
      if (nested) {
        // The A/D write is a write to the table's GPA: second-stage write permission (0x77).
        // MODEL: after a first-stage PWC hit the table's second-stage rights are not known
        // (ss.leaf_pa = 0) and the check is skipped.
        if (ss.leaf_pa != 0 && (ss.perms & kPermW) == 0) {
          out.reason = FaultReason::kSmFsEntryWriteDenied;
          return out;
        }
        if (ss.leaf_pa != 0) {
          if (const FaultReason f = set_second_stage_dirty(memory, pasid, ss.leaf_pa, counters);
              f != FaultReason::kNone) {
            out.reason = f;
            return out;
          }
        }
      }
      (void)memory.write<std::uint64_t>(pa, e | bits);
      ++counters.writes;
    }
    if (leaf) {
      out.page_base = addr & ~(level_page_size(level) - 1);
      out.page_level = level;
      break;
    }
    pending = level;
    pending_rights = rights;
    table = addr;
  }
  out.rights = rights;
  out.perms = fs_grant(rights, req.user, pasid);
  out.executable = (out.perms & kPermX) != 0;
  if (req.translation_request) return out;
  // Permission checks on the accumulated rights: U/S (0x81), R/W (0x85), XD (0x82).
  if (req.user && (rights & kFsUser) == 0) {
    out.reason = FaultReason::kSmFsUserDenied;
  } else if (req.write && (out.perms & kPermW) == 0) {
    out.reason = FaultReason::kSmWriteDenied;
  } else if (req.execute && pasid.nxe && (rights & kFsExec) == 0) {
    out.reason = FaultReason::kSmExecuteDenied;
  }
  return out;
}

}  // namespace vtdsim::iommu
