// The DMA half of `vtdsim explain` (tools/explain.h): a read-only decode of the root, context,
// PASID and paging entries a full-miss walk reads (spec §3.4–3.8, §9.1–9.8), then the unit's
// own verdict (RemappingUnit::translate) with the counter deltas of the request, twice.
// Not modelled: nested walks (PGTT = 011) are not explained step by step.
#include <fmt/format.h>

#include "iommu/fault_reason.h"
#include "iommu/legacy_formats.h"
#include "iommu/scalable_formats.h"
#include "model/stats.h"
#include "tools/explain.h"
#include "tools/explain_common.h"
#include "tools/formats.h"

namespace vtdsim::tools {

namespace {

namespace ie = vtdsim::iommu;

// The explanation's own finding: what stopped the walk, or the output address.
struct Finding {
  bool fault = false;
  std::string why;
  std::uint64_t hpa = 0;
};

class DmaExplainer {
 public:
  DmaExplainer(const ie::RemappingUnit& unit, const model::PhysicalMemory& memory,
               const model::DmaRequest& request)
      : unit_(unit), memory_(memory), req_(request) {}

  Finding run(std::string& out) {
    const ie::RootState& rs = unit_.root_state();
    if (!rs.translation_enabled) {
      out += "  1. GSTS.TES = 0: translation is disabled; the request passes untranslated\n";
      return Finding{false, "", req_.address};
    }
    if (!req_.has_pasid && model::in_interrupt_window(req_.address)) {
      out +=
          "  1. the address is in the interrupt window 0xFEEx_xxxx without PASID: an interrupt "
          "request, not DMA (§3.14)\n";
      return Finding{true, "interrupt-window request", 0};
    }
    out += fmt::format("  1. RTADDR latched by SRTP: root table {:#x}, TTM = {:02b} ({})\n",
                       rs.root_table, rs.ttm, rs.ttm == 1 ? "scalable mode" : "legacy mode");
    return rs.ttm == 1 ? scalable(out) : legacy(out);
  }

 private:
  bool read_words(std::uint64_t pa, unsigned n, Words& q) {
    for (unsigned i = 0; i < n; ++i) {
      auto v = memory_.read<std::uint64_t>(pa + 8 * i);
      if (!v) return false;
      q[i] = *v;
    }
    return true;
  }
  Finding fault(std::string why) { return Finding{true, std::move(why), 0}; }

  Finding legacy(std::string& out) {
    const ie::RootState& rs = unit_.root_state();
    const model::SourceId sid = req_.source_id;
    if (req_.has_pasid) return fault("a request with PASID in legacy mode is blocked");
    Words root{};
    const std::uint64_t root_pa = rs.root_table + sid.bus() * ie::root_entry::kSize;
    out += fmt::format("  2. root entry for bus {:#04x} at {:#x} (root table + bus x 16):\n",
                       sid.bus(), root_pa);
    if (!read_words(root_pa, 2, root)) return fault("root entry read error (0x08)");
    out += render(formats::root_legacy(), root, "     ");
    if (ie::root_entry::P::get(root[0]) == 0) return fault("root entry not present (0x01)");
    if (!format_warnings(formats::root_legacy(), root).empty()) {
      return fault("reserved bits set in the root entry (0x0A)");
    }
    Words ctx{};
    const std::uint64_t ctx_pa =
        ie::root_entry::CTP::raw(root[0]) + sid.devfn() * ie::context_entry::kSize;
    out += fmt::format(
        "  3. context entry for devfn {:#04x} ({:02x}.{:x}) at {:#x} (CTP + devfn x 16):\n",
        sid.devfn(), sid.dev(), sid.fn(), ctx_pa);
    if (!read_words(ctx_pa, 2, ctx)) return fault("context entry read error (0x09)");
    out += render(formats::context_legacy(), ctx, "     ");
    namespace ce = ie::context_entry;
    if (ce::P::get(ctx[0]) == 0) return fault("context entry not present (0x02)");
    const auto& cfg = unit_.config();
    const std::uint64_t tt = ce::TT::get(ctx[0]);
    if (tt == ce::kTtPassThrough) {
      out += "     TT = 10b: pass-through, the output address is the input address\n";
      return Finding{false, "", req_.address};
    }
    if (tt == 3 || (tt == ce::kTtDeviceTlb && !cfg.device_tlb)) {
      return fault("context TT not supported (0x03)");
    }
    const unsigned aw = static_cast<unsigned>(ce::AW::get(ctx[1]));
    if (aw > 4 || ((cfg.sagaw >> aw) & 1u) == 0) {
      return fault(fmt::format("context AW {} not in CAP.SAGAW {:#x} (0x03)", aw, cfg.sagaw));
    }
    return walk_second_stage(out, 4, ce::SLPTPTR::raw(ctx[0]), aw, ce::DID::get(ctx[1]));
  }

