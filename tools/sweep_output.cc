// Sweep outputs: CSV and JSON in configuration order, merging shard outputs, and the gnuplot
// SVG (tools/sweep.h).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "tools/sweep.h"
#include "workload/report.h"

namespace vtdsim::tools {

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Splits one CSV line (RFC 4180 quoting).
std::vector<std::string> csv_split(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

Expected<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kIo, fmt::format("{}: cannot open", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Expected<std::string> merge_json(const std::vector<std::string>& paths) {
  nlohmann::ordered_json merged;
  std::map<std::size_t, nlohmann::ordered_json> points;
  for (const auto& path : paths) {
    auto text = read_file(path);
    if (!text) return tl::unexpected(text.error());
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.contains("keys") || !j.contains("points") || !j.contains("total")) {
      return make_error(ErrorCode::kParse, fmt::format("{}: not a sweep JSON output", path));
    }
    if (merged.is_null()) {
      merged["keys"] = j["keys"];
      merged["total"] = j["total"];
    } else if (merged["keys"] != j["keys"] || merged["total"] != j["total"]) {
      return make_error(ErrorCode::kParse,
                        fmt::format("{}: keys/total differ from {}", path, paths.front()));
    }
    for (const auto& p : j["points"]) {
      const auto index = p.value("index", std::size_t{0});
      if (!points.emplace(index, p).second) {
        return make_error(ErrorCode::kParse,
                          fmt::format("{}: configuration {} appears twice", path, index));
      }
    }
  }
  merged["points"] = nlohmann::ordered_json::array();
  for (auto& [index, p] : points) merged["points"].push_back(std::move(p));
  return merged.dump(2) + "\n";
}

std::string find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const auto colon = dirs.find(':', start);
    const std::string dir =
        dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

std::string gp_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string sweep_csv(const SweepResult& sweep) {
  std::string out = "index";
  // Appended piecewise (GCC 12 reports a false -Wrestrict on "," + std::string at -O3).
  for (const auto& k : sweep.keys) {
    out += ',';
    out += csv_field(k);
  }
  out += ',';
  out += workload::csv_header();
  for (const auto& p : sweep.points) {
    out += fmt::format("{}", p.index);
    for (const auto& v : p.values) {
      out += ',';
      out += csv_field(v);
    }
    out += ',';
    out += workload::csv_row(p.result);
  }
  return out;
}

nlohmann::ordered_json sweep_json(const SweepResult& sweep) {
  nlohmann::ordered_json j;
  j["keys"] = sweep.keys;
  j["total"] = sweep.total;
  j["points"] = nlohmann::ordered_json::array();
  for (const auto& p : sweep.points) {
    nlohmann::ordered_json point;
    point["index"] = p.index;
    nlohmann::ordered_json settings = nlohmann::ordered_json::object();
    for (std::size_t k = 0; k < sweep.keys.size(); ++k) settings[sweep.keys[k]] = p.values[k];
    point["settings"] = std::move(settings);
    point["result"] = workload::to_json(p.result);
    j["points"].push_back(std::move(point));
  }
  return j;
}

Expected<std::string> merge_outputs(const std::vector<std::string>& paths) {
  if (paths.empty()) return make_error(ErrorCode::kInvalidArgument, "merge: no input files");
  const auto is_json = [](const std::string& p) { return p.ends_with(".json"); };
  const bool json = is_json(paths.front());
  for (const auto& p : paths) {
    if (is_json(p) != json) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: mixes JSON and CSV inputs ({})", p, paths.front()));
    }
  }
  if (json) return merge_json(paths);
  std::string header;
  std::map<std::size_t, std::string> rows;
  for (const auto& path : paths) {
    auto text = read_file(path);
    if (!text) return tl::unexpected(text.error());
    const auto lines = lines_of(*text);
    if (lines.empty() || !lines[0].starts_with("index,")) {
      return make_error(ErrorCode::kParse, fmt::format("{}:1: not a sweep CSV output", path));
    }
    if (header.empty()) {
      header = lines[0];
    } else if (lines[0] != header) {
      return make_error(ErrorCode::kParse,
                        fmt::format("{}:1: header differs from {}", path, paths.front()));
    }
    for (std::size_t i = 1; i < lines.size(); ++i) {
      if (lines[i].empty()) continue;
      const auto fields = csv_split(lines[i]);
      char* end = nullptr;
      const unsigned long long index = std::strtoull(fields[0].c_str(), &end, 10);
      if (fields[0].empty() || end == nullptr || *end != '\0') {
        return make_error(ErrorCode::kParse, fmt::format("{}:{}: '{}' is not a configuration index",
                                                         path, i + 1, fields[0]));
      }
      if (!rows.emplace(index, lines[i]).second) {
        return make_error(ErrorCode::kParse,
                          fmt::format("{}:{}: configuration {} appears twice", path, i + 1, index));
      }
    }
  }
  std::string out = header + "\n";
  for (const auto& [index, row] : rows) out += row + "\n";
  return out;
}

Status plot_csv(const std::string& csv, const std::string& metric, const std::string& svg_path) {
  const auto lines = lines_of(csv);
  if (lines.empty() || !lines[0].starts_with("index,")) {
    return make_error(ErrorCode::kInvalidArgument, "--plot: needs sweep CSV data");
  }
  const auto header = csv_split(lines[0]);
  const auto scenario_col = std::find(header.begin(), header.end(), "scenario");
  const auto keys = static_cast<std::size_t>(scenario_col - header.begin()) - 1;
  const auto metric_col = std::find(header.begin(), header.end(), metric);
  if (keys == 0 || scenario_col == header.end()) {
    return make_error(ErrorCode::kInvalidArgument, "--plot: the sweep has no --set axis");
  }
  if (metric_col == header.end() || metric_col < scenario_col) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("--plot-metric '{}': no such column", metric));
  }
  const auto m = static_cast<std::size_t>(metric_col - header.begin());
  const std::string gnuplot = find_in_path("gnuplot");
  if (gnuplot.empty()) {
    return make_error(ErrorCode::kUnsupported,
                      "--plot: gnuplot not found in PATH (install gnuplot-nox)");
  }
  // One series per combination of the keys after the first.
  std::map<std::string, std::string> series;
  std::vector<std::string> order;
  bool numeric = true;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const auto f = csv_split(lines[i]);
    char* end = nullptr;
    std::strtod(f.size() > 1 ? f[1].c_str() : "", &end);
    numeric = numeric && f.size() > 1 && !f[1].empty() && *end == '\0';
  }
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const auto f = csv_split(lines[i]);
    if (f.size() != header.size()) {
      return make_error(ErrorCode::kParse,
                        fmt::format("--plot: CSV line {} has {} fields", i + 1, f.size()));
    }
    std::string name;
    for (std::size_t k = 2; k <= keys; ++k)
      name += (name.empty() ? "" : " ") + header[k] + "=" + f[k];
    if (series.find(name) == series.end()) order.push_back(name);
    const std::string x = numeric ? f[1] : "\"" + f[1] + "\"";
    series[name] += fmt::format("{} {}\n", x, f[m].empty() ? "NaN" : f[m]);
  }
  std::string script = "set terminal svg size 800,500 dynamic background '#ffffff'\n";
  script += "set output " + gp_quote(svg_path) + "\n";
  script += "set title " + gp_quote(metric + " against " + header[1]) + " noenhanced\n";
  script += "set xlabel " + gp_quote(header[1]) + " noenhanced\n";
  script += "set ylabel " + gp_quote(metric) + " noenhanced\n";
  script += "set grid\nset key outside right noenhanced\n";
  std::string plot = "plot ";
  for (std::size_t s = 0; s < order.size(); ++s) {
    const std::string using_clause = numeric ? "using 1:2" : "using 0:2:xticlabels(1)";
    plot += fmt::format("{}'-' {} with linespoints title {}", s == 0 ? "" : ", ", using_clause,
                        gp_quote(order[s].empty() ? metric : order[s]));
  }
  script += plot + "\n";
  for (const auto& name : order) script += series[name] + "e\n";
  FILE* pipe = popen(gnuplot.c_str(), "w");
  if (pipe == nullptr) return make_error(ErrorCode::kIo, "--plot: cannot start gnuplot");
  std::fwrite(script.data(), 1, script.size(), pipe);
  const int status = pclose(pipe);
  if (status != 0) {
    return make_error(ErrorCode::kIo, fmt::format("--plot: gnuplot failed (status {})", status));
  }
  return {};
}

}  // namespace vtdsim::tools
