#include "workload/runner.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace vtdsim::workload {

Counters Counters::collect(HostStack& stack) {
  Counters c;
  platform::Machine& m = stack.machine();
  for (std::size_t i = 0; i < m.unit_count(); ++i) {
    iommu::RemappingUnit& u = m.unit(i);
    add_stats(c.remap, u.dma_remapper().stats());
    add_stats(c.unit, u.stats());
    add_stats(c.ir, u.interrupt_remapper().stats());
  }
  for (std::size_t i = 0; i < stack.unit_count(); ++i) {
    add_stats(c.invalidation, stack.driver(i).invalidator().stats());
  }
  for (const auto& d : stack.devices()) {
    const host::FlushQueueStats& fq = d->api->flush_queue().stats();
    const std::uint64_t max_occ = std::max(c.flush_queue.max_occupancy, fq.max_occupancy);
    add_stats(c.flush_queue, fq);
    c.flush_queue.max_occupancy = max_occ;
    add_stats(c.dma_api, d->api->stats());
    add_stats(c.iova, d->api->iovas().total_cpu_stats());
  }
  return c;
}

Counters Counters::delta(const Counters& later, const Counters& earlier) {
  Counters c;
  c.remap = model::stats_delta(later.remap, earlier.remap);
  c.unit = model::stats_delta(later.unit, earlier.unit);
  c.ir = model::stats_delta(later.ir, earlier.ir);
  c.invalidation = model::stats_delta(later.invalidation, earlier.invalidation);
  c.flush_queue = model::stats_delta(later.flush_queue, earlier.flush_queue);
  c.flush_queue.max_occupancy = later.flush_queue.max_occupancy;
  c.dma_api = model::stats_delta(later.dma_api, earlier.dma_api);
  c.iova = model::stats_delta(later.iova, earlier.iova);
  return c;
}

// The EventSink of a run: arrival timing, translation, measurement windows, trace output.
class Runner::Engine final : public EventSink {
 public:
  Engine(HostStack& stack, const RunConfig& run, const RunOptions& options)
      : stack_(&stack),
        run_(run),
        options_(options),
        planned_(run.warmup + run.records),
        window_(run.outstanding, 0),
        translators_(65536, nullptr) {
    bytes_per_cycle_ = run.offered_gbps > 0 ? run.offered_gbps / 8.0 / run.clock_ghz : 0.0;
    if (run.warmup == 0) begin_measurement();
  }

  bool finished() const { return finished_; }
  model::Cycle now() const override { return arrival_; }

  void dma(model::SourceId sid, std::uint64_t address, std::uint32_t size,
           model::AccessType access) override {
    if (finished_) return;
    if (options_.trace != nullptr) {
      TraceRecord r;
      r.kind = TraceKind::kDma;
      r.time = next_arrival(size);
      r.source_id = sid;
      r.address = address;
      r.size = size;
      r.access = access;
      write(r);
    }
    model::DmaRequest req;
    req.source_id = sid;
    req.address = address;
    req.size = size;
    req.access = access;
    issue(req, next_arrival(size));
  }

  // A request with an explicit arrival (trace time) or the model's.
  void issue(model::DmaRequest& req, model::Cycle arrival) {
    req.arrival = arrival;
    arrival_ = arrival;
    if (bytes_per_cycle_ > 0) {
      rate_clock_ = std::max(rate_clock_, static_cast<double>(arrival)) +
                    static_cast<double>(req.size) / bytes_per_cycle_;
    }
    model::DmaTranslator* t = translators_[req.source_id.raw];
    if (t == nullptr) t = resolve(req.source_id);
    const model::Translation tr = t->translate(req);
    window_[slot_] = tr.completion;
    if (++slot_ == window_.size()) slot_ = 0;
    ++issued_;
    if (measuring_) {
      ++result_.events.dma;
      result_.events.dma_bytes += req.size;
      if (!tr.ok()) ++result_.events.dma_faults;
      result_.latency.add(tr.latency);
      if (tr.completion > result_.last_completion) result_.last_completion = tr.completion;
    }
    if (issued_ == run_.warmup && !measuring_) begin_measurement();
    if (issued_ >= planned_) end_measurement();
    if (options_.progress && (issued_ & 0xFFFF) == 0) options_.progress(issued_, planned_);
  }

