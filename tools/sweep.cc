// `vtdsim sweep`: the grid, the parallel runs and the command (tools/sweep.h).
#include "tools/sweep.h"

#include <fmt/format.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "tools/scenario_override.h"
#include "workload/runner.h"

namespace vtdsim::tools {

namespace {

Error bad(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

// Values of configuration `index` (first axis slowest).
std::vector<std::string> values_of(const std::vector<std::vector<std::string>>& axes,
                                   std::size_t index) {
  std::vector<std::string> v(axes.size());
  for (std::size_t a = axes.size(); a-- > 0;) {
    v[a] = axes[a][index % axes[a].size()];
    index /= axes[a].size();
  }
  return v;
}

void draw_progress(std::ostream& out, std::size_t done, std::size_t total) {
  constexpr std::size_t kWidth = 30;
  const std::size_t filled = total == 0 ? kWidth : done * kWidth / total;
  out << "\rsweep [" << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] "
      << done << "/" << total << (done == total ? "\n" : "") << std::flush;
}

Status write_file(const std::string& path, const std::string& text, std::string_view what) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) return make_error(ErrorCode::kIo, fmt::format("{} {}: cannot write", what, path));
  return {};
}

}  // namespace

Expected<Shard> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  const auto fail = [&] {
    return tl::unexpected(bad(fmt::format("--shard '{}': expected i/N with 0 <= i < N", text)));
  };
  if (slash == std::string::npos) return fail();
  auto i = parse_number(text.substr(0, slash), "--shard");
  auto n = parse_number(text.substr(slash + 1), "--shard");
  if (!i || !n || *n == 0 || *i >= *n) return fail();
  return Shard{*i, *n};
}

Expected<SweepResult> run_sweep(const SweepOptions& o, std::ostream* progress) {
  SweepResult sweep;
  std::vector<std::vector<std::string>> axes;
  for (const auto& s : o.sets) {
    auto axis = parse_axis(s);
    if (!axis) return tl::unexpected(axis.error());
    sweep.keys.push_back(axis->first);
    axes.push_back(std::move(axis->second));
  }
  Shard shard;
  if (!o.shard.empty()) {
    auto sh = parse_shard(o.shard);
    if (!sh) return tl::unexpected(sh.error());
    shard = *sh;
  }
  if (o.scenario.empty()) return tl::unexpected(bad("--scenario: required"));
  std::ifstream in(o.scenario, std::ios::binary);
  if (!in)
    return make_error(ErrorCode::kIo, fmt::format("{}: cannot open the scenario", o.scenario));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  // The base scenario first, so that its own errors carry its line numbers.
  auto base = workload::parse_scenario(text, o.scenario);
  if (!base) return tl::unexpected(base.error());
  if (!base->workload) {
    return tl::unexpected(bad(fmt::format("{}: no [workload] to sweep", o.scenario)));
  }

  sweep.total = 1;
  for (const auto& a : axes) sweep.total *= a.size();
  std::vector<std::size_t> selected;
  for (std::size_t i = 0; i < sweep.total; ++i) {
    if (i % shard.count == shard.index) selected.push_back(i);
  }
  std::vector<std::optional<Expected<workload::RunResult>>> results(selected.size());
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::mutex progress_mutex;
  const auto worker = [&] {
    while (true) {
      const std::size_t k = next.fetch_add(1);
      if (k >= selected.size()) return;
      const auto values = values_of(axes, selected[k]);
      std::vector<Override> overrides;
      for (std::size_t a = 0; a < axes.size(); ++a) overrides.push_back({sweep.keys[a], values[a]});
      Expected<workload::RunResult> r = [&]() -> Expected<workload::RunResult> {
        auto scenario = parse_scenario_with(text, o.scenario, overrides);
        if (!scenario) return tl::unexpected(scenario.error());
        auto runner = workload::Runner::create(*scenario);
        if (!runner) return tl::unexpected(runner.error());
        return (*runner)->run();
      }();
      results[k] = std::move(r);
      const std::size_t d = done.fetch_add(1) + 1;
      if (progress != nullptr) {
        const std::lock_guard lock(progress_mutex);
        draw_progress(*progress, d, selected.size());
      }
    }
  };
  unsigned jobs = o.jobs != 0 ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
  jobs =
      static_cast<unsigned>(std::min<std::size_t>(jobs, std::max<std::size_t>(1, selected.size())));
  if (progress != nullptr) draw_progress(*progress, 0, selected.size());
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();

  for (std::size_t k = 0; k < selected.size(); ++k) {
    auto& r = *results[k];
    const auto values = values_of(axes, selected[k]);
    if (!r) {
      std::string settings;
      for (std::size_t a = 0; a < axes.size(); ++a) {
        settings += (a == 0 ? "" : " ") + sweep.keys[a] + "=" + values[a];
      }
      return tl::unexpected(Error{
          r.error().code,
          fmt::format("configuration {} ({}): {}", selected[k], settings, r.error().message)});
    }
    sweep.points.push_back(SweepPoint{selected[k], values, std::move(*r)});
  }
  return sweep;
}

