// NIC receive in the way a Linux 100G NIC driver (mlx5/ice style) runs it: RSS spreads flows
// over RX queues, one per CPU; each queue has a ring of receive buffers (one or more pages,
// packets packed at a fixed stride), a descriptor ring the device reads and a completion ring
// it writes (both mapped once, as coherent allocations are); NAPI polls every `napi_budget`
// packets of a queue, hand consumed buffers up the stack and refill the ring, and the stack
// sends TCP ACKs interleaved on the queue's TX ring. Buffer styles:
//   map/unmap (page_pool = false): every consumed buffer is unmapped and its refill mapped
//     again through the DMA API, so the host [host] policy (strict or deferred) decides the
//     IOTLB invalidations and how soon IOVAs are reused;
//   page pool (page_pool = true): a pool of ring_size × pool_factor buffers is mapped once and
//     recycled FIFO; nothing is ever unmapped.
// Not modelled: header split, LRO/GRO, packet loss, interrupt moderation and MSIs.
//
// Knobs ([workload] with kind = "nic_rx"), besides device (default 03:00.0) and request_bytes:
//   queues = 4          RX queues (queue q runs on CPU q mod cpus)
//   ring_size = 1024    receive buffers per queue (descriptors)
//   mtu = 1500          IP MTU; a full frame is mtu + 14 bytes
//   packet_bytes = 0    frame bytes written per packet (0: mtu + 14)
//   buffer_pages = 1    pages per receive buffer (512: 2 MiB buffers, mapped as superpages
//                       when [host] superpages is on)
//   headroom = 256      bytes before each packet (NET_SKB_PAD + XDP headroom); the packet
//                       stride is headroom + frame + 320 (skb_shared_info), 64-byte aligned
//   page_pool = false   buffer style (see above)
//   pool_factor = 2     page pool: buffers in the pool per ring slot
//   flows = 64          flows, chosen uniformly per packet; queue = flow mod queues
//   napi_budget = 64    packets of one queue between two NAPI polls (unmap + refill)
//   ack_every = 2       one TX ACK per this many received packets of a queue (0: none);
//                       each ACK is mapped, read by the device with its TX descriptor, and
//                       unmapped at the next NAPI poll
//   ack_bytes = 66      bytes of an ACK frame
//   descriptors = true  the device reads RX/TX descriptors (16 B) and writes completions (64 B)
#pragma once

#include <memory>

#include "workload/generator.h"

namespace vtdsim::workload {

struct NicRxConfig {
  DeviceKnobs io{model::SourceId::make(3, 0, 0), 4096};
  unsigned queues = 4;
  unsigned ring_size = 1024;
  unsigned mtu = 1500;
  unsigned packet_bytes = 0;
  unsigned buffer_pages = 1;
  unsigned headroom = 256;
  bool page_pool = false;
  unsigned pool_factor = 2;
  unsigned flows = 64;
  unsigned napi_budget = 64;
  unsigned ack_every = 2;
  unsigned ack_bytes = 66;
  bool descriptors = true;

  unsigned frame_bytes() const { return packet_bytes != 0 ? packet_bytes : mtu + 14; }
  unsigned stride() const { return (headroom + frame_bytes() + 320 + 63) & ~63u; }
};

// Reads the knobs (not `kind`); finishes the table.
Expected<NicRxConfig> read_nic_rx_config(ConfigTable& table);
Expected<std::unique_ptr<Generator>> make_nic_rx(const NicRxConfig& config, HostStack& stack,
                                                 std::uint64_t seed);

}  // namespace vtdsim::workload
