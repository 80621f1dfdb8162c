// `vtdsim fit` (tools/fit.h): CSV parsing with file:line:column errors, the least-squares fit
// (column-pivoting QR, rank checked so that an unidentifiable parameter is an error, not a
// silent 0) and the report.
#include "tools/fit.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <Eigen/Dense>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "model/timing.h"

namespace vtdsim::tools {

namespace {

// The event columns a CSV may have, with the TimingParams default of each.
struct EventColumn {
  std::string_view name;
  double fallback;
};
std::vector<EventColumn> event_columns() {
  const model::TimingParams t{};
  return {{"iotlb_lookup", static_cast<double>(t.iotlb_lookup)},
          {"context_cache_lookup", static_cast<double>(t.context_cache_lookup)},
          {"pasid_cache_lookup", static_cast<double>(t.pasid_cache_lookup)},
          {"pwc_lookup", static_cast<double>(t.pwc_lookup)},
          {"memory_read", static_cast<double>(t.table_read())},
          {"memory_read_llc", static_cast<double>(t.memory_read_llc)},
          {"memory_read_dram", static_cast<double>(t.memory_read_dram)},
          {"memory_write", static_cast<double>(t.memory_write)},
          {"iec_lookup", static_cast<double>(t.iec_lookup)},
          {"irte_fetch", static_cast<double>(t.irte_fetch)},
          {"invalidation_descriptor", static_cast<double>(t.invalidation_descriptor)},
          {"fault_record", static_cast<double>(t.fault_record)}};
}

Error parse_error(const std::string& source, std::size_t line, std::size_t column,
                  std::string message) {
  return Error{ErrorCode::kParse, fmt::format("{}:{}:{}: {}", source, line, column, message)};
}

struct Cell {
  std::string_view text;
  std::size_t column;  // 1-based character column
};

std::vector<Cell> split(std::string_view line) {
  std::vector<Cell> cells;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    std::string_view t =
        line.substr(start, comma == std::string_view::npos ? line.npos : comma - start);
    std::size_t col = start + 1;
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) {
      t.remove_prefix(1);
      ++col;
    }
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\r'))
      t.remove_suffix(1);
    cells.push_back(Cell{t, col});
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cells;
}

}  // namespace

Expected<FitResult> fit_csv(std::string_view text, const std::string& source,
                            const FitOptions& options) {
  if (!(options.clock_ghz > 0.0)) {
    return make_error(ErrorCode::kInvalidArgument, "--clock-ghz must be positive");
  }
  const auto events = event_columns();
  FitResult result;
  int target_index = -1;
  std::vector<std::vector<double>> rows;
  std::vector<double> targets;
  std::size_t header_cells = 0;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    const auto cells = split(line);
    if (header_cells == 0) {
      for (std::size_t i = 0; i < cells.size(); ++i) {
        const Cell& c = cells[i];
        if (c.text == "latency" || c.text == "throughput") {
          if (target_index >= 0) {
            return tl::unexpected(parse_error(source, line_no, c.column,
                                              "a second target column (latency/throughput)"));
          }
          target_index = static_cast<int>(i);
          result.target = std::string(c.text);
          continue;
        }
        const auto it = std::find_if(events.begin(), events.end(),
                                     [&](const EventColumn& e) { return e.name == c.text; });
        if (it == events.end()) {
          std::string names;
          for (const auto& e : events) names += (names.empty() ? "" : ", ") + std::string(e.name);
          return tl::unexpected(parse_error(
              source, line_no, c.column,
              fmt::format("unknown column '{}' (events: {}; target: latency or throughput)", c.text,
                          names)));
        }
        if (std::find(result.parameters.begin(), result.parameters.end(), c.text) !=
            result.parameters.end()) {
          return tl::unexpected(
              parse_error(source, line_no, c.column, fmt::format("column '{}' twice", c.text)));
        }
        result.parameters.emplace_back(c.text);
        result.defaults.push_back(it->fallback);
      }
      if (target_index < 0) {
        return tl::unexpected(
            parse_error(source, line_no, 1, "no target column (latency or throughput)"));
      }
      if (result.parameters.empty() && !options.intercept) {
        return tl::unexpected(parse_error(source, line_no, 1, "no event columns"));
      }
      header_cells = cells.size();
      continue;
    }
    if (cells.size() != header_cells) {
      return tl::unexpected(
          parse_error(source, line_no, cells.back().column,
                      fmt::format("{} fields, the header has {}", cells.size(), header_cells)));
    }
    std::vector<double> row;
    double target = 0.0;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      double v = 0.0;
      const Cell& c = cells[i];
      const auto [end, ec] = std::from_chars(c.text.data(), c.text.data() + c.text.size(), v);
      if (ec != std::errc() || end != c.text.data() + c.text.size() || c.text.empty() ||
          !std::isfinite(v) || v < 0.0) {
        return tl::unexpected(parse_error(
            source, line_no, c.column, fmt::format("'{}' is not a non-negative number", c.text)));
      }
      if (static_cast<int>(i) == target_index) {
        if (result.target == "throughput") {
          if (v <= 0.0) {
            return tl::unexpected(parse_error(source, line_no, c.column, "throughput must be > 0"));
          }
          v = options.clock_ghz * 1e9 / v;  // cycles per request
        }
        target = v;
      } else {
        row.push_back(v);
      }
    }
    if (options.intercept) row.push_back(1.0);
    rows.push_back(std::move(row));
    targets.push_back(target);
    result.lines.push_back(line_no);
  }
  if (header_cells == 0) return tl::unexpected(parse_error(source, 1, 1, "empty CSV (no header)"));
  if (options.intercept) {
    result.parameters.emplace_back("fixed");
    result.defaults.push_back(0.0);
  }
  const auto n = static_cast<Eigen::Index>(result.parameters.size());
  const auto m = static_cast<Eigen::Index>(rows.size());
  if (m < n) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: {} data rows for {} parameters: need at least as many rows",
                                  source, m, n));
  }
  Eigen::MatrixXd a(m, n);
  Eigen::VectorXd b(m);
  for (Eigen::Index r = 0; r < m; ++r) {
    for (Eigen::Index c = 0; c < n; ++c) {
      a(r, c) = rows[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
    }
    b(r) = targets[static_cast<std::size_t>(r)];
  }
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(a);
  if (qr.rank() < n) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: the event columns are linearly dependent (rank {} of {}): "
                                  "vary the counts independently",
                                  source, qr.rank(), n));
  }
  const Eigen::VectorXd x = qr.solve(b);
  const Eigen::VectorXd res = b - a * x;
  for (Eigen::Index c = 0; c < n; ++c) result.values.push_back(x(c));
  double sum = 0.0;
  for (Eigen::Index r = 0; r < m; ++r) {
    const double v = res(r);
    result.residuals.push_back(v);
    sum += v * v;
    if (std::abs(v) > result.max_abs) {
      result.max_abs = std::abs(v);
      result.max_line = result.lines[static_cast<std::size_t>(r)];
    }
  }
  result.rms = std::sqrt(sum / static_cast<double>(m));
  return result;
}

