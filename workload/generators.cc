#include "workload/generators.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "workload/prng.h"

namespace vtdsim::workload {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

template <class T>
Expected<WorkloadSpec> wrap(Expected<T> c) {
  if (!c) return tl::unexpected(c.error());
  return WorkloadSpec{std::move(*c)};
}

Expected<WorkloadSpec> read_kind(ConfigTable& t, bool allow_mix);

Expected<WorkloadSpec> read_mix(ConfigTable& t) {
  auto devices = t.get_table_array("device");
  if (!devices) return tl::unexpected(devices.error());
  VTDSIM_TRY(t.finish());
  if (devices->empty()) {
    return make_error(
        ErrorCode::kParse,
        fmt::format("{}: a mix needs at least one [[workload.device]]", t.where("kind")));
  }
  MixConfig m;
  for (ConfigTable& d : *devices) {
    unsigned weight = 1;
    VTDSIM_TRY(read_uint(d, "weight", weight, 1, 1u << 20));
    auto spec = read_kind(d, false);
    if (!spec) return tl::unexpected(spec.error());
    m.devices.push_back(std::move(*spec));
    m.weights.push_back(weight);
  }
  return WorkloadSpec{std::move(m)};
}

Expected<WorkloadSpec> read_kind(ConfigTable& t, bool allow_mix) {
  std::vector<std::string_view> kinds = {"nic_rx", "nic_tx", "nvme", "stream", "random"};
  if (allow_mix) kinds.push_back("mix");
  if (!t.has("kind")) {
    return make_error(ErrorCode::kParse, fmt::format("{}: missing key 'kind' (one of {})",
                                                     t.where(), fmt::join(kinds, ", ")));
  }
  auto kind = t.get_choice("kind", "", kinds);
  if (!kind) return tl::unexpected(kind.error());
  if (*kind == "nic_rx") return wrap(read_nic_rx_config(t));
  if (*kind == "nic_tx") return wrap(read_nic_tx_config(t));
  if (*kind == "nvme") return wrap(read_nvme_config(t));
  if (*kind == "stream") return wrap(read_stream_config(t));
  if (*kind == "random") return wrap(read_random_config(t));
  return read_mix(t);
}

class Mix final : public Generator {
 public:
  Mix(std::vector<std::unique_ptr<Generator>> children, std::vector<unsigned> weights)
      : children_(std::move(children)), weights_(std::move(weights)) {}

  std::string describe() const override {
    std::string s = "mix:";
    for (std::size_t i = 0; i < children_.size(); ++i) {
      s += fmt::format(" [{} ×{}]", children_[i]->describe(), weights_[i]);
    }
    return s;
  }
  Status start(EventSink& sink) override {
    for (auto& c : children_) VTDSIM_TRY(c->start(sink));
    return {};
  }
  Status step(EventSink& sink) override {
    VTDSIM_TRY(children_[current_]->step(sink));
    if (++done_ >= weights_[current_]) {
      done_ = 0;
      current_ = (current_ + 1) % children_.size();
    }
    return {};
  }

 private:
  std::vector<std::unique_ptr<Generator>> children_;
  std::vector<unsigned> weights_;
  std::size_t current_ = 0;
  unsigned done_ = 0;
};

}  // namespace

std::string WorkloadSpec::kind() const {
  return std::visit(Overloaded{[](const NicRxConfig&) { return std::string("nic_rx"); },
                               [](const NicTxConfig&) { return std::string("nic_tx"); },
                               [](const NvmeGenConfig&) { return std::string("nvme"); },
                               [](const StreamConfig&) { return std::string("stream"); },
                               [](const RandomConfig&) { return std::string("random"); },
                               [](const MixConfig&) { return std::string("mix"); }},
                    knobs);
}

Expected<WorkloadSpec> read_workload(ConfigTable& t) {
  return read_kind(t, true);
}

Expected<std::unique_ptr<Generator>> make_generator(const WorkloadSpec& spec, HostStack& stack,
                                                    std::uint64_t seed) {
  return std::visit(
      Overloaded{[&](const NicRxConfig& c) { return make_nic_rx(c, stack, seed); },
                 [&](const NicTxConfig& c) { return make_nic_tx(c, stack, seed); },
                 [&](const NvmeGenConfig& c) { return make_nvme(c, stack, seed); },
                 [&](const StreamConfig& c) { return make_stream(c, stack, seed); },
                 [&](const RandomConfig& c) { return make_random(c, stack, seed); },
                 [&](const MixConfig& m) -> Expected<std::unique_ptr<Generator>> {
                   std::vector<std::unique_ptr<Generator>> children;
                   std::uint64_t s = seed;
                   for (const WorkloadSpec& d : m.devices) {
                     auto g = make_generator(d, stack, splitmix64(s));
                     if (!g) return tl::unexpected(g.error());
                     children.push_back(std::move(*g));
                   }
                   return std::unique_ptr<Generator>(new Mix(std::move(children), m.weights));
                 }},
      spec.knobs);
}

}  // namespace vtdsim::workload