  // The model's arrival for the next request of `size` bytes (also its trace time).
  model::Cycle next_arrival(std::uint32_t /*size*/) const {
    model::Cycle a = std::max(arrival_, window_[slot_]);
    if (bytes_per_cycle_ > 0) a = std::max(a, static_cast<model::Cycle>(rate_clock_));
    return a;
  }

  void host_event(const TraceRecord& r) override {
    if (finished_) return;
    write(r);
    count_host(r.kind);
  }
  void count_host(TraceKind k) {
    if (!measuring_) return;
    switch (k) {
      case TraceKind::kMap:
        ++result_.events.maps;
        break;
      case TraceKind::kUnmap:
        ++result_.events.unmaps;
        break;
      case TraceKind::kInvalidate:
        ++result_.events.invalidations;
        break;
      case TraceKind::kDma:
        break;
    }
  }

  Status trace_status() const { return trace_error_; }

  RunResult finish(const std::string& scenario, const std::string& workload) {
    if (!finished_) end_measurement();
    result_.scenario = scenario;
    result_.workload = workload;
    result_.warmup = run_.warmup;
    result_.clock_ghz = run_.clock_ghz;
    result_.offered_gbps = run_.offered_gbps;
    for (std::size_t i = 0; i < stack_->machine().unit_count(); ++i) {
      result_.page_walkers += stack_->machine().unit(i).config().timing.page_walkers;
    }
    if (options_.progress) options_.progress(std::min(issued_, planned_), planned_);
    return result_;
  }

 private:
  model::DmaTranslator* resolve(model::SourceId sid) {
    model::DmaTranslator* t = stack_->machine().unit_for(sid);
    if (t == nullptr) t = &stack_->machine();  // no unit: the machine passes it through
    translators_[sid.raw] = t;
    return t;
  }
  void begin_measurement() {
    measuring_ = true;
    start_ = Counters::collect(*stack_);
    result_.first_arrival = next_arrival(0);
    result_.last_completion = result_.first_arrival;
  }
  void end_measurement() {
    if (finished_) return;
    if (!measuring_) begin_measurement();
    result_.counters = Counters::delta(Counters::collect(*stack_), start_);
    finished_ = true;
  }
  void write(const TraceRecord& r) {
    if (options_.trace == nullptr || !trace_error_) return;
    trace_error_ = options_.trace->write(r);
  }

  HostStack* stack_;
  RunConfig run_;
  RunOptions options_;
  std::uint64_t planned_;
  std::vector<model::Cycle> window_;  // completions of the last `outstanding` requests
  std::size_t slot_ = 0;
  std::vector<model::DmaTranslator*> translators_;  // by source-id
  double bytes_per_cycle_ = 0;
  double rate_clock_ = 0;
  model::Cycle arrival_ = 0;
  std::uint64_t issued_ = 0;
  bool measuring_ = false;
  bool finished_ = false;
  Counters start_;
  RunResult result_;
  Status trace_error_;
};

Runner::Runner(const Scenario& scenario, std::unique_ptr<HostStack> stack)
    : scenario_(scenario), stack_(std::move(stack)) {}
Runner::~Runner() = default;

Expected<std::unique_ptr<Runner>> Runner::create(const Scenario& scenario) {
  auto stack = HostStack::create(scenario.machine, scenario.host);
  if (!stack) {
    return make_error(stack.error().code,
                      fmt::format("{}: {}", scenario.source, stack.error().message));
  }
  return std::unique_ptr<Runner>(new Runner(scenario, std::move(*stack)));
}

