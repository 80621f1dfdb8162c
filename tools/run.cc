// `vtdsim run`, `replay` and `demo` (tools/run.h).
#include "tools/run.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>

#include "tools/timeline.h"
#include "workload/passthrough_demo.h"
#include "workload/report.h"
#include "workload/runner.h"

namespace vtdsim::tools {

namespace {

Expected<std::vector<Override>> parse_sets(const std::vector<std::string>& sets) {
  std::vector<Override> out;
  for (const auto& s : sets) {
    auto o = parse_override(s, "--set");
    if (!o) return tl::unexpected(o.error());
    out.push_back(std::move(*o));
  }
  return out;
}

// Runs (or replays, with a trace path) a scenario, writing the event trace and the timeline
// when asked.
Expected<workload::RunResult> execute(const workload::Scenario& scenario, const std::string& trace,
                                      const RunCommandOptions& o) {
  auto runner = workload::Runner::create(scenario);
  if (!runner) return tl::unexpected(runner.error());
  workload::RunOptions options;
  std::unique_ptr<workload::TraceWriter> writer;
  const bool temporary = o.trace_out.empty();
  const std::string events_path = temporary ? o.timeline + ".events.tmp" : o.trace_out;
  if (!o.timeline.empty() || !o.trace_out.empty()) {
    if (!trace.empty()) {
      return make_error(ErrorCode::kUnsupported,
                        "--timeline/--trace-out: replay has no event hook in workload::Runner yet");
    }
    const auto format = events_path.ends_with(".txt") ? workload::TraceFormat::kText
                                                      : workload::TraceFormat::kBinary;
    auto w = workload::TraceWriter::create(events_path, format);
    if (!w) return tl::unexpected(w.error());
    writer = std::move(*w);
    options.trace = writer.get();
  }
  auto result = trace.empty() ? (*runner)->run(options) : (*runner)->replay(trace, options);
  if (writer) {
    auto closed = writer->close();
    if (result && !closed) result = tl::unexpected(closed.error());
    if (result && !o.timeline.empty()) {
      auto written = write_timeline(events_path, o.timeline, scenario.run.clock_ghz);
      if (!written) result = tl::unexpected(written.error());
    }
    if (temporary) std::remove(events_path.c_str());
  }
  return result;
}

int finish(const Expected<std::string>& text, std::string_view command) {
  if (!text) return report_error(std::cerr, command, text.error());
  std::cout << *text;
  return kExitOk;
}

void add_report_options(CLI::App* sub, const std::shared_ptr<RunCommandOptions>& o) {
  auto* j = sub->add_flag_callback(
      "--json", [o] { o->format = ReportFormat::kJson; }, "report as JSON");
  auto* c = sub->add_flag_callback(
      "--csv", [o] { o->format = ReportFormat::kCsv; }, "report as CSV (header + one row)");
  j->excludes(c);
  sub->add_option("--timeline", o->timeline,
                  "write a Chrome trace-event JSON timeline of the run (Perfetto)");
  sub->add_option("--trace-out", o->trace_out,
                  "run/demo: write the run's DMA and host events as a trace (.txt: text, else "
                  "binary) for replay");
  sub->add_option("--set", o->sets, "override a scenario key: --set run.seed=7 (repeatable)");
}

}  // namespace

std::string format_report(const workload::RunResult& result, ReportFormat format) {
  switch (format) {
    case ReportFormat::kText:
      return workload::format_text(result);
    case ReportFormat::kJson:
      return workload::format_json(result);
    case ReportFormat::kCsv:
      return workload::format_csv({result});
  }
  return "";
}

Expected<std::string> run_command(const RunCommandOptions& o) {
  auto sets = parse_sets(o.sets);
  if (!sets) return tl::unexpected(sets.error());
  auto scenario = load_scenario_with(o.scenario, *sets);
  if (!scenario) return tl::unexpected(scenario.error());
  if (!scenario->workload) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("{}: no [workload] to run (use replay with a trace)", o.scenario));
  }
  auto result = execute(*scenario, "", o);
  if (!result) return tl::unexpected(result.error());
  return format_report(*result, o.format);
}

Expected<std::string> replay_command(const RunCommandOptions& o) {
  if (o.scenario.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--scenario: required (the machine to replay on)");
  }
  auto sets = parse_sets(o.sets);
  if (!sets) return tl::unexpected(sets.error());
  auto scenario = load_scenario_with(o.scenario, *sets);
  if (!scenario) return tl::unexpected(scenario.error());
  auto result = execute(*scenario, o.trace, o);
  if (!result) return tl::unexpected(result.error());
  return format_report(*result, o.format);
}

