// `vtdsim run SCENARIO.toml`, `vtdsim replay TRACE --scenario S` and `vtdsim demo` (a VM
// with a NIC passed through VFIO receiving traffic, workload/passthrough_demo.h): a
// workload::Runner over a scenario, its report as a text table, JSON or CSV (workload/report.h),
// and optionally a timeline of the run in Chrome trace-event JSON (viewable in Perfetto). Same
// seed, same output, byte for byte. Not modelled: the timeline holds the events the runner exposes
// (DMA requests and the host's map/unmap/invalidate events with their cycle times); page walks and
// interrupts need a per-request event hook in workload::Runner.
#pragma once

#include <string>
#include <vector>

#include "model/error.h"
#include "tools/cli_util.h"
#include "tools/scenario_override.h"
#include "workload/run_stats.h"

namespace vtdsim::tools {

enum class ReportFormat { kText, kJson, kCsv };

struct RunCommandOptions {
  std::string scenario;  // run: the file; replay: --scenario
  std::string trace;     // replay: the trace
  ReportFormat format = ReportFormat::kText;
  std::string timeline;           // Chrome trace-event JSON output path; empty: none
  std::string trace_out;          // run/demo: write the events as a trace (.txt: text, else binary)
  std::vector<std::string> sets;  // --set key=value
};

// The report text of a run / replay / the demo.
Expected<std::string> run_command(const RunCommandOptions& options);
Expected<std::string> replay_command(const RunCommandOptions& options);
Expected<std::string> demo_command(const RunCommandOptions& options);

std::string format_report(const workload::RunResult& result, ReportFormat format);

void register_run(CLI::App& app, CommandResult& result);
void register_replay(CLI::App& app, CommandResult& result);
void register_demo(CLI::App& app, CommandResult& result);

}  // namespace vtdsim::tools
