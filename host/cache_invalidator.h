// Host-side invalidation of one unit's caches: queued invalidation (spec §6.5.2; facts §6.1–
// 6.7) once enabled — descriptors written at IQT, each batch closed by an invalidation-wait
// descriptor with a status write that the host polls (as Linux's qi_submit_sync does) — and
// register-based invalidation (CCMD, IVA/IOTLB; spec §6.5.1, facts §2) before that or when
// ECAP.QI = 0. Descriptor formats come from iommu/descriptors.h.
// Not modelled: 256-bit descriptors (scalable mode), device-TLB invalidation, IF completion
// interrupts (the host polls the status word).
#pragma once

#include <cstdint>
#include <span>

#include "host/unit_access.h"
#include "model/error.h"
#include "model/field.h"
#include "model/frame_allocator.h"
#include "model/physical_memory.h"
#include "model/stats.h"
#include "model/types.h"

namespace vtdsim::host {

struct InvalidationStats {
  std::uint64_t descriptors = 0;             // invalidation descriptors queued (waits excluded)
  std::uint64_t waits = 0;                   // wait descriptors (one per batch)
  std::uint64_t register_invalidations = 0;  // CCMD / IOTLB register commands
  std::uint64_t context = 0;                 // context-cache invalidations requested
  std::uint64_t iotlb_page = 0;              // page-selective IOTLB invalidations
  std::uint64_t iotlb_domain = 0;
  std::uint64_t iotlb_global = 0;
  std::uint64_t iec = 0;
  std::uint64_t queue_errors = 0;  // FSTS.IQE seen

  static constexpr auto kFields = std::to_array<model::StatField<InvalidationStats>>({
      {"descriptors", "ops", "invalidation descriptors queued", &InvalidationStats::descriptors},
      {"waits", "ops", "invalidation-wait descriptors queued", &InvalidationStats::waits},
      {"register_invalidations", "ops", "register-based invalidation commands",
       &InvalidationStats::register_invalidations},
      {"context", "ops", "context-cache invalidations", &InvalidationStats::context},
      {"iotlb_page", "ops", "page-selective IOTLB invalidations", &InvalidationStats::iotlb_page},
      {"iotlb_domain", "ops", "domain-selective IOTLB invalidations",
       &InvalidationStats::iotlb_domain},
      {"iotlb_global", "ops", "global IOTLB invalidations", &InvalidationStats::iotlb_global},
      {"iec", "ops", "interrupt-entry-cache invalidations", &InvalidationStats::iec},
      {"queue_errors", "ops", "invalidation queue errors (FSTS.IQE)",
       &InvalidationStats::queue_errors},
  });
};

class CacheInvalidator {
 public:
  static constexpr unsigned kQueueEntries = 256;  // IQA.QS = 0: one 4 KiB page of 16-byte slots

  CacheInvalidator(UnitAccess& regs, model::PhysicalMemory& memory, model::FrameAllocator& frames);

  // Allocates the queue and a status page, writes IQT = 0 and IQA, sets GCMD.QIE and waits for
  // QIES (facts §1.4). kUnsupported when ECAP.QI = 0.
  Status enable_queued_invalidation();
  bool queued() const { return queued_; }

  // Context cache (type 1 / CCMD). function_mask as CCMD.FM.
  Status context_global();
  Status context_domain(std::uint16_t did);
  Status context_device(std::uint16_t did, model::SourceId sid, unsigned function_mask = 0);
  // IOTLB (type 2 / IVA+IOTLB registers), with drain reads/writes when CAP.DRD/DWD.
  Status iotlb_global();
  Status iotlb_domain(std::uint16_t did);
  // 2^am pages from address (aligned to 2^am pages); ih = only leaves changed.
  Status iotlb_pages(std::uint16_t did, std::uint64_t address, unsigned am, bool ih);
  // Interrupt entry cache (type 4; needs queued invalidation).
  Status iec_global();
  Status iec_index(std::uint16_t index, unsigned index_mask);

  // Queues the descriptors and one wait descriptor, moves IQT and polls the status word.
  // On FSTS.IQE: reports IQER.IQEI and IQH, skips the rest of the batch and clears IQE.
  Status submit(std::span<const model::Entry128> descriptors);

  const InvalidationStats& stats() const { return stats_; }
  std::uint64_t queue_base() const { return queue_base_; }
  std::uint64_t status_address() const { return status_address_; }

 private:
  Status register_context(std::uint64_t cirg, std::uint16_t did, std::uint16_t sid, unsigned fm);
  Status register_iotlb(std::uint64_t iirg, std::uint16_t did, std::uint64_t iva);
  std::uint64_t drain_bits_desc() const;

  UnitAccess* regs_;
  model::PhysicalMemory* memory_;
  model::FrameAllocator* frames_;
  bool queued_ = false;
  std::uint64_t queue_base_ = 0;
  std::uint64_t status_address_ = 0;
  unsigned tail_ = 0;
  std::uint32_t sequence_ = 0;
  InvalidationStats stats_;
};

}  // namespace vtdsim::host
