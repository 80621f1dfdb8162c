// The run engine: builds the machine and host stack of a scenario, then runs its generator or
// replays a trace through the same request path, with warm-up exclusion (model::stats_delta
// over every layer's counters) and a timing model of request arrivals:
//   arrival(i) = max(arrival(i-1), rate gate, completion(i - outstanding))
// where the rate gate spaces requests by their bytes at [run] offered_gbps (none when 0) and
// the window keeps at most `outstanding` requests in flight (the device stalls on the oldest).
// Replay with [run] arrival = "trace" takes arrival cycles from the trace instead (made
// non-decreasing). Host events of a replay go through the VT-d driver (map → map, unmap →
// unmap keeping the emptied tables, inval → flush_range with IH = 0 when tables are pending,
// then the tables are freed), DMA records through the unit's translate().
// MODEL: translation requests are issued in program order; a DMA's data transfer takes no
// time after its translation completes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "model/error.h"
#include "workload/host_stack.h"
#include "workload/run_stats.h"
#include "workload/scenario.h"
#include "workload/trace.h"

namespace vtdsim::workload {

struct RunOptions {
  // Every event of run() (set-up maps included) is written here; replay() ignores it.
  TraceWriter* trace = nullptr;
  // Called every 2^16 requests and at the end with (requests done, requests planned).
  std::function<void(std::uint64_t, std::uint64_t)> progress;
};

class Runner {
 public:
  static Expected<std::unique_ptr<Runner>> create(const Scenario& scenario);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  HostStack& stack() { return *stack_; }
  const Scenario& scenario() const { return scenario_; }

  // Runs the scenario's workload for warmup + records DMA requests. kInvalidArgument when the
  // scenario has no [workload].
  Expected<RunResult> run(const RunOptions& options = {});
  // Replays a trace (text or binary) until warmup + records DMA requests or the trace ends.
  // Errors name the trace file and record.
  Expected<RunResult> replay(const std::string& trace_path, const RunOptions& options = {});

 private:
  Runner(const Scenario& scenario, std::unique_ptr<HostStack> stack);
  class Engine;

  Scenario scenario_;
  std::unique_ptr<HostStack> stack_;
  bool used_ = false;
};

}  // namespace vtdsim::workload
