// Counters of the remapping unit's register, invalidation and fault-recording side (the
// translation pipeline and interrupt remapper keep their own: DmaRemapStats, IrStats).
// Names follow Intel's VT-d perfmon events where one exists (spec §11.5 / perfmon appendix).
#pragma once

#include <array>
#include <cstdint>

#include "model/stats.h"

namespace vtdsim::iommu {

struct UnitStats {
  std::uint64_t mmio_reads = 0;
  std::uint64_t mmio_writes = 0;
  std::uint64_t register_writes_ignored = 0;  // RO/reserved targets, unsupported commands
  std::uint64_t bad_accesses = 0;             // wrong size, misaligned or outside the window
  std::uint64_t faults_recorded = 0;
  std::uint64_t faults_suppressed = 0;        // qualified faults with FPD=1
  std::uint64_t faults_dropped_overflow = 0;  // PFO set or next record still pending
  std::uint64_t fault_events = 0;             // fault-event MSIs sent
  std::uint64_t invalidation_events = 0;      // invalidation-completion MSIs sent
  std::uint64_t ctxt_inv_global = 0;
  std::uint64_t ctxt_inv_domain = 0;
  std::uint64_t ctxt_inv_device = 0;
  std::uint64_t iotlb_inv_global = 0;
  std::uint64_t iotlb_inv_domain = 0;
  std::uint64_t iotlb_inv_page = 0;
  std::uint64_t iotlb_inv_failed = 0;  // IAIG = 0 (bad request granularity or AM > MAMV)
  std::uint64_t int_cache_inv_global = 0;
  std::uint64_t int_cache_inv_index = 0;
  std::uint64_t dev_tlb_inv = 0;
  std::uint64_t pasid_cache_inv = 0;         // QI type 7
  std::uint64_t p_iotlb_inv = 0;             // QI type 6
  std::uint64_t register_invalidations = 0;  // CCMD/IOTLB commands executed
  std::uint64_t qi_descriptors = 0;          // descriptors processed successfully
  std::uint64_t qi_wait_descriptors = 0;
  std::uint64_t qi_errors = 0;  // FSTS.IQE raised
  std::uint64_t srtp = 0;
  std::uint64_t sirtp = 0;
  std::uint64_t interrupts_delivered = 0;  // remapped or passed-through messages sent
  std::uint64_t posted_notifications = 0;

  using S = UnitStats;
  static constexpr auto kFields = std::to_array<model::StatField<S>>({
      {"mmio_reads", "accesses", "register reads", &S::mmio_reads},
      {"mmio_writes", "accesses", "register writes", &S::mmio_writes},
      {"register_writes_ignored", "writes", "writes the spec ignores", &S::register_writes_ignored},
      {"bad_accesses", "accesses", "wrong size, misaligned or unmapped accesses", &S::bad_accesses},
      {"faults_recorded", "faults", "faults written to fault recording registers",
       &S::faults_recorded},
      {"faults_suppressed", "faults", "qualified faults suppressed by FPD", &S::faults_suppressed},
      {"faults_dropped_overflow", "faults", "faults lost to primary fault overflow",
       &S::faults_dropped_overflow},
      {"fault_events", "interrupts", "fault-event interrupts sent", &S::fault_events},
      {"invalidation_events", "interrupts", "invalidation-completion interrupts sent",
       &S::invalidation_events},
      {"ctxt_inv_global", "invalidations", "global context-cache invalidations",
       &S::ctxt_inv_global},
      {"ctxt_inv_domain", "invalidations", "domain-selective context-cache invalidations",
       &S::ctxt_inv_domain},
      {"ctxt_inv_device", "invalidations", "device-selective context-cache invalidations",
       &S::ctxt_inv_device},
      {"iotlb_inv_global", "invalidations", "global IOTLB invalidations", &S::iotlb_inv_global},
      {"iotlb_inv_domain", "invalidations", "domain-selective IOTLB invalidations",
       &S::iotlb_inv_domain},
      {"iotlb_inv_page", "invalidations", "page-selective IOTLB invalidations", &S::iotlb_inv_page},
      {"iotlb_inv_failed", "invalidations", "IOTLB invalidations not performed (IAIG 0)",
       &S::iotlb_inv_failed},
      {"int_cache_inv_global", "invalidations", "global interrupt-entry-cache invalidations",
       &S::int_cache_inv_global},
      {"int_cache_inv_index", "invalidations",
       "index-selective interrupt-entry-cache "
       "invalidations",
       &S::int_cache_inv_index},
      {"dev_tlb_inv", "invalidations", "device-TLB invalidations forwarded", &S::dev_tlb_inv},
      {"pasid_cache_inv", "invalidations", "PASID-cache invalidations (QI type 7)",
       &S::pasid_cache_inv},
      {"p_iotlb_inv", "invalidations", "PASID-based IOTLB invalidations (QI type 6)",
       &S::p_iotlb_inv},
      {"register_invalidations", "commands", "CCMD/IOTLB register commands executed",
       &S::register_invalidations},
      {"qi_descriptors", "descriptors", "queued-invalidation descriptors processed",
       &S::qi_descriptors},
      {"qi_wait_descriptors", "descriptors", "invalidation wait descriptors processed",
       &S::qi_wait_descriptors},
      {"qi_errors", "errors", "invalidation queue errors (FSTS.IQE)", &S::qi_errors},
      {"srtp", "commands", "root table pointer latches", &S::srtp},
      {"sirtp", "commands", "interrupt remapping table pointer latches", &S::sirtp},
      {"interrupts_delivered", "interrupts", "remapped or passed-through interrupts delivered",
       &S::interrupts_delivered},
      {"posted_notifications", "interrupts", "posted-interrupt notification events sent",
       &S::posted_notifications},
  });
};

}  // namespace vtdsim::iommu