  Finding scalable(std::string& out) {
    const ie::RootState& rs = unit_.root_state();
    const model::SourceId sid = req_.source_id;
    namespace sr = ie::sm_root_entry;
    Words root{};
    const std::uint64_t root_pa = rs.root_table + sid.bus() * sr::kSize;
    out += fmt::format("  2. scalable root entry for bus {:#04x} at {:#x}:\n", sid.bus(), root_pa);
    if (!read_words(root_pa, 2, root)) return fault("root entry read error (0x38)");
    out += render(formats::root_scalable(), root, "     ");
    const bool upper = sid.devfn() >= 0x80;
    if ((upper ? sr::UP::get(root[1]) : sr::LP::get(root[0])) == 0) {
      return fault(fmt::format("root entry {} half not present (0x39)", upper ? "upper" : "lower"));
    }
    namespace sc = ie::sm_context_entry;
    const std::uint64_t table = upper ? sr::UCTP::raw(root[1]) : sr::LCTP::raw(root[0]);
    const std::uint64_t ctx_pa = table + (sid.devfn() & 0x7Fu) * sc::kSize;
    out += fmt::format(
        "  3. scalable context entry for devfn {:#04x} at {:#x} ({} table, index "
        "devfn & 0x7F):\n",
        sid.devfn(), ctx_pa, upper ? "upper" : "lower");
    Words ctx{};
    if (!read_words(ctx_pa, 4, ctx)) return fault("context entry read error (0x40)");
    out += render(formats::context_scalable(), ctx, "     ");
    if (sc::P::get(ctx[0]) == 0) return fault("context entry not present (0x41)");
    const std::uint32_t pasid =
        req_.has_pasid ? req_.pasid : static_cast<std::uint32_t>(sc::RID_PASID::get(ctx[1]));
    if (req_.has_pasid && sc::PASIDE::get(ctx[0]) == 0) {
      return fault("request with PASID but PASIDE = 0 (0x45)");
    }
    const unsigned pdts = static_cast<unsigned>(sc::PDTS::get(ctx[0]));
    if (ie::pasid_dir_index(pasid) >= ie::pasid_dir_entries(pdts)) {
      return fault("PASID beyond the PASID directory (0x46)");
    }
    namespace pd = ie::pasid_dir_entry;
    const std::uint64_t dir_pa =
        sc::PASIDDIRPTR::raw(ctx[0]) + ie::pasid_dir_index(pasid) * pd::kSize;
    out += fmt::format("  4. PASID {:#x}{}: directory entry {:#x} at {:#x}:\n", pasid,
                       req_.has_pasid ? "" : " (RID_PASID)", ie::pasid_dir_index(pasid), dir_pa);
    Words dir{};
    if (!read_words(dir_pa, 1, dir)) return fault("PASID directory read error (0x50)");
    out += render(formats::pasid_dir(), dir, "     ");
    if (pd::P::get(dir[0]) == 0) return fault("PASID directory entry not present (0x51)");
    namespace pe = ie::pasid_entry;
    const std::uint64_t pe_pa =
        pd::SMPTBLPTR::raw(dir[0]) + ie::pasid_table_index(pasid) * pe::kSize;
    out += fmt::format("     PASID table entry {:#x} at {:#x}:\n", ie::pasid_table_index(pasid),
                       pe_pa);
    Words entry{};
    if (!read_words(pe_pa, 8, entry)) return fault("PASID entry read error (0x58)");
    out += render(formats::pasid_entry(), entry, "     ");
    if (pe::P::get(entry[0]) == 0) return fault("PASID entry not present (0x59)");
    const std::uint64_t did = pe::DID::get(entry[1]);
    switch (pe::PGTT::get(entry[0])) {
      case pe::kPgttPassThrough:
        out += "     PGTT = 100b: pass-through, the output address is the input address\n";
        return Finding{false, "", req_.address};
      case pe::kPgttSecondStage:
        return walk_second_stage(out, 5, pe::SSPTPTR::raw(entry[0]),
                                 static_cast<unsigned>(pe::AW::get(entry[0])), did);
      case pe::kPgttFirstStage:
        return walk_first_stage(out, pe::FSPTPTR::raw(entry[2]),
                                pe::FSPM::get(entry[2]) == 1 ? 5u : 4u);
      default:
        return fault("PGTT nested or reserved: not explained step by step");
    }
  }