std::string format_fit(const FitResult& r, const std::string& source) {
  // Values within 1e-9 of an integer print as integers; -0 prints as 0.
  const auto num = [](double v) {
    if (std::abs(v) < 5e-10) v = 0.0;
    return std::abs(v - std::round(v)) < 1e-9 ? fmt::format("{:.0f}", v) : fmt::format("{:.3f}", v);
  };
  std::string out =
      fmt::format("fit of {} parameter{} to {} rows of {} (target: {}, cycles per request)\n",
                  r.parameters.size(), r.parameters.size() == 1 ? "" : "s", r.residuals.size(),
                  source, r.target);
  out += fmt::format("  {:<24} {:>12} {:>12}\n", "parameter", "fitted", "default");
  for (std::size_t i = 0; i < r.parameters.size(); ++i) {
    out += fmt::format("  {:<24} {:>12} {:>12}\n", r.parameters[i], num(r.values[i]),
                       num(r.defaults[i]));
  }
  out +=
      fmt::format("residuals: RMS {} cycles, max |residual| {} cycles", num(r.rms), num(r.max_abs));
  out += r.max_abs > 0.0 ? fmt::format(" (line {})\n", r.max_line) : "\n";
  return out;
}

Expected<std::string> fit(const FitOptions& options) {
  std::ifstream in(options.csv, std::ios::binary);
  if (!in) {
    return make_error(ErrorCode::kIo, fmt::format("{}: cannot open the CSV file", options.csv));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto result = fit_csv(buffer.str(), options.csv, options);
  if (!result) return tl::unexpected(result.error());
  return format_fit(*result, options.csv);
}

void register_fit(CLI::App& app, CommandResult& result) {
  auto o = std::make_shared<FitOptions>();
  CLI::App* sub = app.add_subcommand(
      "fit",
      "Fit timing parameters (TimingParams, cycles) to measured latencies or throughputs by "
      "least squares. CSV header: event-count columns (iotlb_lookup, pwc_lookup, memory_read, "
      "...) and one target column, latency (cycles) or throughput (requests/s).");
  sub->add_option("CSV", o->csv, "the measurements")->required();
  sub->add_option("--clock-ghz", o->clock_ghz, "unit clock for a throughput column (default 2)");
  sub->add_flag("--intercept", o->intercept, "also fit a fixed per-request cost");
  sub->callback([o, &result] {
    result.ran = true;
    auto text = fit(*o);
    if (!text) {
      result.exit_code = report_error(std::cerr, "fit", text.error());
      return;
    }
    std::cout << *text;
    result.exit_code = kExitOk;
  });
}

}  // namespace vtdsim::tools
