// Deferred IOTLB invalidation as Linux's DMA layer does it: unmapped IOVA ranges (with the
// page-table pages the unmap emptied) wait in a per-CPU ring; one domain-wide IOTLB
// invalidation then releases them all. A ring is flushed when it is full or when a timer armed
// at the first queued entry expires. Strict mode invalidates each range at unmap instead.
// Linux facts used: 256 slots per CPU ring (one kept empty, so 255 entries), 10 ms timeout;
// each entry records the flush-start count when queued and is released only after a flush
// that began later has finished; a full ring triggers a flush and frees its own ring only.
// Not modelled: the single shared queue option (32768 entries, 1 s) for shadowing IOMMUs.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "host/iova_allocator.h"
#include "model/error.h"
#include "model/frame_allocator.h"
#include "model/stats.h"
#include "model/types.h"

namespace vtdsim::host {

enum class UnmapPolicy : std::uint8_t {
  kStrict,    // invalidate the range at every unmap, then free the IOVA
  kDeferred,  // queue the range; free it after a batched invalidation
};

struct FlushQueueConfig {
  UnmapPolicy policy = UnmapPolicy::kDeferred;
  unsigned cpus = 1;
  unsigned ring_slots = 256;  // per CPU, a power of two; holds ring_slots - 1 entries
  // MODEL: 10 ms at a 2 GHz clock; the timer fires at the first queue()/poll() at or after it.
  model::Cycle timeout = 20'000'000;
  Status validate() const;
};

struct FlushQueueStats {
  std::uint64_t unmaps = 0;                // ranges handed to queue()
  std::uint64_t strict_invalidations = 0;  // per-range invalidations (strict policy)
  std::uint64_t flushes_full = 0;          // batched invalidations because a ring was full
  std::uint64_t flushes_timeout = 0;       // batched invalidations by the timer
  std::uint64_t flushes_explicit = 0;      // flush() calls that invalidated
  std::uint64_t iovas_released = 0;        // ranges returned to the IOVA allocator
  std::uint64_t tables_released = 0;       // page-table pages returned to the frame allocator
  std::uint64_t max_occupancy = 0;         // most entries seen in one ring

  static constexpr auto kFields = std::to_array<model::StatField<FlushQueueStats>>({
      {"unmaps", "ops", "unmapped ranges handed to the flush queue", &FlushQueueStats::unmaps},
      {"strict_invalidations", "ops", "range invalidations issued at unmap (strict)",
       &FlushQueueStats::strict_invalidations},
      {"flushes_full", "ops", "batched invalidations because a ring was full",
       &FlushQueueStats::flushes_full},
      {"flushes_timeout", "ops", "batched invalidations by the timeout",
       &FlushQueueStats::flushes_timeout},
      {"flushes_explicit", "ops", "batched invalidations requested by flush()",
       &FlushQueueStats::flushes_explicit},
      {"iovas_released", "ranges", "IOVA ranges freed after invalidation",
       &FlushQueueStats::iovas_released},
      {"tables_released", "pages", "page-table pages freed after invalidation",
       &FlushQueueStats::tables_released},
      {"max_occupancy", "entries", "largest number of entries in one ring",
       &FlushQueueStats::max_occupancy},
  });
};

// What the queue asks of the IOMMU driver. Each returns an error if the invalidation could
// not be completed; the queue then keeps the entries (nothing is freed early).
struct Invalidator {
  // One invalidation covering every range of the domain (Linux flush_iotlb_all).
  std::function<Status(model::Cycle now)> flush_all;
  // Strict policy: invalidate [pfn, pfn + pages) now; tables_freed says whether the unmap
  // detached page-table pages (then cached non-leaf entries must go too: IH = 0).
  std::function<Status(std::uint64_t pfn, std::uint64_t pages, bool tables_freed, model::Cycle now)>
      flush_range;
};

class FlushQueue {
 public:
  // frames may be null when no page-table pages are ever handed over. Throws
  // std::invalid_argument when config.validate() fails or config.cpus exceeds the IOVA
  // allocator's CPUs.
  FlushQueue(const FlushQueueConfig& config, IovaAllocator& iovas, model::FrameAllocator* frames,
             Invalidator invalidator);

  // The range [pfn, pfn + pages) has been unmapped (its entries cleared) by CPU `cpu`;
  // `tables` are page-table pages the unmap detached, freed once no walk can use them.
  // Strict: invalidates the range, then frees. Deferred: queues (flushing first if full).
  Status queue(unsigned cpu, std::uint64_t pfn, std::uint64_t pages,
               std::vector<std::uint64_t> tables, model::Cycle now);
  // Fires the timer if it has expired by `now`.
  Status poll(model::Cycle now);
  // One invalidation now and release of every queued entry (domain teardown, tests).
  Status flush(model::Cycle now);

  bool timer_armed() const { return timer_armed_; }
  model::Cycle timer_deadline() const { return deadline_; }
  std::uint64_t pending(unsigned cpu) const;  // entries waiting in one ring
  std::uint64_t pending_total() const;
  std::uint64_t flushes_started() const { return flush_start_count_; }
  const FlushQueueStats& stats() const { return stats_; }
  const FlushQueueConfig& config() const { return config_; }

 private:
  struct Entry {
    std::uint64_t pfn = 0;
    std::uint64_t pages = 0;
    std::uint64_t counter = 0;  // flush_start_count_ when queued
    std::vector<std::uint64_t> tables;
  };
  struct Ring {
    std::vector<Entry> slots;
    unsigned head = 0;
    unsigned tail = 0;
  };
  unsigned next(unsigned i) const { return (i + 1) & (config_.ring_slots - 1); }
  bool full(const Ring& r) const { return next(r.tail) == r.head; }
  Status invalidate_all(model::Cycle now);
  // Releases entries whose invalidation has completed.
  Status release(unsigned cpu, Ring& ring);
  Status release_entry(unsigned cpu, Entry& e);

  FlushQueueConfig config_;
  IovaAllocator* iovas_;
  model::FrameAllocator* frames_;
  Invalidator invalidator_;
  std::vector<Ring> rings_;
  std::uint64_t flush_start_count_ = 0;
  std::uint64_t flush_finish_count_ = 0;
  bool timer_armed_ = false;
  model::Cycle deadline_ = 0;
  FlushQueueStats stats_;
};

}  // namespace vtdsim::host