Expected<std::string> sweep_command(const SweepOptions& o) {
  const bool tty = isatty(fileno(stderr)) != 0;
  auto sweep = run_sweep(o, tty ? &std::cerr : nullptr);
  if (!sweep) return tl::unexpected(sweep.error());
  const std::string csv = sweep_csv(*sweep);
  if (!o.csv.empty()) {
    auto s = write_file(o.csv, csv, "--csv");
    if (!s) return tl::unexpected(s.error());
  }
  if (!o.json.empty()) {
    auto s = write_file(o.json, sweep_json(*sweep).dump(2) + "\n", "--json");
    if (!s) return tl::unexpected(s.error());
  }
  if (!o.plot.empty()) {
    auto s = plot_csv(csv, o.plot_metric, o.plot);
    if (!s) return tl::unexpected(s.error());
  }
  return o.csv.empty() && o.json.empty() ? csv : std::string();
}

void register_sweep(CLI::App& app, CommandResult& result) {
  auto o = std::make_shared<SweepOptions>();
  CLI::App* sub = app.add_subcommand(
      "sweep",
      "Run a scenario over a grid of settings (--set key=v1,v2,... per axis) in parallel and "
      "write CSV/JSON (configuration order) and an optional gnuplot SVG.");
  sub->add_option("--scenario", o->scenario, "the base scenario (TOML)");
  sub->add_option("--set", o->sets, "an axis: scenario key=v1,v2,... (repeatable)");
  sub->add_option("--jobs", o->jobs, "threads (default: hardware concurrency)");
  sub->add_option("--shard", o->shard, "run only configurations with index % N == i (i/N)");
  sub->add_option("--csv", o->csv, "write CSV here (default: stdout)");
  sub->add_option("--json", o->json, "write JSON here");
  sub->add_option("--plot", o->plot, "draw an SVG with gnuplot");
  sub->add_option("--plot-metric", o->plot_metric,
                  "metric column to plot (default iotlb.hit_rate)");
  auto inputs = std::make_shared<std::vector<std::string>>();
  auto merged = std::make_shared<SweepOptions>();
  CLI::App* merge = sub->add_subcommand(
      "merge", "Merge shard outputs (all .json or all CSV) into one, sorted by index.");
  merge->add_option("FILES", *inputs, "shard outputs")->required();
  merge->add_option("--csv", merged->csv, "write the merged CSV here (default: stdout)");
  merge->add_option("--json", merged->json, "write the merged JSON here");
  merge->add_option("--plot", merged->plot, "draw an SVG from merged CSV with gnuplot");
  merge->add_option("--plot-metric", merged->plot_metric, "metric column to plot");
  merge->callback([inputs, merged, &result] {
    result.ran = true;
    auto text = merge_outputs(*inputs);
    Status s = text ? Status{} : Status(tl::unexpected(text.error()));
    const std::string out_path = !merged->json.empty() ? merged->json : merged->csv;
    if (s && !out_path.empty()) s = write_file(out_path, *text, "merge output");
    if (s && !merged->plot.empty()) s = plot_csv(*text, merged->plot_metric, merged->plot);
    if (!s) {
      result.exit_code = report_error(std::cerr, "sweep merge", s.error());
      return;
    }
    if (out_path.empty()) std::cout << *text;
    result.exit_code = kExitOk;
  });
  sub->callback([o, merge, &result] {
    if (merge->parsed()) return;
    result.ran = true;
    auto text = sweep_command(*o);
    if (!text) {
      result.exit_code = report_error(std::cerr, "sweep", text.error());
      return;
    }
    std::cout << *text;
    result.exit_code = kExitOk;
  });
}

}  // namespace vtdsim::tools
