#include "workload/gen_nic_rx.h"

#include <deque>
#include <vector>

#include <fmt/format.h>

#include "workload/prng.h"

namespace vtdsim::workload {

Expected<NicRxConfig> read_nic_rx_config(ConfigTable& t) {
  NicRxConfig c;
  VTDSIM_TRY(read_device_knobs(t, c.io));
  VTDSIM_TRY(read_uint(t, "queues", c.queues, 1, 64));
  VTDSIM_TRY(read_uint(t, "ring_size", c.ring_size, 8, 65536));
  VTDSIM_TRY(read_uint(t, "mtu", c.mtu, 68, 65536));
  VTDSIM_TRY(read_uint(t, "packet_bytes", c.packet_bytes, 0, 65536));
  VTDSIM_TRY(read_uint(t, "buffer_pages", c.buffer_pages, 1, 512));
  VTDSIM_TRY(read_uint(t, "headroom", c.headroom, 0, 4096));
  VTDSIM_TRY(read_bool(t, "page_pool", c.page_pool));
  VTDSIM_TRY(read_uint(t, "pool_factor", c.pool_factor, 1, 16));
  VTDSIM_TRY(read_uint(t, "flows", c.flows, 1, 1u << 20));
  VTDSIM_TRY(read_uint(t, "napi_budget", c.napi_budget, 1, 4096));
  VTDSIM_TRY(read_uint(t, "ack_every", c.ack_every, 0, 1024));
  VTDSIM_TRY(read_uint(t, "ack_bytes", c.ack_bytes, 1, 4096));
  VTDSIM_TRY(read_bool(t, "descriptors", c.descriptors));
  VTDSIM_TRY(t.finish());
  if (c.stride() > c.buffer_pages * model::kPageSize) {
    return make_error(ErrorCode::kParse,
                      fmt::format("{}: a {}-byte packet stride does not fit in {} page(s) "
                                  "(raise buffer_pages)",
                                  t.where(c.packet_bytes != 0 ? "packet_bytes" : "mtu"), c.stride(),
                                  c.buffer_pages));
  }
  return c;
}

namespace {

using host::DmaDirection;
using model::AccessType;

constexpr std::uint64_t kDescBytes = 16;
constexpr std::uint64_t kCqeBytes = 64;
constexpr unsigned kAckPages = 256;  // ACK skb pages per queue, reused round robin

class NicRx final : public Generator {
 public:
  NicRx(const NicRxConfig& c, DeviceDma& dev, HostStack& stack, std::uint64_t seed)
      : c_(c), io_(dev, c.io.request_bytes), stack_(&stack), rng_(seed) {}

  std::string describe() const override {
    return fmt::format("nic_rx {} queues={} ring={} mtu={} buffer_pages={} {}",
                       model::to_string(c_.io.device), c_.queues, c_.ring_size, c_.mtu,
                       c_.buffer_pages, c_.page_pool ? "page_pool" : "map/unmap");
  }

  Status start(EventSink& sink) override {
    const unsigned cpus = stack_->machine().config().cpus;
    const std::uint64_t buf_bytes = std::uint64_t{c_.buffer_pages} * model::kPageSize;
    const std::uint64_t align = std::has_single_bit(buf_bytes) ? buf_bytes : model::kPageSize;
    queues_.resize(c_.queues);
    for (unsigned q = 0; q < c_.queues; ++q) {
      Queue& Q = queues_[q];
      Q.cpu = q % cpus;
      if (c_.descriptors) {
        VTDSIM_TRY(map_ring(sink, Q, c_.ring_size * kDescBytes, Q.rx_desc));
        VTDSIM_TRY(map_ring(sink, Q, c_.ring_size * kCqeBytes, Q.rx_cq));
        VTDSIM_TRY(map_ring(sink, Q, c_.ring_size * kDescBytes, Q.tx_desc));
        VTDSIM_TRY(map_ring(sink, Q, c_.ring_size * kCqeBytes, Q.tx_cq));
      }
      auto acks = stack_->buffers().allocate(kAckPages * model::kPageSize);
      if (!acks) return tl::unexpected(acks.error());
      Q.ack_hpa = *acks;
      const unsigned buffers = c_.page_pool ? c_.ring_size * c_.pool_factor : c_.ring_size;
      Q.pool.resize(buffers);
      for (unsigned i = 0; i < buffers; ++i) {
        auto hpa = stack_->buffers().allocate(buf_bytes, align);
        if (!hpa) return tl::unexpected(hpa.error());
        Q.pool[i].hpa = *hpa;
        auto bus = io_.map(sink, Q.cpu, *hpa, buf_bytes, DmaDirection::kFromDevice);
        if (!bus) return tl::unexpected(bus.error());
        Q.pool[i].bus = *bus;
      }
      Q.ring.resize(c_.ring_size);
      for (unsigned i = 0; i < c_.ring_size; ++i) Q.ring[i] = i;
      for (unsigned i = c_.ring_size; i < buffers; ++i) Q.spare.push_back(i);
    }
    return {};
  }

