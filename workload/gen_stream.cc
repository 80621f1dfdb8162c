#include "workload/gen_stream.h"

#include <bit>
#include <vector>

#include <fmt/format.h>

namespace vtdsim::workload {

Expected<StreamConfig> read_stream_config(ConfigTable& t) {
  StreamConfig c;
  VTDSIM_TRY(read_device_knobs(t, c.io));
  VTDSIM_TRY(read_uint(t, "buffer_mib", c.buffer_mib, 1, 65536));
  VTDSIM_TRY(read_uint(t, "map_bytes", c.map_bytes, 4096, std::uint64_t{1} << 30));
  VTDSIM_TRY(read_uint(t, "transfer_bytes", c.transfer_bytes, 1, 1u << 20));
  VTDSIM_TRY(read_bool(t, "write", c.write));
  VTDSIM_TRY(t.finish());
  const std::uint64_t total = std::uint64_t{c.buffer_mib} << 20;
  if (c.map_bytes % model::kPageSize != 0 || total % c.map_bytes != 0) {
    return make_error(ErrorCode::kParse,
                      fmt::format("{}: {} must be a multiple of 4096 that divides buffer_mib",
                                  t.where("map_bytes"), c.map_bytes));
  }
  return c;
}

namespace {

class Stream final : public Generator {
 public:
  Stream(const StreamConfig& c, DeviceDma& dev, HostStack& stack)
      : c_(c), io_(dev, c.io.request_bytes), stack_(&stack) {}

  std::string describe() const override {
    return fmt::format("stream {} buffer={}MiB map={} {}", model::to_string(c_.io.device),
                       c_.buffer_mib, c_.map_bytes, c_.write ? "write" : "read");
  }

  Status start(EventSink& sink) override {
    const std::uint64_t total = std::uint64_t{c_.buffer_mib} << 20;
    const std::uint64_t align = std::has_single_bit(c_.map_bytes) ? c_.map_bytes : model::kPageSize;
    auto hpa = stack_->buffers().allocate(total, align);
    if (!hpa) return tl::unexpected(hpa.error());
    const auto dir = c_.write ? host::DmaDirection::kFromDevice : host::DmaDirection::kToDevice;
    for (std::uint64_t off = 0; off < total; off += c_.map_bytes) {
      auto bus = io_.map(sink, 0, *hpa + off, c_.map_bytes, dir);
      if (!bus) return tl::unexpected(bus.error());
      chunks_.push_back(*bus);
    }
    return {};
  }

  Status step(EventSink& sink) override {
    const std::uint64_t total = std::uint64_t{c_.buffer_mib} << 20;
    for (std::uint64_t left = c_.transfer_bytes; left > 0;) {
      const std::uint64_t in_chunk = pos_ % c_.map_bytes;
      const std::uint64_t n = std::min(left, c_.map_bytes - in_chunk);
      io_.dma(sink, chunks_[pos_ / c_.map_bytes] + in_chunk, n,
              c_.write ? model::AccessType::kWrite : model::AccessType::kRead);
      left -= n;
      pos_ = (pos_ + n) % total;
    }
    return {};
  }

 private:
  StreamConfig c_;
  DeviceIo io_;
  HostStack* stack_;
  std::vector<std::uint64_t> chunks_;  // bus address of each map_bytes piece
  std::uint64_t pos_ = 0;
};

}  // namespace

Expected<std::unique_ptr<Generator>> make_stream(const StreamConfig& config, HostStack& stack,
                                                 std::uint64_t /*seed*/) {
  auto dev = stack.device(config.io.device);
  if (!dev) return tl::unexpected(dev.error());
  return std::unique_ptr<Generator>(new Stream(config, **dev, stack));
}

}  // namespace vtdsim::workload
