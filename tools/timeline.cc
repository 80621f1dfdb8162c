// Chrome trace-event export (tools/timeline.h).
#include "tools/timeline.h"

#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "workload/trace.h"

namespace vtdsim::tools {

namespace {

const char* kind_name(const workload::TraceRecord& r) {
  switch (r.kind) {
    case workload::TraceKind::kDma:
      return r.access == model::AccessType::kWrite ? "dma write" : "dma read";
    case workload::TraceKind::kMap:
      return "map";
    case workload::TraceKind::kUnmap:
      return "unmap";
    case workload::TraceKind::kInvalidate:
      return "invalidate";
  }
  return "?";
}

}  // namespace

Status write_timeline(const std::string& events_path, const std::string& out_path,
                      double clock_ghz) {
  auto reader = workload::TraceReader::open(events_path);
  if (!reader) return tl::unexpected(reader.error());
  std::ofstream out(out_path, std::ios::binary);
  if (!out)
    return make_error(ErrorCode::kIo, fmt::format("--timeline {}: cannot create", out_path));
  // Written event by event: a run has hundreds of thousands of them.
  out << "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  out << R"({"name":"process_name","ph":"M","pid":1,"args":{"name":"vtdsim"}})";
  out << ",\n"
      << R"({"name":"thread_name","ph":"M","pid":1,"tid":0,"args":{"name":"host"}})";
  std::set<std::uint16_t> devices;
  workload::TraceRecord r;
  while (true) {
    auto more = (*reader)->next(r);
    if (!more) return tl::unexpected(more.error());
    if (!*more) break;
    const bool dma = r.kind == workload::TraceKind::kDma;
    const unsigned tid = dma ? 1u + r.source_id.raw : 0u;
    if (dma && devices.insert(r.source_id.raw).second) {
      out << ",\n"
          << nlohmann::json{{"name", "thread_name"},
                            {"ph", "M"},
                            {"pid", 1},
                            {"tid", tid},
                            {"args", {{"name", "device " + model::to_string(r.source_id)}}}}
                 .dump();
    }
    nlohmann::ordered_json e;
    e["name"] = kind_name(r);
    e["cat"] = dma ? "dma" : "host";
    e["ph"] = "i";
    e["s"] = "t";
    e["pid"] = 1;
    e["tid"] = tid;
    e["ts"] = static_cast<double>(r.time) / (clock_ghz * 1000.0);
    e["args"] = {{"sid", model::to_string(r.source_id)},
                 {"iova", fmt::format("{:#x}", r.address)},
                 {"size", r.size}};
    if (r.kind == workload::TraceKind::kMap) e["args"]["hpa"] = fmt::format("{:#x}", r.hpa);
    if (r.has_pasid) e["args"]["pasid"] = r.pasid;
    out << ",\n" << e.dump();
  }
  out << "\n]}\n";
  if (!out) return make_error(ErrorCode::kIo, fmt::format("--timeline {}: write failed", out_path));
  return {};
}

}  // namespace vtdsim::tools
