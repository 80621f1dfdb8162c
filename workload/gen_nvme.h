// NVMe I/O in the way Linux's nvme driver issues it: per-CPU submission/completion queue pairs
// and a PRP-list pool mapped once (coherent allocations); each I/O maps its buffer pages with
// dma_map_sg, the device reads the submission entry, reads the PRP list when the transfer
// spans more than two pages (NVMe 1.4 §4.3: PRP2 points to a list of the remaining page
// addresses), moves the data, and writes a completion entry; the driver unmaps at completion.
// `queue_depth` I/Os are kept in flight: the device serves the oldest when a new one is queued.
// Random I/O reads into scattered page-cache pages (no sg merging); sequential I/O into
// physically contiguous runs (one sg segment). Not modelled: SGLs, interrupts, the block layer.
//
// Knobs ([workload] kind = "nvme"), besides device (default 01:00.0) and request_bytes:
//   queues = 1             queue pairs used round robin (queue q on CPU q mod cpus)
//   queue_depth = 32       I/Os in flight
//   block_bytes = 4096     bytes per I/O (a multiple of 4 KiB, at most 256 KiB)
//   pattern = "random"     "random" or "sequential" buffer placement
//   read_fraction = 1.0    share of reads (device writes memory); the rest are writes
//   footprint_mib = 256    page-cache memory the buffers come from
//   queue_entries = 1024   entries per submission/completion queue
#pragma once

#include <memory>

#include "workload/generator.h"

namespace vtdsim::workload {

struct NvmeGenConfig {
  DeviceKnobs io{model::SourceId::make(1, 0, 0), 4096};
  unsigned queues = 1;
  unsigned queue_depth = 32;
  unsigned block_bytes = 4096;
  bool sequential = false;
  double read_fraction = 1.0;
  unsigned footprint_mib = 256;
  unsigned queue_entries = 1024;
};

Expected<NvmeGenConfig> read_nvme_config(ConfigTable& table);
Expected<std::unique_ptr<Generator>> make_nvme(const NvmeGenConfig& config, HostStack& stack,
                                               std::uint64_t seed);

}  // namespace vtdsim::workload
