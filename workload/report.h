// Reports of a run: the derived metrics (hit rates, misses per 4 KiB and per MiB of data,
// page-walk reads per 4 KiB, latency mean/p50/p99, walker occupancy, throughput, interrupts,
// faults by reason, invalidations by granularity) as a text table, JSON and CSV, plus the raw
// counters of every layer in JSON. Output depends only on the RunResult: the same seed gives
// byte-identical reports.
//
// Definitions: rates are hits / lookups (0 when nothing was looked up); "per 4 KiB" and "per
// MiB" divide by the measured DMA bytes; elapsed = last completion - first arrival (cycles);
// walker occupancy = walker busy cycles / (walkers × elapsed); achieved Gbit/s = bytes × 8 ×
// clock_ghz / elapsed; walker-bound Gbit/s = the rate at which the walkers would be busy all
// the time (bytes × 8 × clock_ghz × walkers / busy cycles; unbounded without walks).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workload/run_stats.h"

namespace vtdsim::workload {

struct Metric {
  std::string name;
  std::optional<double> value;  // nullopt: not bounded / not applicable
  bool integer = false;         // print without decimals
  std::string unit;
  std::string description;
};

std::vector<Metric> summarize(const RunResult& result);

std::string format_text(const RunResult& result);
// {"scenario", "workload", "metrics": {...}, "counters": {"dma_remap": {...}, ...}}
nlohmann::ordered_json to_json(const RunResult& result);
std::string format_json(const RunResult& result);  // to_json().dump(2) + "\n"
// One header line and one row per result; the columns are the same for every result.
std::string csv_header();
std::string csv_row(const RunResult& result);
std::string format_csv(const std::vector<RunResult>& results);

}  // namespace vtdsim::workload
