// Random access over a mapped footprint: one device touches pages of a footprint mapped once
// at start, uniformly or with Zipf popularity (rank k has weight 1/(k+1)^s), as a key-value
// store's NIC DMA or an RDMA device over registered memory would. Ranks are scattered over
// the pages by a seeded shuffle unless scatter = false (then page k is rank k, and hot pages
// share page-table and paging-structure-cache entries).
//
// Knobs ([workload] kind = "random"), besides device (default 05:00.0) and request_bytes:
//   footprint_mib = 64      bytes mapped (at most 4096 MiB)
//   map_bytes = 4096        bytes per map_single call (2097152: superpage mappings)
//   distribution = "uniform"  or "zipf"
//   zipf_s = 0.99           Zipf exponent
//   scatter = true          shuffle ranks over pages
//   access_bytes = 64       bytes per access, at an access_bytes-aligned offset in the page
//   write_fraction = 0.0    share of accesses that write memory
#pragma once

#include <memory>

#include "workload/generator.h"

namespace vtdsim::workload {

struct RandomConfig {
  DeviceKnobs io{model::SourceId::make(5, 0, 0), 4096};
  unsigned footprint_mib = 64;
  std::uint64_t map_bytes = 4096;
  bool zipf = false;
  double zipf_s = 0.99;
  bool scatter = true;
  unsigned access_bytes = 64;
  double write_fraction = 0.0;
};

Expected<RandomConfig> read_random_config(ConfigTable& table);
Expected<std::unique_ptr<Generator>> make_random(const RandomConfig& config, HostStack& stack,
                                                 std::uint64_t seed);

}  // namespace vtdsim::workload