namespace {

Expected<std::uint64_t> demo_number(const Override& s, std::uint64_t max) {
  std::uint64_t v = 0;
  const char* end = s.value.data() + s.value.size();
  const auto [p, ec] = std::from_chars(s.value.data(), end, v);
  if (ec != std::errc{} || p != end || s.value.empty() || v > max) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("--set {}: '{}' is not a number in [0, {}]", s.key, s.value, max));
  }
  return v;
}

// The demo's knobs as `--set key=value`: packets, packet_size, queues, posted, seed.
Expected<workload::PassthroughDemoOptions> demo_options(const std::vector<Override>& sets) {
  workload::PassthroughDemoOptions d;
  for (const auto& s : sets) {
    if (s.key == "posted") {
      if (s.value != "true" && s.value != "false") {
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("--set posted: '{}' is not true or false", s.value));
      }
      d.posted = s.value == "true";
      continue;
    }
    std::uint64_t* wide = s.key == "packets" ? &d.packets : s.key == "seed" ? &d.seed : nullptr;
    if (wide != nullptr) {
      auto v = demo_number(s, UINT64_MAX);
      if (!v) return tl::unexpected(v.error());
      *wide = *v;
    } else if (s.key == "packet_size" || s.key == "queues") {
      auto v = demo_number(s, 0xFFFF);
      if (!v) return tl::unexpected(v.error());
      if (s.key == "queues") {
        d.queues = static_cast<unsigned>(*v);
      } else {
        d.packet_size = static_cast<std::uint32_t>(*v);
      }
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("--set {}: the demo has no such knob (packets, packet_size, "
                                    "queues, posted, seed)",
                                    s.key));
    }
  }
  return d;
}

}  // namespace

Expected<std::string> demo_command(const RunCommandOptions& o) {
  auto sets = parse_sets(o.sets);
  if (!sets) return tl::unexpected(sets.error());
  auto options = demo_options(*sets);
  if (!options) return tl::unexpected(options.error());
  if (o.format == ReportFormat::kCsv) {
    return make_error(ErrorCode::kUnsupported, "demo: --csv is not offered (use --json)");
  }
  auto result = workload::run_passthrough_demo(*options);
  if (!result) return tl::unexpected(result.error());
  return o.format == ReportFormat::kJson ? workload::passthrough_demo_json(*result) : result->text;
}

void register_run(CLI::App& app, CommandResult& result) {
  auto o = std::make_shared<RunCommandOptions>();
  CLI::App* sub = app.add_subcommand("run", "Run a scenario (TOML) and print its report.");
  sub->add_option("SCENARIO", o->scenario, "the scenario file")->required();
  add_report_options(sub, o);
  sub->callback([o, &result] {
    result.ran = true;
    result.exit_code = finish(run_command(*o), "run");
  });
}

void register_replay(CLI::App& app, CommandResult& result) {
  auto o = std::make_shared<RunCommandOptions>();
  CLI::App* sub = app.add_subcommand(
      "replay", "Replay a DMA trace (text or binary) against a scenario's machine.");
  sub->add_option("TRACE", o->trace, "the trace file")->required();
  sub->add_option("--scenario", o->scenario, "the scenario whose machine replays it");
  add_report_options(sub, o);
  sub->callback([o, &result] {
    result.ran = true;
    result.exit_code = finish(replay_command(*o), "replay");
  });
}

void register_demo(CLI::App& app, CommandResult& result) {
  auto o = std::make_shared<RunCommandOptions>();
  CLI::App* sub = app.add_subcommand(
      "demo",
      "A VM with a NIC passed through VFIO receiving traffic (posted interrupts); print the "
      "report.");
  sub->add_option_function<std::uint64_t>(
      "--packets", [o](std::uint64_t n) { o->sets.push_back(fmt::format("packets={}", n)); },
      "packets to inject (default 4096)");
  sub->add_flag_callback(
      "--no-posted", [o] { o->sets.emplace_back("posted=false"); },
      "no KVM-VFIO bypass: interrupts remapped to the host handler and injected via irqfd");
  sub->add_flag_callback(
      "--json", [o] { o->format = ReportFormat::kJson; }, "report as JSON");
  sub->add_option("--set", o->sets,
                  "a demo knob: packets, packet_size, queues, posted, seed (--set queues=2)");
  sub->callback([o, &result] {
    result.ran = true;
    result.exit_code = finish(demo_command(*o), "demo");
  });
}

}  // namespace vtdsim::tools
