// Timing vocabulary: latency parameters of every structure access, and a small resource model
// (N identical servers with busy-until times) for page walkers and queues.
//
// MODEL: defaults are round numbers in the range reported for Intel server parts (IOTLB hit a
// few cycles inside the root complex; a page-walk read served by the LLC ~ 40 cycles, by DRAM
// ~ 200 cycles at a 2 GHz uncore clock; see e.g. Amit et al., "IOMMU: Strategies for
// Mitigating the IOTLB Bottleneck", and Neugebauer et al., "Understanding PCIe performance",
// SIGCOMM 2018). They are parameters to be fitted (vtdsim fit), not measurements.
#pragma once

#include <cstdint>
#include <vector>

#include "model/stats.h"
#include "model/types.h"

namespace vtdsim::model {

struct TimingParams {
  Cycle iotlb_lookup = 2;              // IOTLB probe, hit or miss
  Cycle context_cache_lookup = 2;      // context-cache probe
  Cycle pasid_cache_lookup = 2;        // PASID-cache probe
  Cycle pwc_lookup = 2;                // one paging-structure-cache probe
  Cycle memory_read_llc = 40;          // a snooped table read that hits the last-level cache
  Cycle memory_read_dram = 200;        // a table read served by DRAM
  bool walks_snooped = true;           // page-walk reads served by the LLC (else DRAM)
  Cycle memory_write = 40;             // A/D bit, status write, posted-descriptor update
  Cycle iec_lookup = 2;                // interrupt-entry-cache probe
  Cycle irte_fetch = 40;               // IRTE read on an IEC miss (LLC-served)
  Cycle invalidation_descriptor = 20;  // fetch + process one queued descriptor
  Cycle fault_record = 20;             // write one fault-recording register
  unsigned page_walkers = 4;           // concurrent page walks
  unsigned max_outstanding_misses = 32;

  Cycle table_read() const { return walks_snooped ? memory_read_llc : memory_read_dram; }
};

// N identical servers. A job arriving at `arrival` takes the earliest-free server, starts at
// max(arrival, free time) and holds it for `duration`. Deterministic: ties go to the lowest
// index.
class ServerPool {
 public:
  explicit ServerPool(unsigned servers = 1);

  struct Grant {
    Cycle start;
    Cycle end;
    unsigned server;
  };
  Grant acquire(Cycle arrival, Cycle duration);
  // Earliest cycle at which some server is free.
  Cycle next_free() const;
  unsigned servers() const { return static_cast<unsigned>(busy_until_.size()); }
  // Servers busy at cycle t (t not before the latest arrival: only busy-until times are kept).
  unsigned busy_at(Cycle t) const;
  // Total server-cycles granted, for occupancy (busy / (servers × elapsed)).
  Cycle busy_cycles() const { return busy_cycles_; }
  Cycle waited_cycles() const { return waited_cycles_; }
  void reset();

 private:
  std::vector<Cycle> busy_until_;
  Cycle busy_cycles_ = 0;
  Cycle waited_cycles_ = 0;
};

}  // namespace vtdsim::model
