#include "workload/gen_nvme.h"

#include <deque>
#include <vector>

#include <fmt/format.h>

#include "workload/prng.h"

namespace vtdsim::workload {

Expected<NvmeGenConfig> read_nvme_config(ConfigTable& t) {
  NvmeGenConfig c;
  VTDSIM_TRY(read_device_knobs(t, c.io));
  VTDSIM_TRY(read_uint(t, "queues", c.queues, 1, 64));
  VTDSIM_TRY(read_uint(t, "queue_depth", c.queue_depth, 1, 1024));
  VTDSIM_TRY(read_uint(t, "block_bytes", c.block_bytes, 4096, 262144));
  auto pattern = t.get_choice("pattern", "random", {"random", "sequential"});
  if (!pattern) return tl::unexpected(pattern.error());
  c.sequential = *pattern == "sequential";
  VTDSIM_TRY(read_float(t, "read_fraction", c.read_fraction, 0.0, 1.0));
  VTDSIM_TRY(read_uint(t, "footprint_mib", c.footprint_mib, 1, 65536));
  VTDSIM_TRY(read_uint(t, "queue_entries", c.queue_entries, 2, 65536));
  VTDSIM_TRY(t.finish());
  if (c.block_bytes % model::kPageSize != 0) {
    return make_error(ErrorCode::kParse, fmt::format("{}: {} is not a multiple of 4096",
                                                     t.where("block_bytes"), c.block_bytes));
  }
  if (std::uint64_t{c.footprint_mib} << 20 < c.block_bytes) {
    return make_error(ErrorCode::kParse,
                      fmt::format("{}: smaller than one block", t.where("footprint_mib")));
  }
  return c;
}

namespace {

using host::DmaDirection;
using model::AccessType;

constexpr std::uint64_t kSqeBytes = 64;
constexpr std::uint64_t kCqeBytes = 16;

class Nvme final : public Generator {
 public:
  Nvme(const NvmeGenConfig& c, DeviceDma& dev, HostStack& stack, std::uint64_t seed)
      : c_(c), io_(dev, c.io.request_bytes), stack_(&stack), rng_(seed) {}

  std::string describe() const override {
    return fmt::format("nvme {} {} qd={} block={} read={}", model::to_string(c_.io.device),
                       c_.sequential ? "sequential" : "random", c_.queue_depth, c_.block_bytes,
                       c_.read_fraction);
  }

  Status start(EventSink& sink) override {
    const unsigned cpus = stack_->machine().config().cpus;
    queues_.resize(c_.queues);
    for (unsigned q = 0; q < c_.queues; ++q) {
      Queue& Q = queues_[q];
      Q.cpu = q % cpus;
      VTDSIM_TRY(map_coherent(sink, Q, c_.queue_entries * kSqeBytes, Q.sq));
      VTDSIM_TRY(map_coherent(sink, Q, c_.queue_entries * kCqeBytes, Q.cq));
      // One PRP-list page per command slot (Linux's "prp list page" dma pool).
      VTDSIM_TRY(map_coherent(sink, Q, std::uint64_t{c_.queue_depth} * model::kPageSize, Q.prp));
    }
    footprint_pages_ = (std::uint64_t{c_.footprint_mib} << 20) >> model::kPageShift;
    auto f = stack_->buffers().allocate(footprint_pages_ * model::kPageSize);
    if (!f) return tl::unexpected(f.error());
    footprint_ = *f;
    return {};
  }

  Status step(EventSink& sink) override {
    Queue& Q = queues_[next_queue_++ % c_.queues];
    Io io;
    io.read = rng_.chance(c_.read_fraction);
    io.slot = static_cast<unsigned>(Q.submitted % c_.queue_depth);
    const unsigned pages = c_.block_bytes >> model::kPageShift;
    if (c_.sequential) {
      if (seq_page_ + pages > footprint_pages_) seq_page_ = 0;
      io.sg.push_back({footprint_ + seq_page_ * model::kPageSize, c_.block_bytes, 0, 0});
      seq_page_ += pages;
    } else {
      for (unsigned i = 0; i < pages; ++i) {
        io.sg.push_back(
            {footprint_ + rng_.below(footprint_pages_) * model::kPageSize, model::kPageSize, 0, 0});
      }
    }
    io.pages = pages;
    const DmaDirection dir = io.read ? DmaDirection::kFromDevice : DmaDirection::kToDevice;
    auto n = io_.map_sg(sink, Q.cpu, io.sg, dir);
    if (!n) return tl::unexpected(n.error());
    io.segments = *n;
    io_.dma(sink, Q.sq + (Q.submitted++ % c_.queue_entries) * kSqeBytes, kSqeBytes,
            AccessType::kRead);
    Q.inflight.push_back(std::move(io));
    if (Q.inflight.size() >= c_.queue_depth) VTDSIM_TRY(complete(sink, Q));
    return {};
  }

 private:
  struct Io {
    std::vector<host::SgEntry> sg;
    std::size_t segments = 0;
    unsigned pages = 0;
    unsigned slot = 0;
    bool read = true;
  };
  struct Queue {
    unsigned cpu = 0;
    std::uint64_t sq = 0, cq = 0, prp = 0;
    std::uint64_t submitted = 0, completed = 0;
    std::deque<Io> inflight;
  };

  Status map_coherent(EventSink& sink, Queue& Q, std::uint64_t bytes, std::uint64_t& bus) {
    auto hpa = stack_->buffers().allocate(bytes);
    if (!hpa) return tl::unexpected(hpa.error());
    auto b = io_.map(sink, Q.cpu, *hpa, bytes, DmaDirection::kBidirectional);
    if (!b) return tl::unexpected(b.error());
    bus = *b;
    return {};
  }

  // The device serves the oldest command, then the driver completes it.
  Status complete(EventSink& sink, Queue& Q) {
    Io& io = Q.inflight.front();
    if (io.pages > 2) {
      io_.dma(sink, Q.prp + std::uint64_t{io.slot} * model::kPageSize, (io.pages - 1) * 8,
              AccessType::kRead);
    }
    const AccessType data = io.read ? AccessType::kWrite : AccessType::kRead;
    for (std::size_t i = 0; i < io.segments; ++i) {
      io_.dma(sink, io.sg[i].dma_address, io.sg[i].dma_length, data);
    }
    io_.dma(sink, Q.cq + (Q.completed++ % c_.queue_entries) * kCqeBytes, kCqeBytes,
            AccessType::kWrite);
    VTDSIM_TRY(
        io_.unmap_sg(sink, Q.cpu, std::span<const host::SgEntry>(io.sg.data(), io.segments)));
    Q.inflight.pop_front();
    return {};
  }

  NvmeGenConfig c_;
  DeviceIo io_;
  HostStack* stack_;
  Prng rng_;
  std::vector<Queue> queues_;
  std::uint64_t next_queue_ = 0;
  std::uint64_t footprint_ = 0;
  std::uint64_t footprint_pages_ = 0;
  std::uint64_t seq_page_ = 0;
};

}  // namespace

Expected<std::unique_ptr<Generator>> make_nvme(const NvmeGenConfig& config, HostStack& stack,
                                               std::uint64_t seed) {
  auto dev = stack.device(config.io.device);
  if (!dev) return tl::unexpected(dev.error());
  return std::unique_ptr<Generator>(new Nvme(config, **dev, stack, seed));
}

}  // namespace vtdsim::workload
