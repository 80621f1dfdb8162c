#include "workload/scenario.h"

#include <bit>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "workload/config.h"
#include "workload/trace.h"
#include "workload/unit_config_toml.h"

namespace vtdsim::workload {
namespace {

Status read_machine(ConfigTable& t, platform::MachineConfig& m) {
  VTDSIM_TRY(read_uint(t, "address_width", m.address_width, 32, 52));
  std::uint64_t ram_mib = m.ram_size >> 20;
  VTDSIM_TRY(read_uint(t, "ram_mib", ram_mib, 64, std::uint64_t{1} << 22));
  m.ram_size = ram_mib << 20;
  std::uint64_t host_mib = m.host_memory_size >> 20;
  VTDSIM_TRY(read_uint(t, "host_memory_mib", host_mib, 1, 1024));
  m.host_memory_size = host_mib << 20;
  VTDSIM_TRY(read_uint(t, "cpus", m.cpus, 1, 255));
  return t.finish();
}

Expected<unsigned> parse_hex_bus(std::string_view s) {
  unsigned v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v > 0xFF) {
    return make_error(ErrorCode::kParse, "bad bus");
  }
  return v;
}

Expected<platform::RemappingUnitConfig> read_unit(ConfigTable& t, unsigned address_width,
                                                  std::size_t index) {
  platform::RemappingUnitConfig u;
  u.name = fmt::format("unit{}", index);
  auto name = t.get_string("name", u.name);
  if (!name) return tl::unexpected(name.error());
  u.name = *name;
  VTDSIM_TRY(read_bool(t, "include_pci_all", u.include_pci_all));
  auto scope = t.get_string_array("scope");
  if (!scope) return tl::unexpected(scope.error());
  for (const std::string& s : *scope) {
    if (s.find(':') != std::string::npos) {
      auto sid = parse_source_id(s, t.where("scope"));
      if (!sid) return tl::unexpected(sid.error());
      u.scope.push_back(platform::DeviceScope::endpoint(*sid));
      continue;
    }
    const auto dash = s.find('-');
    auto lo = parse_hex_bus(std::string_view(s).substr(0, dash));
    auto hi = dash == std::string::npos ? lo : parse_hex_bus(std::string_view(s).substr(dash + 1));
    if (!lo || !hi || *hi < *lo) {
      return make_error(
          ErrorCode::kParse,
          fmt::format("{}: '{}' is neither bb:dd.f nor a bus range bb-bb", t.where("scope"), s));
    }
    u.scope.push_back(platform::DeviceScope::buses(static_cast<std::uint8_t>(*lo),
                                                   static_cast<std::uint8_t>(*hi)));
  }
  if (u.include_pci_all == !u.scope.empty()) {
    return make_error(ErrorCode::kParse,
                      fmt::format("{}: give either include_pci_all = true or a scope", t.where()));
  }
  iommu::UnitConfig base;
  base.host_address_width = address_width;
  auto cfg = read_unit_config(t, base);
  if (!cfg) return tl::unexpected(cfg.error());
  u.unit = *cfg;
  return u;
}

Status read_host(ConfigTable& t, HostConfig& h) {
  auto policy = t.get_choice("policy", "deferred", {"strict", "deferred"});
  if (!policy) return tl::unexpected(policy.error());
  h.policy = *policy == "strict" ? host::UnmapPolicy::kStrict : host::UnmapPolicy::kDeferred;
  VTDSIM_TRY(read_uint(t, "flush_queue_size", h.flush_queue_size, 2, 65536));
  if (!std::has_single_bit(h.flush_queue_size)) {
    return make_error(ErrorCode::kParse,
                      fmt::format("{}: {} is not a power of two", t.where("flush_queue_size"),
                                  h.flush_queue_size));
  }
  VTDSIM_TRY(read_uint(t, "flush_timeout_cycles", h.flush_timeout, 1, std::uint64_t{1} << 50));
  VTDSIM_TRY(read_bool(t, "superpages", h.superpages));
  VTDSIM_TRY(read_uint(t, "dma_mask_bits", h.dma_mask_bits, 32, 64));
  VTDSIM_TRY(read_bool(t, "forcedac", h.forcedac));
  VTDSIM_TRY(read_bool(t, "queued_invalidation", h.queued_invalidation));
  VTDSIM_TRY(read_uint(t, "guest_address_width", h.guest_address_width, 39, 57));
  return t.finish();
}

Status read_run(ConfigTable& t, RunConfig& r) {
  VTDSIM_TRY(read_uint(t, "records", r.records, 1, std::uint64_t{1} << 40));
  VTDSIM_TRY(read_uint(t, "warmup", r.warmup, 0, std::uint64_t{1} << 40));
  VTDSIM_TRY(read_uint(t, "seed", r.seed, 0, ~std::uint64_t{0} >> 1));
  VTDSIM_TRY(read_float(t, "clock_ghz", r.clock_ghz, 0.001, 100.0));
  VTDSIM_TRY(read_float(t, "offered_gbps", r.offered_gbps, 0.0, 1e6));
  VTDSIM_TRY(read_uint(t, "outstanding", r.outstanding, 1, 65536));
  auto arrival = t.get_choice("arrival", "model", {"model", "trace"});
  if (!arrival) return tl::unexpected(arrival.error());
  r.trace_time = *arrival == "trace";
  return t.finish();
}

std::string stem(const std::string& path) {
  const auto slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const auto dot = base.rfind('.');
  return dot == std::string::npos ? base : base.substr(0, dot);
}

}  // namespace

