// A NIC with per-queue RX and TX descriptor rings in host memory (in the style of the e1000
// legacy descriptors, our own register map): configurable ring and buffer sizes, descriptor
// fetch, packet data writes into the buffer the descriptor names (a packet larger than one
// buffer spans descriptors, EOP on the last), descriptor write-back (length, DD), TX reads of
// descriptor and buffer, and per-queue MSI-X vectors (RX queue q: vector q; TX queue q:
// vector queues + q) with interrupt moderation: an interrupt at most every N packets, or
// `timeout` cycles after the first unreported packet. DMA faults are counted per direction.
// Not modelled: offloads, checksums, link state, RSS (the caller chooses the RX queue).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "model/field.h"
#include "pci/function.h"

namespace vtdsim::pci {

namespace nic_regs {
inline constexpr std::uint64_t kCtrl = 0x00;         // bit 0 EN
inline constexpr std::uint64_t kItrPackets = 0x08;   // interrupt every N packets (0 and 1: each)
inline constexpr std::uint64_t kItrTimeout = 0x0C;   // cycles after the first pending packet; 0 off
inline constexpr std::uint64_t kRxBufSize = 0x10;    // bytes per RX buffer
inline constexpr std::uint64_t kRxDmaErrors = 0x20;  // RO counters
inline constexpr std::uint64_t kTxDmaErrors = 0x24;
inline constexpr std::uint64_t kRxNoDescriptor = 0x28;
inline constexpr std::uint64_t kRxQueues = 0x100;  // RX queue q at kRxQueues + q * kQueueStride
inline constexpr std::uint64_t kTxQueues = 0x800;  // TX queue q at kTxQueues + q * kQueueStride
inline constexpr std::uint64_t kQueueStride = 0x40;
inline constexpr std::uint64_t kQBase = 0x00;  // 64-bit ring base (16-byte aligned)
inline constexpr std::uint64_t kQLen = 0x08;   // ring size in descriptors
inline constexpr std::uint64_t kQHead = 0x0C;  // next descriptor the device uses
inline constexpr std::uint64_t kQTail = 0x10;  // one past the last descriptor software gave
inline constexpr std::uint64_t kQCtrl = 0x14;  // bit 0 queue enable
inline constexpr std::uint64_t kBar0Size = 0x1000;
inline constexpr std::uint64_t kBar3Size = 0x4000;  // MSI-X table at 0, PBA at 0x2000
inline constexpr unsigned kMaxQueues = 8;
}  // namespace nic_regs

inline constexpr std::uint32_t kNicDescriptorSize = 16;

// RX descriptor (128-bit): software fills ADDR; the device writes back LENGTH/DD/EOP/RXE.
namespace nic_rx_desc {
using ADDR = model::Field<63, 0>;
using LENGTH = model::Field<79, 64>;
using DD = model::Field<96, 96>;     // descriptor done
using EOP = model::Field<97, 97>;    // end of packet
using RXE = model::Field<111, 111>;  // the buffer write faulted; no data
using Layout = model::Layout<2, ADDR, LENGTH, DD, EOP, RXE>;
static_assert(model::valid_layout<Layout>());
}  // namespace nic_rx_desc

// TX descriptor (128-bit): software fills ADDR/LENGTH/EOP; the device writes back DD/TXE.
namespace nic_tx_desc {
using ADDR = model::Field<63, 0>;
using LENGTH = model::Field<79, 64>;
using EOP = model::Field<88, 88>;
using DD = model::Field<96, 96>;
using TXE = model::Field<111, 111>;  // the buffer read faulted; nothing sent
using Layout = model::Layout<2, ADDR, LENGTH, EOP, DD, TXE>;
static_assert(model::valid_layout<Layout>());
}  // namespace nic_tx_desc

struct NicConfig {
  FunctionIdentity identity{0x8086, 0x10D3, 0x020000, 0};
  unsigned queues = 1;                  // [1, 8]
  std::uint32_t rx_buffer_size = 2048;  // reset value of RX_BUF_SIZE
  std::uint32_t max_ring_size = 4096;   // largest QLEN accepted
  std::size_t tx_capture_limit = 1024;  // packets kept for take_transmitted(); the rest counted
};

enum class RxOutcome : std::uint8_t {
  kDelivered,
  kDroppedDisabled,      // device or queue not enabled, ring not set up
  kDroppedNoDescriptor,  // not enough descriptors between head and tail
  kDmaError,             // a descriptor fetch, data write or write-back faulted
};

struct NicStats {
  std::uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
  std::uint64_t rx_dropped_disabled = 0, rx_no_descriptor = 0;
  std::uint64_t rx_dma_errors = 0, tx_dma_errors = 0;
  std::uint64_t descriptor_fetches = 0, descriptor_writebacks = 0;
  std::uint64_t interrupts = 0, interrupts_by_count = 0, interrupts_by_timeout = 0;
  static constexpr auto kFields = std::to_array<model::StatField<NicStats>>({
      {"rx_packets", "packets", "packets written to RX buffers", &NicStats::rx_packets},
      {"rx_bytes", "bytes", "packet bytes written", &NicStats::rx_bytes},
      {"tx_packets", "packets", "packets read from TX buffers", &NicStats::tx_packets},
      {"tx_bytes", "bytes", "packet bytes read", &NicStats::tx_bytes},
      {"rx_dropped_disabled", "packets", "RX packets dropped: device/queue disabled",
       &NicStats::rx_dropped_disabled},
      {"rx_no_descriptor", "packets", "RX packets dropped: no free descriptor",
       &NicStats::rx_no_descriptor},
      {"rx_dma_errors", "transfers", "RX DMAs that faulted", &NicStats::rx_dma_errors},
      {"tx_dma_errors", "transfers", "TX DMAs that faulted", &NicStats::tx_dma_errors},
      {"descriptor_fetches", "descriptors", "descriptors read", &NicStats::descriptor_fetches},
      {"descriptor_writebacks", "descriptors", "descriptors written back",
       &NicStats::descriptor_writebacks},
      {"interrupts", "interrupts", "queue interrupts raised", &NicStats::interrupts},
      {"interrupts_by_count", "interrupts", "raised because N packets were pending",
       &NicStats::interrupts_by_count},
      {"interrupts_by_timeout", "interrupts", "raised by the moderation timer",
       &NicStats::interrupts_by_timeout},
  });
};

struct TxPacket {
  unsigned queue = 0;
  std::vector<std::byte> bytes;
};

class Nic : public Function {
 public:
  explicit Nic(const NicConfig& config = {});

