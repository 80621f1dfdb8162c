// `vtdsim fit`: fits timing parameters (model::TimingParams) to measured per-request latencies
// or throughputs by linear least squares (Eigen): latency = sum over events of count x cost.
// Input is a CSV whose header names the event columns (TimingParams fields, e.g. iotlb_lookup,
// pwc_lookup, memory_read) and one target column: `latency` (cycles per request) or
// `throughput` (requests per second, turned into cycles per request with --clock-ghz).
// MODEL: costs add up per request (no overlap between the events of one request).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"
#include "tools/cli_util.h"

namespace vtdsim::tools {

struct FitOptions {
  std::string csv;
  double clock_ghz = 2.0;  // for a throughput column
  bool intercept = false;  // add a constant per-request cost ("fixed")
};

struct FitResult {
  std::vector<std::string> parameters;  // column names (+ "fixed" with intercept)
  std::vector<double> values;           // fitted cost of each, cycles
  std::vector<double> defaults;         // TimingParams defaults (0 for "fixed")
  std::vector<double> residuals;        // measured - fitted, per row, cycles
  std::vector<std::size_t> lines;       // file line of each row
  std::string target;                   // "latency" or "throughput"
  double rms = 0.0;
  double max_abs = 0.0;
  std::size_t max_line = 0;  // line of the largest residual
};

// Parses and fits CSV text; errors name "source:line:column".
Expected<FitResult> fit_csv(std::string_view text, const std::string& source,
                            const FitOptions& options);
std::string format_fit(const FitResult& result, const std::string& source);
// Reads options.csv, fits and formats.
Expected<std::string> fit(const FitOptions& options);

void register_fit(CLI::App& app, CommandResult& result);

}  // namespace vtdsim::tools