Expected<Scenario> parse_scenario(std::string_view text, const std::string& source) {
  auto root = parse_toml(text, source);
  if (!root) return tl::unexpected(root.error());
  ConfigTable top(*root, source, "");
  Scenario s;
  s.source = source;
  auto name = top.get_string("name", stem(source));
  if (!name) return tl::unexpected(name.error());
  s.name = *name;
  auto description = top.get_string("description", "");
  if (!description) return tl::unexpected(description.error());
  s.description = *description;

  auto machine = top.get_table("machine");
  if (!machine) return tl::unexpected(machine.error());
  if (*machine) VTDSIM_TRY(read_machine(**machine, s.machine));

  auto units = top.get_table_array("unit");
  if (!units) return tl::unexpected(units.error());
  for (std::size_t i = 0; i < units->size(); ++i) {
    auto u = read_unit((*units)[i], s.machine.address_width, i);
    if (!u) return tl::unexpected(u.error());
    s.machine.units.push_back(std::move(*u));
  }
  if (s.machine.units.empty()) {
    platform::RemappingUnitConfig u;
    u.name = "unit0";
    u.include_pci_all = true;
    u.unit.host_address_width = s.machine.address_width;
    s.machine.units.push_back(u);
  }

  auto host = top.get_table("host");
  if (!host) return tl::unexpected(host.error());
  if (*host) VTDSIM_TRY(read_host(**host, s.host));

  auto workload = top.get_table("workload");
  if (!workload) return tl::unexpected(workload.error());
  if (*workload) {
    auto w = read_workload(**workload);
    if (!w) return tl::unexpected(w.error());
    s.workload = std::move(*w);
  }

  auto run = top.get_table("run");
  if (!run) return tl::unexpected(run.error());
  if (*run) VTDSIM_TRY(read_run(**run, s.run));
  VTDSIM_TRY(top.finish());

  if (auto ok = s.machine.validate(); !ok) {
    return make_error(ErrorCode::kParse,
                      fmt::format("{}: machine: {}", source, ok.error().message));
  }
  return s;
}

Expected<Scenario> load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kIo, fmt::format("{}: cannot open", path));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), path);
}

}  // namespace vtdsim::workload