Expected<RunResult> Runner::run(const RunOptions& options) {
  if (!scenario_.workload) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: no [workload] to run", scenario_.source));
  }
  if (used_) return make_error(ErrorCode::kBusy, "Runner: a runner runs once");
  used_ = true;
  auto gen = make_generator(*scenario_.workload, *stack_, scenario_.run.seed);
  if (!gen) {
    return make_error(gen.error().code,
                      fmt::format("{}: {}", scenario_.source, gen.error().message));
  }
  Engine engine(*stack_, scenario_.run, options);
  auto fail = [&](const Error& e) {
    return make_error(e.code, fmt::format("{}: workload: {}", scenario_.source, e.message));
  };
  if (auto ok = (*gen)->start(engine); !ok) return fail(ok.error());
  while (!engine.finished()) {
    if (auto ok = (*gen)->step(engine); !ok) return fail(ok.error());
  }
  if (auto ok = engine.trace_status(); !ok) return tl::unexpected(ok.error());
  return engine.finish(scenario_.name, (*gen)->describe());
}

Expected<RunResult> Runner::replay(const std::string& path, const RunOptions& options) {
  if (used_) return make_error(ErrorCode::kBusy, "Runner: a runner runs once");
  used_ = true;
  auto reader = TraceReader::open(path);
  if (!reader) return tl::unexpected(reader.error());
  RunOptions opts = options;
  opts.trace = nullptr;
  Engine engine(*stack_, scenario_.run, opts);
  const bool trace_time = scenario_.run.trace_time;
  // Page-table pages emptied by unmaps, freed at the domain's next invalidation.
  std::vector<std::vector<std::uint64_t>> pending;
  std::vector<DeviceDma*> devices(65536, nullptr);
  std::vector<TraceRecord> batch;
  batch.reserve(4096);
  std::uint64_t index = 0;
  auto fail = [&](std::uint64_t i, std::string_view what, const Error& e) {
    return make_error(e.code, fmt::format("{}: record {}: {}: {}", path, i, what, e.message));
  };
  model::DmaRequest req;
  while (!engine.finished()) {
    auto n = (*reader)->next_batch(batch, 4096);
    if (!n) return tl::unexpected(n.error());
    if (*n == 0) break;
    for (std::size_t k = 0; k < *n && !engine.finished(); ++k, ++index) {
      const TraceRecord& r = batch[k];
      if (r.kind == TraceKind::kDma) [[likely]] {
        req.source_id = r.source_id;
        req.address = r.address;
        req.size = static_cast<std::uint32_t>(std::min<std::uint64_t>(r.size, 4096));
        req.access = r.access;
        req.has_pasid = r.has_pasid;
        req.pasid = r.pasid;
        req.privileged = r.privileged;
        req.execute = r.execute;
        const model::Cycle a =
            trace_time ? std::max(engine.now(), r.time) : engine.next_arrival(req.size);
        engine.issue(req, a);
        continue;
      }
      DeviceDma* dev = devices[r.source_id.raw];
      if (dev == nullptr) {
        auto d = stack_->device(r.source_id);
        if (!d) return fail(index, "device", d.error());
        dev = devices[r.source_id.raw] = *d;
        pending.resize(std::max<std::size_t>(pending.size(), stack_->devices().size()));
      }
      const std::size_t di =
          static_cast<std::size_t>(std::find_if(stack_->devices().begin(), stack_->devices().end(),
                                                [dev](const auto& p) { return p.get() == dev; }) -
                                   stack_->devices().begin());
      auto& tables = pending[di];
      switch (r.kind) {
        case TraceKind::kMap:
          if (auto ok = dev->driver->map(dev->did, r.address, r.hpa, r.size, r.permissions); !ok) {
            return fail(index, "map", ok.error());
          }
          break;
        case TraceKind::kUnmap:
          if (auto ok = dev->driver->unmap(dev->did, r.address, r.size, tables); !ok) {
            return fail(index, "unmap", ok.error());
          }
          break;
        case TraceKind::kInvalidate:
          if (auto ok = dev->driver->flush_range(dev->did, r.address, r.size, !tables.empty());
              !ok) {
            return fail(index, "inval", ok.error());
          }
          if (auto ok = dev->driver->free_tables(tables); !ok)
            return fail(index, "inval", ok.error());
          tables.clear();
          break;
        case TraceKind::kDma:
          break;
      }
      engine.count_host(r.kind);
    }
  }
  return engine.finish(scenario_.name, fmt::format("replay {}", path));
}

}  // namespace vtdsim::workload
