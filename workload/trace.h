// DMA traces: what devices did (DMA requests) and what the host software did (map, unmap,
// invalidate), one record per event, in a text format (for people) and a compact binary
// format (for replay speed). Readers report the file, line (or record) and field of any bad
// record; nothing is skipped silently.
//
// Text format, one record a line; '#' starts a comment; fields separated by blanks:
//   <time> dma   <bb:dd.f> <r|w> <address> <size> [pasid=<n>] [priv] [exec]
//   <time> map   <bb:dd.f> <iova> <size> <hpa> <perm: r, w or rw> [pasid=<n>]
//   <time> unmap <bb:dd.f> <iova> <size> [pasid=<n>]
//   <time> inval <bb:dd.f> <iova> <size> [pasid=<n>]
// time: decimal cycles; addresses and sizes: decimal or 0x-prefixed hex; PASID: decimal/hex.
//
// Binary format: the 8-byte magic "VTDTRC01", then 40-byte little-endian records:
//   u64 time | u64 address | u64 size | u64 hpa | u32 pasid | u16 source-id | u8 kind |
//   u8 flags (bit0 write, bit1 has-pasid, bit2 priv, bit3 exec, bit4 perm-r, bit5 perm-w;
//   bits 7:6 must be 0).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"
#include "model/types.h"

namespace vtdsim::workload {

enum class TraceKind : std::uint8_t { kDma = 0, kMap = 1, kUnmap = 2, kInvalidate = 3 };

struct TraceRecord {
  TraceKind kind = TraceKind::kDma;
  model::Cycle time = 0;
  model::SourceId source_id{};
  std::uint64_t address = 0;                            // IOVA (dma/map/unmap/inval)
  std::uint64_t size = 0;                               // bytes
  std::uint64_t hpa = 0;                                // map: host-physical target
  model::AccessType access = model::AccessType::kRead;  // dma
  model::Permissions permissions{};                     // map
  bool has_pasid = false;
  std::uint32_t pasid = 0;
  bool privileged = false;
  bool execute = false;
  friend bool operator==(const TraceRecord&, const TraceRecord&) = default;
};

// Parses one text line (without the newline). Returns true and fills `out` for a record,
// false for a blank/comment line; errors name `where` (e.g. "trace.txt:12") and the field.
Expected<bool> parse_trace_line(std::string_view line, std::string_view where, TraceRecord& out);
std::string format_trace_line(const TraceRecord& record);
// "bb:dd.f" (hex) → source-id; errors name `where` and the field "source-id".
Expected<model::SourceId> parse_source_id(std::string_view text, std::string_view where);

enum class TraceFormat : std::uint8_t { kText, kBinary };

// Streams records from a file; the format is detected from the magic.
class TraceReader {
 public:
  static Expected<std::unique_ptr<TraceReader>> open(const std::string& path);
  ~TraceReader();
  TraceReader(const TraceReader&) = delete;
  TraceReader& operator=(const TraceReader&) = delete;

  // Next record: true with `out` filled, false at the end, or an error naming the position.
  Expected<bool> next(TraceRecord& out);
  // Reads up to out.size() records into out (binary: one bulk read); returns how many.
  Expected<std::size_t> next_batch(std::vector<TraceRecord>& out, std::size_t max);
  TraceFormat format() const { return format_; }

 private:
  TraceReader(std::FILE* file, std::string path, TraceFormat format);
  std::FILE* file_;
  std::string path_;
  TraceFormat format_;
  std::uint64_t position_ = 0;  // line number (text) or record number (binary)
  std::string line_;
  std::vector<unsigned char> buffer_;
  // Binary traces are memory-mapped when possible (no copy through the kernel); else read.
  const unsigned char* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::size_t map_pos_ = 0;
  // The next `want` bytes (fewer at the end): a pointer into the map, or read into buffer_.
  const unsigned char* take(std::size_t want, std::size_t& got);
};

class TraceWriter {
 public:
  static Expected<std::unique_ptr<TraceWriter>> create(const std::string& path, TraceFormat format);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  Status write(const TraceRecord& record);
  Status close();

 private:
  TraceWriter(std::FILE* file, std::string path, TraceFormat format);
  std::FILE* file_;
  std::string path_;
  TraceFormat format_;
};

// Reads a whole trace into memory (tests, small traces).
Expected<std::vector<TraceRecord>> read_trace(const std::string& path);
Status write_trace(const std::string& path, TraceFormat format,
                   const std::vector<TraceRecord>& records);

}  // namespace vtdsim::workload
