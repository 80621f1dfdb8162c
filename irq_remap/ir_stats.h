// Interrupt-remapping statistics: plain counters named after the VT-d perfmon events where one
// exists (int_cache_lookup, int_cache_hit), one counter per fault reason (§5.1.4.1).
#pragma once

#include <array>
#include <cstdint>

#include "model/stats.h"

namespace vtdsim::irq_remap {

struct IrStats {
  std::uint64_t requests = 0;
  std::uint64_t int_cache_lookup = 0;
  std::uint64_t int_cache_hit = 0;
  std::uint64_t int_cache_miss = 0;
  std::uint64_t int_cache_fill = 0;
  std::uint64_t irte_fetch = 0;
  std::uint64_t remapped = 0;
  std::uint64_t posted = 0;
  std::uint64_t notifications = 0;
  std::uint64_t notifications_suppressed = 0;
  std::uint64_t passthrough = 0;
  std::uint64_t blocked = 0;
  std::uint64_t blocked_fpd = 0;
  std::uint64_t fault_request_reserved = 0;  // 0x20
  std::uint64_t fault_index_beyond = 0;      // 0x21
  std::uint64_t fault_irte_not_present = 0;  // 0x22
  std::uint64_t fault_irte_access = 0;       // 0x23
  std::uint64_t fault_irte_reserved = 0;     // 0x24
  std::uint64_t fault_compat_blocked = 0;    // 0x25
  std::uint64_t fault_source_id = 0;         // 0x26
  std::uint64_t fault_pid_access = 0;        // 0x27 [U]
  std::uint64_t fault_pid_reserved = 0;      // 0x28 [U]
  std::uint64_t iec_inv_global = 0;
  std::uint64_t iec_inv_selective = 0;
  std::uint64_t iec_entries_invalidated = 0;

  static constexpr auto kFields = std::to_array<model::StatField<IrStats>>({
      {"requests", "requests", "interrupt requests presented to interrupt remapping",
       &IrStats::requests},
      {"int_cache_lookup", "lookups", "interrupt entry cache lookups", &IrStats::int_cache_lookup},
      {"int_cache_hit", "lookups", "interrupt entry cache hits", &IrStats::int_cache_hit},
      {"int_cache_miss", "lookups", "interrupt entry cache misses", &IrStats::int_cache_miss},
      {"int_cache_fill", "entries", "IRTEs inserted into the interrupt entry cache",
       &IrStats::int_cache_fill},
      {"irte_fetch", "reads", "IRTE reads from the interrupt remapping table",
       &IrStats::irte_fetch},
      {"remapped", "interrupts", "requests remapped through a remapped-format IRTE",
       &IrStats::remapped},
      {"posted", "interrupts", "requests posted to a posted-interrupt descriptor",
       &IrStats::posted},
      {"notifications", "interrupts", "posted-interrupt notification events generated",
       &IrStats::notifications},
      {"notifications_suppressed", "interrupts",
       "posted requests without notification (ON already set, or SN set and URG clear)",
       &IrStats::notifications_suppressed},
      {"passthrough", "interrupts", "requests delivered unchanged (IRE off or CFIS pass-through)",
       &IrStats::passthrough},
      {"blocked", "interrupts", "requests blocked by an interrupt-remapping fault",
       &IrStats::blocked},
      {"blocked_fpd", "interrupts", "blocked requests whose qualified fault FPD suppresses",
       &IrStats::blocked_fpd},
      {"fault_request_reserved", "faults", "0x20 reserved field in remappable request",
       &IrStats::fault_request_reserved},
      {"fault_index_beyond", "faults", "0x21 interrupt index beyond table size",
       &IrStats::fault_index_beyond},
      {"fault_irte_not_present", "faults", "0x22 IRTE not present",
       &IrStats::fault_irte_not_present},
      {"fault_irte_access", "faults", "0x23 error reading the IRTE", &IrStats::fault_irte_access},
      {"fault_irte_reserved", "faults", "0x24 reserved field in present IRTE",
       &IrStats::fault_irte_reserved},
      {"fault_compat_blocked", "faults", "0x25 compatibility-format interrupt blocked",
       &IrStats::fault_compat_blocked},
      {"fault_source_id", "faults", "0x26 source-id verification failed",
       &IrStats::fault_source_id},
      {"fault_pid_access", "faults", "0x27 error accessing posted-interrupt descriptor",
       &IrStats::fault_pid_access},
      {"fault_pid_reserved", "faults", "0x28 reserved field in posted-interrupt descriptor",
       &IrStats::fault_pid_reserved},
      {"iec_inv_global", "commands", "global interrupt entry cache invalidations",
       &IrStats::iec_inv_global},
      {"iec_inv_selective", "commands", "index-selective interrupt entry cache invalidations",
       &IrStats::iec_inv_selective},
      {"iec_entries_invalidated", "entries", "IEC entries removed by invalidation",
       &IrStats::iec_entries_invalidated},
  });
};

}  // namespace vtdsim::irq_remap
