#include "workload/gen_nic_tx.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace vtdsim::workload {

Expected<NicTxConfig> read_nic_tx_config(ConfigTable& t) {
  NicTxConfig c;
  VTDSIM_TRY(read_device_knobs(t, c.io));
  VTDSIM_TRY(read_uint(t, "queues", c.queues, 1, 64));
  VTDSIM_TRY(read_uint(t, "ring_size", c.ring_size, 8, 65536));
  VTDSIM_TRY(read_uint(t, "mtu", c.mtu, 576, 65536));
  VTDSIM_TRY(read_uint(t, "send_bytes", c.send_bytes, 1, 262144));
  VTDSIM_TRY(read_uint(t, "header_bytes", c.header_bytes, 14, 256));
  VTDSIM_TRY(read_uint(t, "frag_bytes", c.frag_bytes, 256, 65536));
  VTDSIM_TRY(read_uint(t, "payload_mib", c.payload_mib, 1, 1024));
  VTDSIM_TRY(read_uint(t, "completion_batch", c.completion_batch, 1, 4096));
  VTDSIM_TRY(read_bool(t, "descriptors", c.descriptors));
  VTDSIM_TRY(t.finish());
  if (c.frag_bytes % 256 != 0 || c.payload_mib * (1u << 20) < c.send_bytes) {
    return make_error(ErrorCode::kParse,
                      fmt::format("{}: frag_bytes must be a multiple of 256 and payload_mib hold "
                                  "one send",
                                  t.where("frag_bytes")));
  }
  return c;
}

namespace {

using host::DmaDirection;
using model::AccessType;

constexpr std::uint64_t kDescBytes = 16;
constexpr std::uint64_t kCqeBytes = 64;
constexpr unsigned kHeaderPages = 256;

class NicTx final : public Generator {
 public:
  NicTx(const NicTxConfig& c, DeviceDma& dev, HostStack& stack)
      : c_(c), io_(dev, c.io.request_bytes), stack_(&stack) {}

  std::string describe() const override {
    return fmt::format("nic_tx {} queues={} send={} frag={} mtu={}", model::to_string(c_.io.device),
                       c_.queues, c_.send_bytes, c_.frag_bytes, c_.mtu);
  }

  Status start(EventSink& sink) override {
    const unsigned cpus = stack_->machine().config().cpus;
    queues_.resize(c_.queues);
    for (unsigned q = 0; q < c_.queues; ++q) {
      Queue& Q = queues_[q];
      Q.cpu = q % cpus;
      if (c_.descriptors) {
        VTDSIM_TRY(map_ring(sink, Q, c_.ring_size * kDescBytes, Q.desc));
        VTDSIM_TRY(map_ring(sink, Q, c_.ring_size * kCqeBytes, Q.cq));
      }
      auto h = stack_->buffers().allocate(kHeaderPages * model::kPageSize);
      if (!h) return tl::unexpected(h.error());
      Q.header_hpa = *h;
      auto p = stack_->buffers().allocate(std::uint64_t{c_.payload_mib} << 20);
      if (!p) return tl::unexpected(p.error());
      Q.payload_hpa = *p;
    }
    return {};
  }

  Status step(EventSink& sink) override {
    Queue& Q = queues_[next_queue_++ % c_.queues];
    Send s;
    const std::uint64_t hhpa = Q.header_hpa + (Q.sends % kHeaderPages) * model::kPageSize + 128;
    auto hbus = io_.map(sink, Q.cpu, hhpa, c_.header_bytes, DmaDirection::kToDevice);
    if (!hbus) return tl::unexpected(hbus.error());
    s.header = *hbus;
    const std::uint64_t payload_bytes = std::uint64_t{c_.payload_mib} << 20;
    for (std::uint64_t done = 0; done < c_.send_bytes;) {
      const std::uint64_t len = std::min<std::uint64_t>(c_.frag_bytes, c_.send_bytes - done);
      if (Q.payload_off + len > payload_bytes) Q.payload_off = 0;
      auto fbus = io_.map(sink, Q.cpu, Q.payload_hpa + Q.payload_off, len, DmaDirection::kToDevice);
      if (!fbus) return tl::unexpected(fbus.error());
      s.frags.push_back({*fbus, len});
      Q.payload_off += (len + model::kPageSize - 1) & ~(model::kPageSize - 1);
      done += len;
    }
    // The device: descriptors, the header once, then the payload segment by segment.
    if (c_.descriptors) {
      for (std::size_t i = 0; i <= s.frags.size(); ++i) {
        io_.dma(sink, Q.desc + (Q.tx++ % c_.ring_size) * kDescBytes, kDescBytes, AccessType::kRead);
      }
    }
    io_.dma(sink, s.header, c_.header_bytes, AccessType::kRead);
    const std::uint64_t mss = c_.mtu - 52;
    std::size_t f = 0;
    std::uint64_t in_frag = 0;
    for (std::uint64_t left = c_.send_bytes; left > 0;) {
      std::uint64_t seg = std::min(mss, left);
      left -= seg;
      while (seg > 0) {
        const std::uint64_t n = std::min(seg, s.frags[f].second - in_frag);
        io_.dma(sink, s.frags[f].first + in_frag, n, AccessType::kRead);
        seg -= n;
        in_frag += n;
        if (in_frag == s.frags[f].second) {
          ++f;
          in_frag = 0;
        }
      }
    }
    if (c_.descriptors) {
      io_.dma(sink, Q.cq + (Q.sends % c_.ring_size) * kCqeBytes, kCqeBytes, AccessType::kWrite);
    }
    ++Q.sends;
    Q.pending.push_back(std::move(s));
    if (Q.pending.size() >= c_.completion_batch) {
      for (const Send& p : Q.pending) {
        VTDSIM_TRY(io_.unmap(sink, Q.cpu, p.header, c_.header_bytes));
        for (const auto& [bus, len] : p.frags) VTDSIM_TRY(io_.unmap(sink, Q.cpu, bus, len));
      }
      Q.pending.clear();
    }
    return {};
  }

 private:
  struct Send {
    std::uint64_t header = 0;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> frags;  // bus, length
  };
  struct Queue {
    unsigned cpu = 0;
    std::uint64_t desc = 0, cq = 0, header_hpa = 0, payload_hpa = 0, payload_off = 0;
    std::uint64_t tx = 0, sends = 0;
    std::vector<Send> pending;
  };

  Status map_ring(EventSink& sink, Queue& Q, std::uint64_t bytes, std::uint64_t& bus) {
    auto hpa = stack_->buffers().allocate(bytes);
    if (!hpa) return tl::unexpected(hpa.error());
    auto b = io_.map(sink, Q.cpu, *hpa, bytes, DmaDirection::kBidirectional);
    if (!b) return tl::unexpected(b.error());
    bus = *b;
    return {};
  }

  NicTxConfig c_;
  DeviceIo io_;
  HostStack* stack_;
  std::vector<Queue> queues_;
  std::uint64_t next_queue_ = 0;
};

}  // namespace

Expected<std::unique_ptr<Generator>> make_nic_tx(const NicTxConfig& config, HostStack& stack,
                                                 std::uint64_t /*seed*/) {
  auto dev = stack.device(config.io.device);
  if (!dev) return tl::unexpected(dev.error());
  return std::unique_ptr<Generator>(new NicTx(config, **dev, stack));
}

}  // namespace vtdsim::workload