  Finding walk_second_stage(std::string& out, int step, std::uint64_t table, unsigned aw,
                            std::uint64_t did) {
    const unsigned levels = ie::levels_for_aw(aw);
    const unsigned width = std::min(ie::width_for_aw(aw), unit_.config().mgaw);
    out += fmt::format("  {}. second-stage walk: domain {}, {} levels, {}-bit input addresses\n",
                       step, did, levels, width);
    if (width < 64 && (req_.address >> width) != 0) {
      return fault(
          fmt::format("IOVA {:#x} beyond the {}-bit address width (0x04)", req_.address, width));
    }
    namespace se = ie::sl_entry;
    bool r = true;
    bool w = true;
    for (unsigned level = levels; level >= 1; --level) {
      const std::uint64_t index = ie::level_index(req_.address, level);
      const std::uint64_t pa = table + index * se::kSize;
      Words e{};
      if (!read_words(pa, 1, e)) return fault("paging entry read error (0x07)");
      const bool ps = level >= 2 && se::PS::get(e[0]) != 0;
      out += fmt::format(
          "     level {}: table {:#x} index {:#05x} (IOVA bits {}:{}) entry at {:#x} = {:#018x}: "
          "R={} W={} PS={} ADDR={:#x}\n",
          level, table, index, ie::level_shift(level) + 8, ie::level_shift(level), pa, e[0],
          se::R::get(e[0]), se::W::get(e[0]), se::PS::get(e[0]), se::ADDR::raw(e[0]));
      r = r && se::R::get(e[0]) != 0;
      w = w && se::W::get(e[0]) != 0;
      if (se::R::get(e[0]) == 0 && se::W::get(e[0]) == 0) {
        return fault(
            fmt::format("level-{} entry not present (R = W = 0): {}", level, access_fault_text()));
      }
      if ((req_.access == model::AccessType::kWrite && !w) ||
          (req_.access == model::AccessType::kRead && !r)) {
        return fault(
            fmt::format("level-{} entry denies the access: {}", level, access_fault_text()));
      }
      if (level == 1 || ps) {
        const std::uint64_t size = ie::level_page_size(level);
        const std::uint64_t hpa = se::ADDR::raw(e[0]) + (req_.address & (size - 1));
        out +=
            fmt::format("     leaf: {} page at {:#x} + offset {:#x} = HPA {:#x}\n",
                        page_size_text(size), se::ADDR::raw(e[0]), req_.address & (size - 1), hpa);
        return Finding{false, "", hpa};
      }
      table = se::ADDR::raw(e[0]);
    }
    return fault("walk ended without a leaf");
  }

