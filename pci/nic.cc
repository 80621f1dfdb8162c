// NIC rings, data path and interrupt moderation (see nic.h).
// Spec sections and what is not modelled: see pci/nic.h.
#include "pci/nic.h"

#include <algorithm>
#include <array>

#include "pci/mmio_regs.h"

namespace vtdsim::pci {

namespace r = nic_regs;
using Desc = model::Entry128;

Nic::Nic(const NicConfig& config)
    : Function(config.identity),
      queues_(std::clamp(config.queues, 1u, r::kMaxQueues)),
      max_ring_size_(config.max_ring_size),
      tx_capture_limit_(config.tx_capture_limit),
      rx_buf_size_(config.rx_buffer_size),
      rx_(queues_),
      tx_(queues_),
      moderation_(2 * queues_),
      tx_assembly_(queues_) {
  (void)define_bar(0, BarSpec{BarKind::kMemory64, r::kBar0Size, false});
  (void)define_bar(3, BarSpec{BarKind::kMemory32, r::kBar3Size, false});
  (void)add_pm_capability();
  (void)add_pcie_capability(PortType::kEndpoint);
  (void)add_msi_capability(MsiConfig{1, true, true});
  (void)add_msix_capability(MsixConfig{2 * queues_, 3, 0, 3, 0x2000});
}

bool Nic::ring_ready(const Ring& ring) const {
  return (ctrl_ & 1u) != 0 && (ring.ctrl & 1u) != 0 && ring.len > 0 && ring.len <= max_ring_size_;
}

std::uint64_t Nic::ring_read(const Ring& ring, std::uint64_t reg, unsigned byte,
                             unsigned size) const {
  switch (reg) {
    case r::kQBase:
      return reg_extract(ring.base, byte, size);
    case r::kQLen:  // QLEN and QHEAD share the qword at 0x08
      return reg_extract(ring.len | (std::uint64_t{ring.head} << 32), byte, size);
    case r::kQTail:  // QTAIL and QCTRL share the qword at 0x10
      return reg_extract(ring.tail | (std::uint64_t{ring.ctrl} << 32), byte, size);
    default:
      return 0;
  }
}

// Returns true when the tail was written.
bool Nic::ring_write(Ring& ring, std::uint64_t reg, unsigned byte, unsigned size,
                     std::uint64_t value) {
  switch (reg) {
    case r::kQBase:
      ring.base = reg_merge(ring.base, byte, size, value) & ~std::uint64_t{0xF};
      return false;
    case r::kQLen: {
      const std::uint64_t v =
          reg_merge(ring.len | (std::uint64_t{ring.head} << 32), byte, size, value);
      const auto len = static_cast<std::uint32_t>(v);
      const auto head = static_cast<std::uint32_t>(v >> 32);
      if (len != ring.len) {
        ring.len = len;
        ring.head = 0;
        ring.tail = 0;
      }
      if (byte + size > 4 && head < std::max(ring.len, 1u)) ring.head = head;  // else ignored
      return false;
    }
    case r::kQTail: {
      const std::uint64_t v =
          reg_merge(ring.tail | (std::uint64_t{ring.ctrl} << 32), byte, size, value);
      const auto tail = static_cast<std::uint32_t>(v);
      ring.ctrl = static_cast<std::uint32_t>(v >> 32) & 1u;
      if (byte < 4 && tail < ring.len) {
        ring.tail = tail;
        return true;
      }
      return false;  // a tail beyond the ring is ignored
    }
    default:
      return false;
  }
}

std::uint64_t Nic::bar_read(unsigned bar, std::uint64_t offset, unsigned size) {
  if (bar != 0) return 0;
  const auto byte = static_cast<unsigned>(offset & 7);
  const std::uint64_t qword = offset & ~std::uint64_t{7};
  for (unsigned q = 0; q < queues_; ++q) {
    const std::uint64_t rx = r::kRxQueues + q * r::kQueueStride;
    const std::uint64_t tx = r::kTxQueues + q * r::kQueueStride;
    if (qword >= rx && qword < rx + r::kQueueStride)
      return ring_read(rx_[q], qword - rx, byte, size);
    if (qword >= tx && qword < tx + r::kQueueStride)
      return ring_read(tx_[q], qword - tx, byte, size);
  }
  switch (qword) {
    case r::kCtrl:
      return reg_extract(ctrl_, byte, size);
    case r::kItrPackets:
      return reg_extract(itr_packets_ | (std::uint64_t{itr_timeout_} << 32), byte, size);
    case r::kRxBufSize:
      return reg_extract(rx_buf_size_, byte, size);
    case r::kRxDmaErrors:
      return reg_extract(
          static_cast<std::uint32_t>(stats_.rx_dma_errors) |
              (std::uint64_t{static_cast<std::uint32_t>(stats_.tx_dma_errors)} << 32),
          byte, size);
    case r::kRxNoDescriptor:
      return reg_extract(static_cast<std::uint32_t>(stats_.rx_no_descriptor), byte, size);
    default:
      return 0;
  }
}

void Nic::bar_write(unsigned bar, std::uint64_t offset, unsigned size, std::uint64_t value) {
  if (bar != 0) return;
  const auto byte = static_cast<unsigned>(offset & 7);
  const std::uint64_t qword = offset & ~std::uint64_t{7};
  for (unsigned q = 0; q < queues_; ++q) {
    const std::uint64_t rx = r::kRxQueues + q * r::kQueueStride;
    const std::uint64_t tx = r::kTxQueues + q * r::kQueueStride;
    if (qword >= rx && qword < rx + r::kQueueStride) {
      (void)ring_write(rx_[q], qword - rx, byte, size, value);
      return;
    }
    if (qword >= tx && qword < tx + r::kQueueStride) {
      if (ring_write(tx_[q], qword - tx, byte, size, value)) process_tx(q);
      return;
    }
  }
  switch (qword) {
    case r::kCtrl:
      ctrl_ = static_cast<std::uint32_t>(reg_merge(ctrl_, byte, size, value)) & 1u;
      break;
    case r::kItrPackets: {
      const std::uint64_t v =
          reg_merge(itr_packets_ | (std::uint64_t{itr_timeout_} << 32), byte, size, value);
      itr_packets_ = static_cast<std::uint32_t>(v);
      itr_timeout_ = static_cast<std::uint32_t>(v >> 32);
      break;
    }
    case r::kRxBufSize: {
      const auto v = static_cast<std::uint32_t>(reg_merge(rx_buf_size_, byte, size, value));
      if (v >= 64 && v <= 65536) rx_buf_size_ = v;  // out-of-range sizes are ignored
      break;
    }
    default:
      break;
  }
}

Expected<RxOutcome> Nic::inject_rx_packet(unsigned queue, std::span<const std::byte> packet) {
  if (queue >= queues_) {
    return make_error(ErrorCode::kInvalidArgument, "RX queue " + std::to_string(queue) +
                                                       " does not exist (the NIC has " +
                                                       std::to_string(queues_) + ")");
  }
  if (packet.size() > 65536) {
    return make_error(ErrorCode::kInvalidArgument, "packets are limited to 64 KiB");
  }
  Ring& ring = rx_[queue];
  if (!ring_ready(ring)) {
    ++stats_.rx_dropped_disabled;
    return RxOutcome::kDroppedDisabled;
  }
  const std::size_t needed =
      std::max<std::size_t>(1, (packet.size() + rx_buf_size_ - 1) / rx_buf_size_);
  const std::uint32_t available = (ring.tail + ring.len - ring.head) % ring.len;
  if (needed > available) {
    ++stats_.rx_no_descriptor;
    return RxOutcome::kDroppedNoDescriptor;
  }
  DmaAttrs attrs = attrs_now();
  for (std::size_t i = 0; i < needed; ++i) {
    const std::uint64_t desc_at = ring.base + std::uint64_t{ring.head} * kNicDescriptorSize;
    Desc desc;
    ++stats_.descriptor_fetches;
    DmaResult res = dma().read_value(desc_at, desc.q, attrs);
    if (!res.ok()) {
      note_dma_error(res, true);
      ++stats_.rx_dma_errors;
      return RxOutcome::kDmaError;  // head stays: the descriptor was never owned
    }
    attrs.arrival = res.completion;
    const std::size_t offset = i * rx_buf_size_;
    const std::size_t chunk = std::min<std::size_t>(rx_buf_size_, packet.size() - offset);
    const bool last = i + 1 == needed;
    res = dma().write(desc.get<nic_rx_desc::ADDR>(), packet.subspan(offset, chunk), attrs);
    const bool data_ok = res.ok();
    if (!data_ok) ++stats_.rx_dma_errors;
    attrs.arrival = std::max(attrs.arrival, res.completion);
    Desc wb = desc;
    wb.set<nic_rx_desc::LENGTH>(data_ok ? chunk : 0);
    wb.set<nic_rx_desc::DD>(1);
    wb.set<nic_rx_desc::EOP>(last || !data_ok ? 1 : 0);
    wb.set<nic_rx_desc::RXE>(data_ok ? 0 : 1);
    ++stats_.descriptor_writebacks;
    if (!dma().write_value(desc_at + 8, wb.q[1], attrs).ok()) ++stats_.rx_dma_errors;
    ring.head = (ring.head + 1) % ring.len;
    if (!data_ok) return RxOutcome::kDmaError;  // the rest of the packet is dropped
  }
  ++stats_.rx_packets;
  stats_.rx_bytes += packet.size();
  packet_done(queue);
  return RxOutcome::kDelivered;
}

void Nic::process_tx(unsigned queue) {
  Ring& ring = tx_[queue];
  if (!ring_ready(ring)) return;
  bool completed = false;
  DmaAttrs attrs = attrs_now();
  std::vector<std::byte>& assembly = tx_assembly_[queue];
  for (std::uint32_t guard = 0; ring.head != ring.tail && guard < ring.len; ++guard) {
    const std::uint64_t desc_at = ring.base + std::uint64_t{ring.head} * kNicDescriptorSize;
    Desc desc;
    ++stats_.descriptor_fetches;
    DmaResult res = dma().read_value(desc_at, desc.q, attrs);
    if (!res.ok()) {
      note_dma_error(res, true);
      ++stats_.tx_dma_errors;
      break;  // the ring stalls at this descriptor until software fixes it
    }
    const auto len = static_cast<std::size_t>(desc.get<nic_tx_desc::LENGTH>());
    scratch_.resize(len);
    res = dma().read(desc.get<nic_tx_desc::ADDR>(), scratch_, attrs);
    Desc wb = desc;
    wb.set<nic_tx_desc::DD>(1);
    if (!res.ok()) {
      note_dma_error(res, true);
      ++stats_.tx_dma_errors;
      wb.set<nic_tx_desc::TXE>(1);
      assembly.clear();  // the packet is dropped
    } else {
      assembly.insert(assembly.end(), scratch_.begin(), scratch_.end());
      if (desc.get<nic_tx_desc::EOP>() != 0) {
        ++stats_.tx_packets;
        stats_.tx_bytes += assembly.size();
        if (transmitted_.size() < tx_capture_limit_) {
          transmitted_.push_back(TxPacket{queue, assembly});
        }
        assembly.clear();
        completed = true;
      }
    }
    ++stats_.descriptor_writebacks;
    if (!dma().write_value(desc_at + 8, wb.q[1], attrs).ok()) ++stats_.tx_dma_errors;
    ring.head = (ring.head + 1) % ring.len;
  }
  if (completed) packet_done(queues_ + queue);
}

std::vector<TxPacket> Nic::take_transmitted() {
  std::vector<TxPacket> out;
  out.swap(transmitted_);
  return out;
}

void Nic::packet_done(unsigned vector) {
  Moderation& m = moderation_[vector];
  ++m.pending;
  if (m.pending >= std::max(itr_packets_, 1u)) {
    fire(vector, false);
  } else if (m.pending == 1 && itr_timeout_ != 0) {
    m.deadline = now() + itr_timeout_;
  }
}

void Nic::fire(unsigned vector, bool by_timeout) {
  moderation_[vector].pending = 0;
  ++stats_.interrupts;
  ++(by_timeout ? stats_.interrupts_by_timeout : stats_.interrupts_by_count);
  (void)signal_interrupt(vector);
}

void Nic::advance(model::Cycle now) {
  Function::advance(now);
  if (itr_timeout_ == 0) return;
  for (unsigned v = 0; v < moderation_.size(); ++v) {
    if (moderation_[v].pending > 0 && now >= moderation_[v].deadline) fire(v, true);
  }
}

}  // namespace vtdsim::pci
