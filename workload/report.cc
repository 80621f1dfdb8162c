#include "workload/report.h"

#include <fmt/format.h>

namespace vtdsim::workload {
namespace {

double ratio(double a, double b) {
  return b == 0 ? 0.0 : a / b;
}

std::string value_text(const Metric& m, bool for_csv) {
  if (!m.value) return for_csv ? std::string() : std::string("unbounded");
  if (m.integer) return fmt::format("{}", static_cast<std::uint64_t>(*m.value));
  return fmt::format("{:.4f}", *m.value);
}

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

template <class S>
nlohmann::ordered_json counters_json(const S& s) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& f : S::kFields) j[std::string(f.name)] = s.*(f.member);
  return j;
}

}  // namespace

std::vector<Metric> summarize(const RunResult& r) {
  const auto& rm = r.counters.remap;
  const auto& ev = r.events;
  const double bytes = static_cast<double>(ev.dma_bytes);
  const double pages4k = bytes / 4096.0;
  const double mib = bytes / 1048576.0;
  const model::Cycle elapsed =
      r.last_completion > r.first_arrival ? r.last_completion - r.first_arrival : 0;
  const double el = static_cast<double>(elapsed);
  auto d = [](std::uint64_t v) { return static_cast<double>(v); };

  std::vector<Metric> m;
  auto count = [&m](std::string name, std::uint64_t v, std::string unit, std::string desc) {
    m.push_back({std::move(name), static_cast<double>(v), true, std::move(unit), std::move(desc)});
  };
  auto real = [&m](std::string name, std::optional<double> v, std::string unit, std::string desc) {
    m.push_back({std::move(name), v, false, std::move(unit), std::move(desc)});
  };
  count("dma.requests", ev.dma, "requests", "DMA translation requests measured");
  count("dma.bytes", ev.dma_bytes, "bytes", "bytes those requests carried");
  count("dma.faults", ev.dma_faults, "requests", "requests that faulted");
  count("host.maps", ev.maps, "events", "map events");
  count("host.unmaps", ev.unmaps, "events", "unmap events");
  count("host.invalidations", ev.invalidations, "events", "IOTLB invalidation events");
  count("translations", rm.translations, "requests", "requests presented to the units");
  real("iotlb.hit_rate", ratio(d(rm.iotlb_hit), d(rm.iotlb_lookup)), "ratio",
       "IOTLB hits / lookups");
  real("iotlb.misses_per_4k", ratio(d(rm.iotlb_miss), pages4k), "misses",
       "IOTLB misses per 4 KiB of data");
  real("iotlb.misses_per_mib", ratio(d(rm.iotlb_miss), mib), "misses",
       "IOTLB misses per MiB of data");
  real("ctxt_cache.hit_rate", ratio(d(rm.ctxt_cache_hit), d(rm.ctxt_cache_lookup)), "ratio",
       "context-cache hits / lookups");
  const std::uint64_t pwc_hits =
      rm.slpwc_l2_hit + rm.slpwc_l3_hit + rm.slpwc_l4_hit + rm.slpwc_l5_hit;
  real("pwc.hit_rate", ratio(d(pwc_hits), d(rm.slpwc_lookup)), "ratio",
       "paging-structure-cache hits / probes");
  count("pw.walks", rm.pw_walks, "walks", "page walks");
  real("pw.mem_reads_per_4k", ratio(d(rm.pw_mem_reads), pages4k), "reads",
       "page-walk memory reads per 4 KiB of data");
  real("pw.occupancy", ratio(d(rm.pw_occupancy), d(r.page_walkers) * el), "ratio",
       "walker busy cycles / (walkers × elapsed)");
  real("latency.mean", r.latency.mean(), "cycles", "mean translation latency");
  count("latency.p50", r.latency.percentile(0.50), "cycles", "median translation latency");
  count("latency.p99", r.latency.percentile(0.99), "cycles", "99th percentile translation latency");
  count("latency.max", r.latency.max(), "cycles", "largest translation latency");
  count("elapsed", elapsed, "cycles", "last completion - first arrival");
  real("throughput.offered_gbps", r.offered_gbps, "Gbit/s", "offered DMA rate (0: unlimited)");
  real("throughput.achieved_gbps", ratio(bytes * 8.0 * r.clock_ghz, el), "Gbit/s",
       "DMA bytes over elapsed time");
  real("throughput.walker_bound_gbps",
       rm.pw_occupancy == 0 ? std::nullopt
                            : std::optional<double>(bytes * 8.0 * r.clock_ghz * d(r.page_walkers) /
                                                    d(rm.pw_occupancy)),
       "Gbit/s", "rate at which the page walkers saturate");
  count("interrupts.remapped", r.counters.ir.remapped, "interrupts", "interrupts remapped");
  count("interrupts.posted", r.counters.ir.posted, "interrupts", "interrupts posted");
  for (const auto& f : iommu::DmaRemapStats::kFields) {
    if (f.name.starts_with("fault_")) {
      count("faults." + std::string(f.name.substr(6)), rm.*(f.member), "faults",
            std::string(f.description));
    }
  }
  count("inval.iotlb_global", rm.iotlb_inval_global, "invalidations", "global IOTLB invalidations");
  count("inval.iotlb_domain", rm.iotlb_inval_domain, "invalidations",
        "domain-selective IOTLB invalidations");
  count("inval.iotlb_page", rm.iotlb_inval_page, "invalidations",
        "page-selective IOTLB invalidations");
  count("inval.iotlb_entries", rm.iotlb_inval_entries, "entries",
        "IOTLB entries removed by invalidations");
  count("inval.context_global", rm.ctxt_inval_global, "invalidations",
        "global context-cache invalidations");
  count("inval.context_domain", rm.ctxt_inval_domain, "invalidations",
        "domain-selective context-cache invalidations");
  count("inval.context_device", rm.ctxt_inval_device, "invalidations",
        "device-selective context-cache invalidations");
  const auto& fq = r.counters.flush_queue;
  count("flush_queue.strict", fq.strict_invalidations, "ops", "range invalidations at unmap");
  count("flush_queue.full", fq.flushes_full, "ops", "flushes because a ring was full");
  count("flush_queue.timeout", fq.flushes_timeout, "ops", "flushes by the timer");
  real("iova.rcache_hit_rate", ratio(d(r.counters.iova.cache_hits), d(r.counters.iova.allocs)),
       "ratio", "IOVA allocations served by the per-CPU caches");
  return m;
}

