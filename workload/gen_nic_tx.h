// NIC transmit with TCP segmentation offload, as a Linux NIC driver sends a TSO skb: the
// header (linear part) and each payload fragment are mapped separately, one TX descriptor per
// mapping; the device reads the descriptors, reads the header, and reads the payload in
// MSS-sized segments (one frame each on the wire), then writes a completion; the driver
// unmaps a send at TX completion, processed every `completion_batch` sends of a queue.
// Not modelled: the header being re-read per segment, xmit_more doorbell batching, MSIs.
//
// Knobs ([workload] kind = "nic_tx"), besides device (default 03:00.0) and request_bytes:
//   queues = 4             TX queues, used round robin (queue q on CPU q mod cpus)
//   ring_size = 1024       descriptors per queue
//   mtu = 1500             IP MTU; MSS = mtu - 52 (IP + TCP headers with timestamps)
//   send_bytes = 65536     payload bytes per TSO send (64 KiB)
//   header_bytes = 66      Ethernet + IP + TCP header bytes (linear part, mapped alone)
//   frag_bytes = 4096      payload bytes per fragment mapping (32768: compound pages)
//   payload_mib = 4        socket-buffer memory per queue the payload cycles through
//   completion_batch = 64  sends completed (unmapped) per TX completion poll
//   descriptors = true     the device reads TX descriptors (16 B) and writes completions
#pragma once

#include <memory>

#include "workload/generator.h"

namespace vtdsim::workload {

struct NicTxConfig {
  DeviceKnobs io{model::SourceId::make(3, 0, 0), 4096};
  unsigned queues = 4;
  unsigned ring_size = 1024;
  unsigned mtu = 1500;
  unsigned send_bytes = 65536;
  unsigned header_bytes = 66;
  unsigned frag_bytes = 4096;
  unsigned payload_mib = 4;
  unsigned completion_batch = 64;
  bool descriptors = true;
};

Expected<NicTxConfig> read_nic_tx_config(ConfigTable& table);
Expected<std::unique_ptr<Generator>> make_nic_tx(const NicTxConfig& config, HostStack& stack,
                                                 std::uint64_t seed);

}  // namespace vtdsim::workload
