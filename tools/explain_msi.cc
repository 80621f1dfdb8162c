// The MSI half of `vtdsim explain` (tools/explain.h): decoded request, IRTA, the IRTE read and
// decoded, the source-id check (spec §5.1.2–5.1.4, §9.9–9.11), then the unit's own verdict
// (RemappingUnit::remap_interrupt) with the interrupt-remapping counter deltas, twice.
#include <fmt/format.h>

#include "irq_remap/ir_fault.h"
#include "irq_remap/irte.h"
#include "irq_remap/msi.h"
#include "irq_remap/source_id.h"
#include "model/stats.h"
#include "tools/explain.h"
#include "tools/explain_common.h"
#include "tools/formats.h"

namespace vtdsim::tools {

namespace {

namespace ir = vtdsim::irq_remap;

// The explanation's steps; returns its conclusion.
std::string explain_steps(const iommu::RemappingUnit& unit, const model::PhysicalMemory& memory,
                          model::SourceId source, std::uint64_t address, std::uint32_t data,
                          std::string& out) {
  const ir::IrState& st = unit.ir_state();
  const ir::MsiRequest req = ir::decode_msi(address, data);
  out += "  1. the request as decoded:\n";
  if (!st.enabled) {
    out += "     GSTS.IRES = 0: interrupt remapping is off; the MSI is delivered as written\n";
    return "delivered unchanged (remapping off)";
  }
  if (!req.remappable) {
    out += fmt::format(
        "     compatibility format (address bit 4 = 0); GSTS.CFIS = {}, "
        "IRTA.EIME = {}\n",
        st.cfi ? 1 : 0, st.eime ? 1 : 0);
    return st.cfi && !st.eime ? "delivered unchanged (compatibility format allowed)"
                              : "blocked: compatibility-format interrupt (0x25)";
  }
  out += render(formats::msi_address(), Words{address}, "     ");
  out += render(formats::msi_data(), Words{data}, "     ");
  out += fmt::format("     interrupt index {:#x} = HANDLE {:#x}{}\n", req.index, req.handle,
                     req.shv ? fmt::format(" + SUBHANDLE {:#x}", req.subhandle) : std::string());
  if (req.reserved_violation) return "blocked: reserved field in the request (0x20)";
  const std::uint64_t entries = std::uint64_t{1} << (st.size_field + 1);
  out +=
      fmt::format("  2. IRTA latched by SIRTP: table {:#x}, S = {} ({} entries), EIME = {} ({})\n",
                  st.table, st.size_field, entries, st.eime ? 1 : 0, st.eime ? "x2APIC" : "xAPIC");
  if (req.index >= entries) return "blocked: index beyond the table (0x21)";
  const std::uint64_t pa = st.table + req.index * ir::kIrteSize;
  Words q{};
  auto lo = memory.read<std::uint64_t>(pa);
  auto hi = memory.read<std::uint64_t>(pa + 8);
  if (!lo || !hi) return "blocked: IRTE read error (0x23)";
  q[0] = *lo;
  q[1] = *hi;
  const bool posted = ir::irte::IM::get(q[0]) != 0;
  out += fmt::format("  3. IRTE {:#x} at {:#x} (table + index x 16):\n", req.index, pa);
  out += render(posted ? formats::irte_posted() : formats::irte_remapped(), q, "     ");
  if (ir::irte::P::get(q[0]) == 0) return "blocked: IRTE not present (0x22)";
  const unsigned svt = static_cast<unsigned>(ir::irte::SVT::get(q[1]));
  const unsigned sq = static_cast<unsigned>(ir::irte::SQ::get(q[1]));
  const auto sid = static_cast<std::uint16_t>(ir::irte::SID::get(q[1]));
  const bool ok = ir::source_id_valid(source, svt, sq, sid);
  out += fmt::format(
      "  4. source-id check: SVT = {:02b} ({}), SQ = {:02b}, SID = {:#06x}; "
      "requester {} ({:#06x}): {}\n",
      svt, formats::describe_svt(svt), sq, sid, model::to_string(source), source.raw,
      ok ? "passes" : "fails");
  if (!ok) return "blocked: source-id verification failed (0x26)";
  if (posted) {
    const model::Entry128 e{{q[0], q[1]}};
    return fmt::format("posted: vector {:#x} into the descriptor at {:#x}",
                       ir::posted_irte::VV::get(q[0]), ir::posted_irte::descriptor_address(e));
  }
  return fmt::format("remapped: vector {:#x} to destination {:#x}", ir::irte::V::get(q[0]),
                     ir::irte::DST::get(q[0]));
}

std::string apic_text(const model::ApicMessage& m) {
  return fmt::format("vector {:#x} to APIC {:#x} ({}, {}, {})", m.vector, m.destination,
                     m.logical ? "logical" : "physical",
                     formats::describe_delivery_mode(static_cast<unsigned>(m.delivery_mode)),
                     m.level ? "level" : "edge");
}

std::string verdict(iommu::RemappingUnit& unit, const model::PhysicalMemory& memory,
                    model::SourceId source, std::uint64_t address, std::uint32_t data,
                    model::Cycle arrival) {
  const ir::IrStats before = unit.interrupt_remapper().stats();
  const ir::IrResult r = unit.remap_interrupt(source, address, data, arrival);
  const ir::IrStats delta = model::stats_delta(unit.interrupt_remapper().stats(), before);
  std::string out;
  const model::Cycle latency = r.completion >= arrival ? r.completion - arrival : 0;
  switch (r.outcome) {
    case ir::IrOutcome::kPassThrough:
      out += fmt::format("  passed through: {}\n", apic_text(r.message));
      break;
    case ir::IrOutcome::kRemapped:
      out += fmt::format("  remapped (IRTE {:#x}): {}, latency {} cycles\n", r.index,
                         apic_text(r.message), latency);
      break;
    case ir::IrOutcome::kPosted: {
      out += fmt::format("  posted (IRTE {:#x}), latency {} cycles; ", r.index, latency);
      out += r.notify ? fmt::format("notification event: {}\n", apic_text(r.notification))
                      : std::string("no notification (ON already set or suppressed)\n");
      break;
    }
    case ir::IrOutcome::kFault:
      out += fmt::format("  fault: reason {:#04x} \"{}\"{}\n", r.fault_reason,
                         ir::to_string(static_cast<ir::IrFaultReason>(r.fault_reason)),
                         r.fpd ? ", not recorded (IRTE.FPD)" : "");
      break;
  }
  if (r.outcome == ir::IrOutcome::kPosted) {
    // Show the descriptor the unit updated (PIR words and ON/SN).
    const std::uint64_t pda = [&] {
      const ir::IrState& st = unit.ir_state();
      const std::uint64_t pa = st.table + std::uint64_t{r.index} * ir::kIrteSize;
      const model::Entry128 e{{memory.read<std::uint64_t>(pa).value_or(0),
                               memory.read<std::uint64_t>(pa + 8).value_or(0)}};
      return ir::posted_irte::descriptor_address(e);
    }();
    Words pid{};
    for (unsigned i = 0; i < 5; ++i) pid[i] = memory.read<std::uint64_t>(pda + 8 * i).value_or(0);
    out += fmt::format(
        "  descriptor at {:#x}: PIR {:016x}{:016x}{:016x}{:016x}, ON = {}, SN = {}\n", pda, pid[3],
        pid[2], pid[1], pid[0], ir::pid::ON::get(pid[4]), ir::pid::SN::get(pid[4]));
  }
  out += "  interrupt-remapping counters of this request (IrStats delta):\n";
  out += counter_lines(delta, "    ");
  return out;
}

}  // namespace

std::string explain_msi(iommu::RemappingUnit& unit, const model::PhysicalMemory& memory,
                        model::SourceId source, std::uint64_t address, std::uint32_t data,
                        model::Cycle arrival) {
  std::string out = fmt::format("MSI request: write {:#x} to {:#x} from {}\n", data, address,
                                model::to_string(source));
  out +=
      "explanation (read-only decode of IRTA and the IRTE in memory; the verdict below is the "
      "unit's):\n";
  const std::string conclusion = explain_steps(unit, memory, source, address, data, out);
  out += fmt::format("  explanation: {}\n", conclusion);
  out += "verdict (RemappingUnit::remap_interrupt):\n";
  out += verdict(unit, memory, source, address, data, arrival);
  out += "second run of the same request (interrupt entry cache now warm):\n";
  out += verdict(unit, memory, source, address, data, arrival + 1000);
  return out;
}

}  // namespace vtdsim::tools
