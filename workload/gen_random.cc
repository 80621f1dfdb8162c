#include "workload/gen_random.h"

#include <bit>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "workload/prng.h"

namespace vtdsim::workload {

Expected<RandomConfig> read_random_config(ConfigTable& t) {
  RandomConfig c;
  VTDSIM_TRY(read_device_knobs(t, c.io));
  VTDSIM_TRY(read_uint(t, "footprint_mib", c.footprint_mib, 1, 4096));
  VTDSIM_TRY(read_uint(t, "map_bytes", c.map_bytes, 4096, std::uint64_t{1} << 30));
  auto dist = t.get_choice("distribution", "uniform", {"uniform", "zipf"});
  if (!dist) return tl::unexpected(dist.error());
  c.zipf = *dist == "zipf";
  VTDSIM_TRY(read_float(t, "zipf_s", c.zipf_s, 0.0, 10.0));
  VTDSIM_TRY(read_bool(t, "scatter", c.scatter));
  VTDSIM_TRY(read_uint(t, "access_bytes", c.access_bytes, 1, 4096));
  VTDSIM_TRY(read_float(t, "write_fraction", c.write_fraction, 0.0, 1.0));
  VTDSIM_TRY(t.finish());
  const std::uint64_t total = std::uint64_t{c.footprint_mib} << 20;
  if (c.map_bytes % model::kPageSize != 0 || total % c.map_bytes != 0) {
    return make_error(ErrorCode::kParse,
                      fmt::format("{}: {} must be a multiple of 4096 that divides footprint_mib",
                                  t.where("map_bytes"), c.map_bytes));
  }
  return c;
}

namespace {

class Random final : public Generator {
 public:
  Random(const RandomConfig& c, DeviceDma& dev, HostStack& stack, std::uint64_t seed)
      : c_(c), io_(dev, c.io.request_bytes), stack_(&stack), rng_(seed) {}

  std::string describe() const override {
    return fmt::format("random {} footprint={}MiB {}", model::to_string(c_.io.device),
                       c_.footprint_mib,
                       c_.zipf ? fmt::format("zipf s={}", c_.zipf_s) : std::string("uniform"));
  }

  Status start(EventSink& sink) override {
    const std::uint64_t total = std::uint64_t{c_.footprint_mib} << 20;
    const std::uint64_t align = std::has_single_bit(c_.map_bytes) ? c_.map_bytes : model::kPageSize;
    auto hpa = stack_->buffers().allocate(total, align);
    if (!hpa) return tl::unexpected(hpa.error());
    for (std::uint64_t off = 0; off < total; off += c_.map_bytes) {
      auto bus = io_.map(sink, 0, *hpa + off, c_.map_bytes, host::DmaDirection::kBidirectional);
      if (!bus) return tl::unexpected(bus.error());
      for (std::uint64_t p = 0; p < c_.map_bytes; p += model::kPageSize) pages_.push_back(*bus + p);
    }
    if (c_.scatter) {  // Fisher-Yates with our own generator
      for (std::size_t i = pages_.size() - 1; i > 0; --i)
        std::swap(pages_[i], pages_[rng_.below(i + 1)]);
    }
    if (c_.zipf) zipf_.emplace(pages_.size(), c_.zipf_s);
    return {};
  }

  Status step(EventSink& sink) override {
    const std::uint64_t k = zipf_ ? zipf_->sample(rng_) : rng_.below(pages_.size());
    const std::uint64_t slots = std::max<std::uint64_t>(1, model::kPageSize / c_.access_bytes);
    const std::uint64_t offset = rng_.below(slots) * c_.access_bytes;
    const bool write = c_.write_fraction > 0 && rng_.chance(c_.write_fraction);
    io_.dma(sink, pages_[k] + offset,
            std::min<std::uint64_t>(c_.access_bytes, model::kPageSize - offset),
            write ? model::AccessType::kWrite : model::AccessType::kRead);
    return {};
  }

 private:
  RandomConfig c_;
  DeviceIo io_;
  HostStack* stack_;
  Prng rng_;
  std::vector<std::uint64_t> pages_;  // rank → bus address of the page
  std::optional<ZipfTable> zipf_;
};

}  // namespace

Expected<std::unique_ptr<Generator>> make_random(const RandomConfig& config, HostStack& stack,
                                                 std::uint64_t seed) {
  auto dev = stack.device(config.io.device);
  if (!dev) return tl::unexpected(dev.error());
  return std::unique_ptr<Generator>(new Random(config, **dev, stack, seed));
}

}  // namespace vtdsim::workload
