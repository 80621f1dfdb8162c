// Fuzz target: arbitrary bytes to the DMA trace readers (workload/trace.h): every line through
// parse_trace_line, and the whole input as a file through TraceReader (text or binary, by the
// magic), record by record and in batches.
// Invariants: each call gives a value or an Error whose message is non-empty and names where
// (the `where` string or the file path); a parsed line formats back to a line that parses to
// the same record; reading one by one and in batches agrees; records read back from files
// written by TraceWriter (text and binary) equal what was written.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/fuzz_input.h"
#include "workload/trace.h"

namespace {

using namespace vtdsim;
using workload::TraceRecord;

constexpr std::size_t kMaxRecords = 4096;

const std::string& temp_path(const char* suffix) {
  // /dev/shm when present: file round trips dominate this target's cost.
  static const std::string dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  static const std::string base = dir + "/vtdsim_fuzz_trace_" + std::to_string(::getpid());
  static std::string paths[3];
  const int i = suffix[0] == 'i' ? 0 : suffix[0] == 't' ? 1 : 2;
  if (paths[i].empty()) paths[i] = base + "." + suffix;
  return paths[i];
}

void check_error(const Error& e, std::string_view where) {
  FUZZ_CHECK(!e.message.empty(), "empty error message");
  FUZZ_CHECK(e.message.find(where) != std::string::npos, "error \"%s\" does not name \"%.*s\"",
             e.message.c_str(), static_cast<int>(where.size()), where.data());
}

struct ReadAll {
  std::vector<TraceRecord> records;
  bool error = false;
};

ReadAll read_one_by_one(const std::string& path) {
  ReadAll out;
  auto reader = workload::TraceReader::open(path);
  FUZZ_CHECK(reader.has_value(), "cannot open the file just written");
  TraceRecord r;
  while (out.records.size() < kMaxRecords) {
    auto got = (*reader)->next(r);
    if (!got) {
      check_error(got.error(), path);
      out.error = true;
      break;
    }
    if (!*got) break;
    out.records.push_back(r);
  }
  return out;
}

ReadAll read_batches(const std::string& path) {
  ReadAll out;
  auto reader = workload::TraceReader::open(path);
  FUZZ_CHECK(reader.has_value(), "cannot open the file just written");
  std::vector<TraceRecord> batch;
  while (out.records.size() < kMaxRecords) {
    auto got = (*reader)->next_batch(batch, 7);
    if (!got) {
      check_error(got.error(), path);
      out.error = true;
      break;
    }
    FUZZ_CHECK(*got == batch.size(), "next_batch returned %zu but holds %zu", *got, batch.size());
    if (*got == 0) break;
    out.records.insert(out.records.end(), batch.begin(), batch.end());
  }
  return out;
}

void write_and_read_back(const std::vector<TraceRecord>& records, workload::TraceFormat format) {
  const std::string& path = temp_path(format == workload::TraceFormat::kText ? "txt" : "bin");
  const Status w = workload::write_trace(path, format, records);
  FUZZ_CHECK(w.has_value(), "write_trace failed: %s", w ? "" : w.error().message.c_str());
  auto back = workload::read_trace(path);
  FUZZ_CHECK(back.has_value(), "reading back a written %s trace failed: %s",
             format == workload::TraceFormat::kText ? "text" : "binary",
             back ? "" : back.error().message.c_str());
  FUZZ_CHECK(*back == records, "%s trace read back differs (%zu vs %zu records)",
             format == workload::TraceFormat::kText ? "text" : "binary", back->size(),
             records.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // Line by line.
  std::vector<TraceRecord> parsed;
  std::size_t line_no = 0;
  for (std::size_t pos = 0; pos <= text.size() && line_no < kMaxRecords; ++line_no) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    const std::string where = "fuzz:" + std::to_string(line_no + 1);
    TraceRecord r;
    auto got = workload::parse_trace_line(line, where, r);
    if (!got) {
      check_error(got.error(), where);
      continue;
    }
    if (!*got) continue;
    FUZZ_NOTE("parsed line round-trips");
    const std::string formatted = workload::format_trace_line(r);
    TraceRecord again;
    auto re = workload::parse_trace_line(formatted, "formatted", again);
    FUZZ_CHECK(re.has_value() && *re, "formatted line \"%s\" does not parse: %s", formatted.c_str(),
               re ? "comment" : re.error().message.c_str());
    FUZZ_CHECK(again == r, "line \"%.*s\" formats to \"%s\", which parses differently",
               static_cast<int>(line.size()), line.data(), formatted.c_str());
    parsed.push_back(r);
  }

  // The whole input as a file.
  const std::string& path = temp_path("in");
  if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
    if (size > 0) std::fwrite(data, 1, size, f);
    std::fclose(f);
    const ReadAll one = read_one_by_one(path);
    const ReadAll batched = read_batches(path);
    FUZZ_CHECK(one.error == batched.error, "one-by-one error %d, batched error %d",
               one.error ? 1 : 0, batched.error ? 1 : 0);
    if (!one.error && !batched.error) {
      FUZZ_CHECK(one.records == batched.records, "one-by-one %zu records, batched %zu",
                 one.records.size(), batched.records.size());
    }
    if (!one.error && !one.records.empty()) {
      write_and_read_back(one.records, workload::TraceFormat::kText);
      write_and_read_back(one.records, workload::TraceFormat::kBinary);
    }
  }
  if (!parsed.empty()) write_and_read_back(parsed, workload::TraceFormat::kBinary);
  return 0;
}
