// What a run measured: the counters of every layer (summed over units, drivers and devices)
// as deltas over the measured interval, plus the timing of the requests (first arrival, last
// completion, latency histogram) and the run's parameters that derived metrics need.
#pragma once

#include <cstdint>
#include <string>

#include "host/cache_invalidator.h"
#include "host/dma_api.h"
#include "host/flush_queue.h"
#include "host/iova_allocator.h"
#include "iommu/dma_remapper.h"
#include "iommu/unit_stats.h"
#include "irq_remap/ir_stats.h"
#include "model/stats.h"
#include "workload/host_stack.h"
#include "workload/latency_histogram.h"

namespace vtdsim::workload {

// a += b, field by field.
template <class S>
void add_stats(S& a, const S& b) {
  for (const auto& f : S::kFields) a.*(f.member) += b.*(f.member);
}

// Counters of every layer at one moment.
struct Counters {
  iommu::DmaRemapStats remap;
  iommu::UnitStats unit;
  irq_remap::IrStats ir;
  host::InvalidationStats invalidation;
  host::FlushQueueStats flush_queue;
  host::DmaApiStats dma_api;
  host::IovaCpuStats iova;

  static Counters collect(HostStack& stack);
  // later - earlier (flush_queue.max_occupancy: later's value, it is a maximum).
  static Counters delta(const Counters& later, const Counters& earlier);
};

// Trace-level event counts of the measured interval.
struct EventStats {
  std::uint64_t dma = 0;
  std::uint64_t dma_bytes = 0;
  std::uint64_t dma_faults = 0;
  std::uint64_t maps = 0;
  std::uint64_t unmaps = 0;
  std::uint64_t invalidations = 0;

  static constexpr auto kFields = std::to_array<model::StatField<EventStats>>({
      {"dma", "requests", "DMA translation requests measured", &EventStats::dma},
      {"dma_bytes", "bytes", "bytes those requests carried", &EventStats::dma_bytes},
      {"dma_faults", "requests", "requests that faulted", &EventStats::dma_faults},
      {"maps", "events", "map events (host)", &EventStats::maps},
      {"unmaps", "events", "unmap events (host)", &EventStats::unmaps},
      {"invalidations", "events", "IOTLB invalidation events (host)", &EventStats::invalidations},
  });
};

struct RunResult {
  std::string scenario;
  std::string workload;  // generator description or "replay <path>"
  std::uint64_t warmup = 0;
  EventStats events;
  Counters counters;
  LatencyHistogram latency;
  model::Cycle first_arrival = 0;
  model::Cycle last_completion = 0;
  unsigned page_walkers = 0;  // summed over units
  double clock_ghz = 2.0;
  double offered_gbps = 0.0;
};

}  // namespace vtdsim::workload