  Finding walk_first_stage(std::string& out, std::uint64_t table, unsigned levels) {
    out += fmt::format("  5. first-stage walk: {} levels (IA-32e)\n", levels);
    namespace fe = ie::fs_entry;
    for (unsigned level = levels; level >= 1; --level) {
      const std::uint64_t index = ie::level_index(req_.address, level);
      const std::uint64_t pa = table + index * fe::kSize;
      Words e{};
      if (!read_words(pa, 1, e)) return fault("first-stage entry read error (0x70)");
      out += fmt::format(
          "     level {}: table {:#x} index {:#05x} entry at {:#x} = {:#018x}: P={} RW={} US={} "
          "PS={} ADDR={:#x}\n",
          level, table, index, pa, e[0], fe::P::get(e[0]), fe::RW::get(e[0]), fe::US::get(e[0]),
          fe::PS::get(e[0]), fe::ADDR::raw(e[0]));
      if (fe::P::get(e[0]) == 0)
        return fault(fmt::format("level-{} entry not present (0x71)", level));
      if (req_.access == model::AccessType::kWrite && fe::RW::get(e[0]) == 0) {
        return fault(fmt::format("level-{} entry not writable (0x85)", level));
      }
      if (level == 1 || (level <= 3 && fe::PS::get(e[0]) != 0)) {
        const std::uint64_t size = ie::level_page_size(level);
        const std::uint64_t base = fe::ADDR::raw(e[0]) & ~(size - 1);
        const std::uint64_t hpa = base + (req_.address & (size - 1));
        out += fmt::format("     leaf: {} page at {:#x} = HPA {:#x}\n", page_size_text(size), base,
                           hpa);
        return Finding{false, "", hpa};
      }
      table = fe::ADDR::raw(e[0]);
    }
    return fault("walk ended without a leaf");
  }

  std::string access_fault_text() const {
    return req_.access == model::AccessType::kWrite ? "write without write permission (0x05)"
                                                    : "read without read permission (0x06)";
  }

  const ie::RemappingUnit& unit_;
  const model::PhysicalMemory& memory_;
  model::DmaRequest req_;
};

std::string verdict(iommu::RemappingUnit& unit, const model::DmaRequest& request) {
  const ie::DmaRemapStats before = unit.dma_remapper().stats();
  const model::Translation t = unit.translate(request);
  const ie::DmaRemapStats delta = model::stats_delta(unit.dma_remapper().stats(), before);
  std::string out;
  switch (t.status) {
    case model::TranslationStatus::kOk:
      out += fmt::format(
          "  ok: HPA {:#x}, page size {}, permissions {}{}{}, latency {} cycles (arrival {}, "
          "completion {})\n",
          t.hpa, page_size_text(t.page_size), t.permissions.read ? "r" : "-",
          t.permissions.write ? "w" : "-", t.permissions.execute ? "x" : "-", t.latency,
          request.arrival, t.completion);
      break;
    case model::TranslationStatus::kFault:
      out += fmt::format("  fault: reason {:#04x} \"{}\", {}, latency {} cycles\n", t.fault_reason,
                         ie::describe(static_cast<ie::FaultReason>(t.fault_reason)),
                         t.fault_recorded ? "recorded in a fault recording register"
                                          : "not recorded (FPD or overflow)",
                         t.latency);
      break;
    case model::TranslationStatus::kInterruptWindow:
      out += "  interrupt window: the write is an interrupt request, not DMA\n";
      break;
  }
  out += "  unit counters of this request (DmaRemapStats delta):\n";
  out += counter_lines(delta, "    ");
  return out;
}

}  // namespace

std::string explain_dma(iommu::RemappingUnit& unit, const model::PhysicalMemory& memory,
                        model::DmaRequest request) {
  std::string out = fmt::format(
      "DMA request: {} {} bytes at {:#x} from {}{}\n",
      request.access == model::AccessType::kWrite ? "write" : "read", request.size, request.address,
      model::to_string(request.source_id),
      request.has_pasid ? fmt::format(", PASID {:#x}", request.pasid) : std::string(", no PASID"));
  out +=
      "explanation (read-only decode of the tables in memory, as a walk with every cache "
      "missing; the verdict below is the unit's):\n";
  DmaExplainer explainer(unit, memory, request);
  const Finding finding = explainer.run(out);
  out += finding.fault ? fmt::format("  explanation: blocked: {}\n", finding.why)
                       : fmt::format("  explanation: output address {:#x}\n", finding.hpa);
  out += "verdict (RemappingUnit::translate):\n";
  out += verdict(unit, request);
  out += "second run of the same request (caches now warm):\n";
  request.arrival += 1000;
  out += verdict(unit, request);
  return out;
}

}  // namespace vtdsim::tools