  unsigned queues() const { return queues_; }
  // A packet arrives from the wire for RX queue `queue`. Errors only for API misuse (queue out
  // of range, packet larger than 64 KiB); guest-side problems are outcomes and counters.
  Expected<RxOutcome> inject_rx_packet(unsigned queue, std::span<const std::byte> packet);
  // Packets transmitted since the last call (up to tx_capture_limit).
  std::vector<TxPacket> take_transmitted();
  // Advances device time; fires moderation timers that expired.
  void advance(model::Cycle now) override;

  const NicStats& stats() const { return stats_; }

 protected:
  std::uint64_t bar_read(unsigned bar, std::uint64_t offset, unsigned size) override;
  void bar_write(unsigned bar, std::uint64_t offset, unsigned size, std::uint64_t value) override;

 private:
  struct Ring {
    std::uint64_t base = 0;
    std::uint32_t len = 0, head = 0, tail = 0, ctrl = 0;
  };
  struct Moderation {
    std::uint32_t pending = 0;
    model::Cycle deadline = 0;
  };
  bool ring_ready(const Ring& r) const;
  std::uint64_t ring_read(const Ring& r, std::uint64_t reg, unsigned byte, unsigned size) const;
  bool ring_write(Ring& r, std::uint64_t reg, unsigned byte, unsigned size, std::uint64_t value);
  void process_tx(unsigned queue);
  void packet_done(unsigned vector);
  void fire(unsigned vector, bool by_timeout);

  unsigned queues_;
  std::uint32_t max_ring_size_;
  std::size_t tx_capture_limit_;
  std::uint32_t ctrl_ = 0, itr_packets_ = 1, itr_timeout_ = 0, rx_buf_size_;
  std::vector<Ring> rx_, tx_;
  std::vector<Moderation> moderation_;               // per MSI-X vector
  std::vector<std::vector<std::byte>> tx_assembly_;  // per TX queue, until EOP
  std::vector<TxPacket> transmitted_;
  std::vector<std::byte> scratch_;
  NicStats stats_;
};

}  // namespace vtdsim::pci