std::string format_text(const RunResult& r) {
  std::string out = fmt::format("scenario: {}\nworkload: {}\n", r.scenario, r.workload);
  out += fmt::format("warm-up: {} requests; clock {:.3f} GHz\n\n", r.warmup, r.clock_ghz);
  const auto metrics = summarize(r);
  std::size_t w = 0;
  std::size_t wv = 0;
  for (const Metric& m : metrics) {
    w = std::max(w, m.name.size());
    wv = std::max(wv, value_text(m, false).size());
  }
  bool faults_shown = false;
  for (const Metric& m : metrics) {
    const bool fault_row = m.name.starts_with("faults.");
    if (fault_row && m.value.value_or(0) == 0) continue;  // text shows non-zero reasons only
    faults_shown = faults_shown || fault_row;
    out += fmt::format("{:<{}}  {:>{}}  {:<13}  {}\n", m.name, w, value_text(m, false), wv, m.unit,
                       m.description);
    if (m.name == "interrupts.posted" && r.events.dma_faults == 0) {
      out += fmt::format("{:<{}}  {:>{}}\n", "faults", w, "none", wv);
    }
  }
  return out;
}

nlohmann::ordered_json to_json(const RunResult& r) {
  nlohmann::ordered_json j;
  j["scenario"] = r.scenario;
  j["workload"] = r.workload;
  j["warmup"] = r.warmup;
  j["clock_ghz"] = r.clock_ghz;
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  for (const Metric& m : summarize(r)) {
    if (!m.value) {
      metrics[m.name] = nullptr;
    } else if (m.integer) {
      metrics[m.name] = static_cast<std::uint64_t>(*m.value);
    } else {
      metrics[m.name] = *m.value;
    }
  }
  j["metrics"] = std::move(metrics);
  nlohmann::ordered_json c;
  c["events"] = counters_json(r.events);
  c["dma_remap"] = counters_json(r.counters.remap);
  c["unit"] = counters_json(r.counters.unit);
  c["interrupt_remap"] = counters_json(r.counters.ir);
  c["host_invalidation"] = counters_json(r.counters.invalidation);
  c["flush_queue"] = counters_json(r.counters.flush_queue);
  c["dma_api"] = counters_json(r.counters.dma_api);
  c["iova"] = counters_json(r.counters.iova);
  j["counters"] = std::move(c);
  return j;
}

std::string format_json(const RunResult& r) {
  return to_json(r).dump(2) + "\n";
}

std::string csv_header() {
  std::string s = "scenario,workload";
  for (const Metric& m : summarize(RunResult{})) {
    s += ',';
    s += m.name;
  }
  return s + "\n";
}

std::string csv_row(const RunResult& r) {
  std::string s = csv_escape(r.scenario);
  s += ',';
  s += csv_escape(r.workload);
  for (const Metric& m : summarize(r)) {
    s += ',';
    s += value_text(m, true);
  }
  return s + "\n";
}

std::string format_csv(const std::vector<RunResult>& results) {
  std::string s = csv_header();
  for (const RunResult& r : results) s += csv_row(r);
  return s;
}

}  // namespace vtdsim::workload
