// `vtdsim sweep`: a grid of scenario variants (cache geometries, policies, workload knobs, any
// scenario key) given as --set key=v1,v2,..., run in parallel on --jobs threads (one machine
// per thread), written as CSV and JSON in configuration order whatever the thread timing;
// `--shard i/N` runs only the configurations with index % N == i, and `vtdsim sweep merge`
// combines shard outputs; `--plot out.svg` draws a metric against the first swept key with
// gnuplot.
// Configuration index: the first --set varies slowest (row-major over the axes as given).
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/error.h"
#include "tools/cli_util.h"
#include "workload/run_stats.h"

namespace vtdsim::tools {

struct SweepOptions {
  std::string scenario;
  std::vector<std::string> sets;  // key=v1,v2,...
  unsigned jobs = 0;              // 0: std::thread::hardware_concurrency()
  std::string shard;              // "i/N"; empty: all
  std::string csv;                // output paths; both empty: CSV on stdout
  std::string json;
  std::string plot;  // SVG path; empty: no plot
  std::string plot_metric = "iotlb.hit_rate";
};

struct SweepPoint {
  std::size_t index = 0;
  std::vector<std::string> values;  // one per key
  workload::RunResult result;
};

struct SweepResult {
  std::vector<std::string> keys;
  std::size_t total = 0;  // configurations in the whole grid
  std::vector<SweepPoint> points;
};

struct Shard {
  std::size_t index = 0;
  std::size_t count = 1;
};
Expected<Shard> parse_shard(const std::string& text);

// Runs the (shard of the) grid; `progress` (may be null) gets a progress bar.
Expected<SweepResult> run_sweep(const SweepOptions& options, std::ostream* progress);

// Outputs (sweep_output.cc). CSV: "index,<keys...>," + workload::csv_header() columns.
std::string sweep_csv(const SweepResult& sweep);
nlohmann::ordered_json sweep_json(const SweepResult& sweep);

// Merges shard outputs (all CSV or all JSON, by extension); rows sorted by index; duplicate
// indices or differing headers/keys are errors naming the file and line.
Expected<std::string> merge_outputs(const std::vector<std::string>& paths);

// Plots metric against the first key column of a sweep CSV text (one line per combination of
// the other keys) as SVG through gnuplot. kUnsupported when gnuplot is not installed.
Status plot_csv(const std::string& csv, const std::string& metric, const std::string& svg_path);

// The sweep (or merge) command as a whole: writes the outputs, returns what goes to stdout.
Expected<std::string> sweep_command(const SweepOptions& options);

void register_sweep(CLI::App& app, CommandResult& result);

}  // namespace vtdsim::tools
