// Streaming DMA: one device reads (or writes) a large buffer front to back and wraps around,
// like a DMA engine copying a big region or a GPU/accelerator consuming a mapped arena. The
// buffer is mapped once at start in `map_bytes` pieces (2 MiB pieces map as superpages when
// [host] superpages is on), so the run measures IOTLB reach, not map/unmap cost.
//
// Knobs ([workload] kind = "stream"), besides device (default 04:00.0) and request_bytes:
//   buffer_mib = 64        bytes streamed over (then wraps)
//   map_bytes = 2097152    bytes per map_single call (a multiple of 4 KiB dividing the buffer)
//   transfer_bytes = 4096  bytes per step (one device transfer)
//   write = false          the device writes memory (else reads)
#pragma once

#include <memory>

#include "workload/generator.h"

namespace vtdsim::workload {

struct StreamConfig {
  DeviceKnobs io{model::SourceId::make(4, 0, 0), 4096};
  unsigned buffer_mib = 64;
  std::uint64_t map_bytes = 2u << 20;
  unsigned transfer_bytes = 4096;
  bool write = false;
};

Expected<StreamConfig> read_stream_config(ConfigTable& table);
Expected<std::unique_ptr<Generator>> make_stream(const StreamConfig& config, HostStack& stack,
                                                 std::uint64_t seed);

}  // namespace vtdsim::workload