  Status step(EventSink& sink) override {
    const auto flow = static_cast<unsigned>(rng_.below(c_.flows));
    Queue& Q = queues_[flow % c_.queues];
    const std::uint64_t buf_bytes = std::uint64_t{c_.buffer_pages} * model::kPageSize;
    const auto slot = static_cast<unsigned>(Q.head % c_.ring_size);
    Buffer& b = Q.pool[Q.ring[slot]];
    if (c_.descriptors && Q.offset == 0) {
      io_.dma(sink, Q.rx_desc + slot * kDescBytes, kDescBytes, AccessType::kRead);
    }
    io_.dma(sink, b.bus + Q.offset + c_.headroom, c_.frame_bytes(), AccessType::kWrite);
    if (c_.descriptors) {
      io_.dma(sink, Q.rx_cq + (Q.cqe++ % c_.ring_size) * kCqeBytes, kCqeBytes, AccessType::kWrite);
    }
    Q.offset += c_.stride();
    if (Q.offset + c_.stride() > buf_bytes) {
      Q.consumed.push_back(slot);
      ++Q.head;
      Q.offset = 0;
    }
    if (c_.ack_every != 0 && ++Q.received % c_.ack_every == 0) VTDSIM_TRY(send_ack(sink, Q));
    if (++Q.since_poll >= c_.napi_budget) VTDSIM_TRY(napi_poll(sink, Q));
    return {};
  }

 private:
  struct Buffer {
    std::uint64_t hpa = 0;
    std::uint64_t bus = 0;
  };
  struct Queue {
    unsigned cpu = 0;
    std::uint64_t rx_desc = 0, rx_cq = 0, tx_desc = 0, tx_cq = 0;
    std::uint64_t ack_hpa = 0;
    std::vector<Buffer> pool;         // every buffer of the queue
    std::vector<unsigned> ring;       // ring slot → pool index
    std::deque<unsigned> spare;       // page pool: buffers waiting to be reused (FIFO)
    std::vector<unsigned> consumed;   // ring slots filled since the last poll
    std::vector<std::uint64_t> acks;  // ACK bus addresses awaiting TX completion
    std::uint64_t head = 0;           // ring slot being filled
    std::uint64_t offset = 0;         // byte offset in that buffer
    std::uint64_t cqe = 0, tx = 0, received = 0, acks_sent = 0;
    unsigned since_poll = 0;
  };

  Status map_ring(EventSink& sink, Queue& Q, std::uint64_t bytes, std::uint64_t& bus) {
    auto hpa = stack_->buffers().allocate(bytes);
    if (!hpa) return tl::unexpected(hpa.error());
    auto b = io_.map(sink, Q.cpu, *hpa, bytes, DmaDirection::kBidirectional);
    if (!b) return tl::unexpected(b.error());
    bus = *b;
    return {};
  }

  Status send_ack(EventSink& sink, Queue& Q) {
    const std::uint64_t hpa =
        Q.ack_hpa + (Q.acks_sent++ % kAckPages) * model::kPageSize + 64;  // after headroom
    auto bus = io_.map(sink, Q.cpu, hpa, c_.ack_bytes, DmaDirection::kToDevice);
    if (!bus) return tl::unexpected(bus.error());
    if (c_.descriptors) {
      io_.dma(sink, Q.tx_desc + (Q.tx % c_.ring_size) * kDescBytes, kDescBytes, AccessType::kRead);
    }
    io_.dma(sink, *bus, c_.ack_bytes, AccessType::kRead);
    if (c_.descriptors) {
      io_.dma(sink, Q.tx_cq + (Q.tx % c_.ring_size) * kCqeBytes, kCqeBytes, AccessType::kWrite);
    }
    ++Q.tx;
    Q.acks.push_back(*bus);
    return {};
  }

  // NAPI: TX completions (unmap the ACKs), then hand the consumed buffers up and refill.
  Status napi_poll(EventSink& sink, Queue& Q) {
    Q.since_poll = 0;
    for (std::uint64_t bus : Q.acks) VTDSIM_TRY(io_.unmap(sink, Q.cpu, bus, c_.ack_bytes));
    Q.acks.clear();
    const std::uint64_t buf_bytes = std::uint64_t{c_.buffer_pages} * model::kPageSize;
    for (unsigned slot : Q.consumed) {
      const unsigned old = Q.ring[slot];
      if (c_.page_pool) {
        Q.spare.push_back(old);
        Q.ring[slot] = Q.spare.front();
        Q.spare.pop_front();
        continue;
      }
      Buffer& b = Q.pool[old];
      VTDSIM_TRY(io_.unmap(sink, Q.cpu, b.bus, buf_bytes));
      auto bus = io_.map(sink, Q.cpu, b.hpa, buf_bytes, DmaDirection::kFromDevice);
      if (!bus) return tl::unexpected(bus.error());
      b.bus = *bus;
    }
    Q.consumed.clear();
    return {};
  }

  NicRxConfig c_;
  DeviceIo io_;
  HostStack* stack_;
  Prng rng_;
  std::vector<Queue> queues_;
};

}  // namespace

Expected<std::unique_ptr<Generator>> make_nic_rx(const NicRxConfig& config, HostStack& stack,
                                                 std::uint64_t seed) {
  auto dev = stack.device(config.io.device);
  if (!dev) return tl::unexpected(dev.error());
  return std::unique_ptr<Generator>(new NicRx(config, **dev, stack, seed));
}

}  // namespace vtdsim::workload
