#include "workload/trace.h"

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

#include <sys/mman.h>
#include <sys/stat.h>

#include <fmt/format.h>

namespace vtdsim::workload {
namespace {

constexpr std::array<char, 8> kMagic = {'V', 'T', 'D', 'T', 'R', 'C', '0', '1'};
constexpr std::size_t kRecordBytes = 40;

std::string_view next_token(std::string_view& rest) {
  std::size_t b = 0;
  while (b < rest.size() && (rest[b] == ' ' || rest[b] == '\t' || rest[b] == '\r')) ++b;
  std::size_t e = b;
  while (e < rest.size() && rest[e] != ' ' && rest[e] != '\t' && rest[e] != '\r') ++e;
  std::string_view tok = rest.substr(b, e - b);
  rest = rest.substr(e);
  return tok;
}

tl::unexpected<Error> bad(std::string_view where, std::string_view field, std::string_view why) {
  return make_error(ErrorCode::kParse, fmt::format("{}: {}: {}", where, field, why));
}

Expected<std::uint64_t> parse_number(std::string_view tok, std::string_view where,
                                     std::string_view field) {
  if (tok.empty()) return bad(where, field, "missing");
  int base = 10;
  std::string_view digits = tok;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  }
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (ec == std::errc::result_out_of_range)
    return bad(where, field, fmt::format("'{}' too large", tok));
  if (ec != std::errc() || ptr != digits.data() + digits.size()) {
    return bad(where, field, fmt::format("'{}' is not a number", tok));
  }
  return v;
}

Expected<model::SourceId> parse_sid(std::string_view tok, std::string_view where) {
  // bb:dd.f in hex
  const auto colon = tok.find(':');
  const auto dot = tok.find('.');
  if (colon == std::string_view::npos || dot == std::string_view::npos || dot < colon) {
    return bad(where, "source-id", fmt::format("'{}' is not bb:dd.f", tok));
  }
  unsigned parts[3] = {0, 0, 0};
  const std::string_view pieces[3] = {tok.substr(0, colon), tok.substr(colon + 1, dot - colon - 1),
                                      tok.substr(dot + 1)};
  const unsigned limits[3] = {0xFF, 0x1F, 0x7};
  for (int i = 0; i < 3; ++i) {
    const auto [ptr, ec] =
        std::from_chars(pieces[i].data(), pieces[i].data() + pieces[i].size(), parts[i], 16);
    if (pieces[i].empty() || ec != std::errc() || ptr != pieces[i].data() + pieces[i].size() ||
        parts[i] > limits[i]) {
      return bad(where, "source-id", fmt::format("'{}' is not bb:dd.f", tok));
    }
  }
  return model::SourceId::make(parts[0], parts[1], parts[2]);
}

}  // namespace

Expected<model::SourceId> parse_source_id(std::string_view text, std::string_view where) {
  return parse_sid(text, where);
}

Expected<bool> parse_trace_line(std::string_view line, std::string_view where, TraceRecord& out) {
  if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
  std::string_view rest = line;
  const std::string_view time_tok = next_token(rest);
  if (time_tok.empty()) return false;
  TraceRecord r;
  auto time = parse_number(time_tok, where, "time");
  if (!time) return tl::unexpected(time.error());
  r.time = *time;
  const std::string_view kind = next_token(rest);
  if (kind == "dma") {
    r.kind = TraceKind::kDma;
  } else if (kind == "map") {
    r.kind = TraceKind::kMap;
  } else if (kind == "unmap") {
    r.kind = TraceKind::kUnmap;
  } else if (kind == "inval") {
    r.kind = TraceKind::kInvalidate;
  } else {
    return bad(where, "kind", fmt::format("'{}' is not one of dma, map, unmap, inval", kind));
  }
  auto sid = parse_sid(next_token(rest), where);
  if (!sid) return tl::unexpected(sid.error());
  r.source_id = *sid;
  if (r.kind == TraceKind::kDma) {
    const std::string_view dir = next_token(rest);
    if (dir == "r") {
      r.access = model::AccessType::kRead;
    } else if (dir == "w") {
      r.access = model::AccessType::kWrite;
    } else {
      return bad(where, "access", fmt::format("'{}' is not r or w", dir));
    }
  }
  auto address = parse_number(next_token(rest), where, "address");
  if (!address) return tl::unexpected(address.error());
  r.address = *address;
  auto size = parse_number(next_token(rest), where, "size");
  if (!size) return tl::unexpected(size.error());
  if (*size == 0) return bad(where, "size", "must be at least 1");
  r.size = *size;
  if (r.kind == TraceKind::kMap) {
    auto hpa = parse_number(next_token(rest), where, "hpa");
    if (!hpa) return tl::unexpected(hpa.error());
    r.hpa = *hpa;
    const std::string_view perm = next_token(rest);
    if (perm == "r") {
      r.permissions = {true, false, false};
    } else if (perm == "w") {
      r.permissions = {false, true, false};
    } else if (perm == "rw") {
      r.permissions = {true, true, false};
    } else {
      return bad(where, "perm", fmt::format("'{}' is not r, w or rw", perm));
    }
  }
  for (std::string_view opt = next_token(rest); !opt.empty(); opt = next_token(rest)) {
    if (opt.starts_with("pasid=")) {
      auto pasid = parse_number(opt.substr(6), where, "pasid");
      if (!pasid) return tl::unexpected(pasid.error());
      if (*pasid >= (1u << 20)) return bad(where, "pasid", "beyond 20 bits");
      r.has_pasid = true;
      r.pasid = static_cast<std::uint32_t>(*pasid);
    } else if (opt == "priv" && r.kind == TraceKind::kDma) {
      r.privileged = true;
    } else if (opt == "exec" && r.kind == TraceKind::kDma) {
      r.execute = true;
    } else {
      return bad(where, "option", fmt::format("unexpected '{}'", opt));
    }
  }
  out = r;
  return true;
}

std::string format_trace_line(const TraceRecord& r) {
  std::string s = fmt::format("{} ", r.time);
  const std::string sid = model::to_string(r.source_id);
  switch (r.kind) {
    case TraceKind::kDma:
      s += fmt::format("dma {} {} {:#x} {}", sid, r.access == model::AccessType::kWrite ? "w" : "r",
                       r.address, r.size);
      break;
    case TraceKind::kMap: {
      const char* perm = r.permissions.read ? (r.permissions.write ? "rw" : "r") : "w";
      s += fmt::format("map {} {:#x} {} {:#x} {}", sid, r.address, r.size, r.hpa, perm);
      break;
    }
    case TraceKind::kUnmap:
      s += fmt::format("unmap {} {:#x} {}", sid, r.address, r.size);
      break;
    case TraceKind::kInvalidate:
      s += fmt::format("inval {} {:#x} {}", sid, r.address, r.size);
      break;
  }
  if (r.has_pasid) s += fmt::format(" pasid={}", r.pasid);
  if (r.privileged) s += " priv";
  if (r.execute) s += " exec";
  return s;
}

namespace {

void encode(const TraceRecord& r, unsigned char* p) {
  auto put = [&p](auto v) {
    std::memcpy(p, &v, sizeof(v));
    p += sizeof(v);
  };
  std::uint8_t flags = 0;
  if (r.access == model::AccessType::kWrite) flags |= 1u;
  if (r.has_pasid) flags |= 2u;
  if (r.privileged) flags |= 4u;
  if (r.execute) flags |= 8u;
  if (r.permissions.read) flags |= 16u;
  if (r.permissions.write) flags |= 32u;
  put(r.time);
  put(r.address);
  put(r.size);
  put(r.hpa);
  put(r.pasid);
  put(r.source_id.raw);
  put(static_cast<std::uint8_t>(r.kind));
  put(flags);
}

Status decode(const unsigned char* p, std::string_view path, std::uint64_t index, TraceRecord& r) {
  auto get = [&p](auto& v) {
    std::memcpy(&v, p, sizeof(v));
    p += sizeof(v);
  };
  std::uint8_t kind = 0;
  std::uint8_t flags = 0;
  get(r.time);
  get(r.address);
  get(r.size);
  get(r.hpa);
  get(r.pasid);
  get(r.source_id.raw);
  get(kind);
  get(flags);
  r.kind = static_cast<TraceKind>(kind);
  r.access = (flags & 1u) != 0 ? model::AccessType::kWrite : model::AccessType::kRead;
  r.has_pasid = (flags & 2u) != 0;
  r.privileged = (flags & 4u) != 0;
  r.execute = (flags & 8u) != 0;
  r.permissions = {(flags & 16u) != 0, (flags & 32u) != 0, false};
  // Fields the record's kind does not carry must be clear, as in the text format (found by
  // tests/fuzz/fuzz_trace: they were accepted and then lost or written as unparseable text).
  const bool is_map = kind == static_cast<std::uint8_t>(TraceKind::kMap);
  const bool is_dma = kind == static_cast<std::uint8_t>(TraceKind::kDma);
  const bool ok = kind <= 3 && (flags & 0xC0u) == 0 && r.size != 0 && r.pasid < (1u << 20) &&
                  (r.has_pasid || r.pasid == 0) && (is_map || r.hpa == 0) &&
                  (is_map == ((flags & 0x30u) != 0)) && (is_dma || (flags & 0x0Du) == 0);
  if (ok) [[likely]] {
    return {};
  }
  // The position is formatted only for a bad record: decoding stays allocation-free.
  const std::string where = fmt::format("{}: record {}", path, index);
  if (kind > 3) return bad(where, "kind", fmt::format("{} is not a record kind", kind));
  if ((flags & 0xC0u) != 0) {
    return bad(where, "flags", fmt::format("{:#x} has reserved bits", flags));
  }
  if (r.size == 0) return bad(where, "size", "must be at least 1");
  if (r.pasid >= (1u << 20)) return bad(where, "pasid", "beyond 20 bits");
  if (!r.has_pasid && r.pasid != 0) return bad(where, "pasid", "set without the has-pasid flag");
  if (!is_map && r.hpa != 0) return bad(where, "hpa", "only map records have one");
  if (!is_map && (flags & 0x30u) != 0) {
    return bad(where, "flags", "permissions on a record that is not a map");
  }
  if (is_map && (flags & 0x30u) == 0) {
    return bad(where, "flags", "a map record needs read or write permission");
  }
  return bad(where, "flags", "write/priv/exec on a record that is not a dma");
}

}  // namespace

TraceReader::TraceReader(std::FILE* file, std::string path, TraceFormat format)
    : file_(file), path_(std::move(path)), format_(format) {}

TraceReader::~TraceReader() {
  if (map_ != nullptr) {
    munmap(const_cast<unsigned char*>(map_), map_size_);  // NOLINT: the mapping is read-only
  }
  if (file_ != nullptr) std::fclose(file_);
}

const unsigned char* TraceReader::take(std::size_t want, std::size_t& got) {
  if (map_ != nullptr) {
    got = std::min(want, map_size_ - map_pos_);
    const unsigned char* p = map_ + map_pos_;
    map_pos_ += got;
    return p;
  }
  buffer_.resize(want);
  got = std::fread(buffer_.data(), 1, want, file_);
  return buffer_.data();
}

Expected<std::unique_ptr<TraceReader>> TraceReader::open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return make_error(ErrorCode::kIo,
                      fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  std::array<char, 8> head{};
  const std::size_t n = std::fread(head.data(), 1, head.size(), f);
  TraceFormat format = TraceFormat::kText;
  if (n == head.size() && head == kMagic) {
    format = TraceFormat::kBinary;
  } else {
    std::rewind(f);
  }
  std::unique_ptr<TraceReader> reader(new TraceReader(f, path, format));
  struct stat st {};
  if (format == TraceFormat::kBinary && fstat(fileno(f), &st) == 0 &&
      static_cast<std::size_t>(st.st_size) > head.size()) {
    const auto size = static_cast<std::size_t>(st.st_size);
    void* m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fileno(f), 0);
    if (m != MAP_FAILED) {
      (void)madvise(m, size, MADV_SEQUENTIAL);
      reader->map_ = static_cast<const unsigned char*>(m);
      reader->map_size_ = size;
      reader->map_pos_ = head.size();
    }
  }
  return reader;
}

Expected<bool> TraceReader::next(TraceRecord& out) {
  if (format_ == TraceFormat::kBinary) {
    std::size_t n = 0;
    const unsigned char* rec = take(kRecordBytes, n);
    if (n == 0) return false;
    if (n != kRecordBytes) {
      return bad(fmt::format("{}: record {}", path_, position_), "record",
                 fmt::format("truncated: {} of {} bytes", n, kRecordBytes));
    }
    if (auto ok = decode(rec, path_, position_, out); !ok) return tl::unexpected(ok.error());
    ++position_;
    return true;
  }
  for (;;) {
    line_.clear();
    int c = 0;
    bool any = false;
    while ((c = std::fgetc(file_)) != EOF) {
      any = true;
      if (c == '\n') break;
      line_.push_back(static_cast<char>(c));
    }
    if (!any) return false;
    ++position_;
    auto got = parse_trace_line(line_, fmt::format("{}:{}", path_, position_), out);
    if (!got) return tl::unexpected(got.error());
    if (*got) return true;
  }
}

Expected<std::size_t> TraceReader::next_batch(std::vector<TraceRecord>& out, std::size_t max) {
  out.resize(max);
  if (format_ == TraceFormat::kBinary) {
    std::size_t n = 0;
    const unsigned char* data = take(max * kRecordBytes, n);
    if (n % kRecordBytes != 0) {
      return bad(fmt::format("{}: record {}", path_, position_ + n / kRecordBytes), "record",
                 "truncated");
    }
    const std::size_t count = n / kRecordBytes;
    for (std::size_t i = 0; i < count; ++i) {
      if (auto ok = decode(data + i * kRecordBytes, path_, position_ + i, out[i]); !ok) {
        return tl::unexpected(ok.error());
      }
    }
    position_ += count;
    out.resize(count);
    return count;
  }
  std::size_t count = 0;
  while (count < max) {
    auto got = next(out[count]);
    if (!got) return tl::unexpected(got.error());
    if (!*got) break;
    ++count;
  }
  out.resize(count);
  return count;
}

TraceWriter::TraceWriter(std::FILE* file, std::string path, TraceFormat format)
    : file_(file), path_(std::move(path)), format_(format) {}

TraceWriter::~TraceWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

Expected<std::unique_ptr<TraceWriter>> TraceWriter::create(const std::string& path,
                                                           TraceFormat format) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return make_error(ErrorCode::kIo,
                      fmt::format("{}: cannot create: {}", path, std::strerror(errno)));
  }
  if (format == TraceFormat::kBinary && std::fwrite(kMagic.data(), 1, kMagic.size(), f) != 8) {
    std::fclose(f);
    return make_error(ErrorCode::kIo, fmt::format("{}: write failed", path));
  }
  return std::unique_ptr<TraceWriter>(new TraceWriter(f, path, format));
}

Status TraceWriter::write(const TraceRecord& record) {
  if (file_ == nullptr) return make_error(ErrorCode::kIo, fmt::format("{}: writer closed", path_));
  bool ok = false;
  if (format_ == TraceFormat::kBinary) {
    std::array<unsigned char, kRecordBytes> rec{};
    encode(record, rec.data());
    ok = std::fwrite(rec.data(), 1, rec.size(), file_) == rec.size();
  } else {
    const std::string line = format_trace_line(record) + "\n";
    ok = std::fwrite(line.data(), 1, line.size(), file_) == line.size();
  }
  if (!ok) return make_error(ErrorCode::kIo, fmt::format("{}: write failed", path_));
  return {};
}

Status TraceWriter::close() {
  if (file_ == nullptr) return {};
  const int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) return make_error(ErrorCode::kIo, fmt::format("{}: close failed", path_));
  return {};
}

Expected<std::vector<TraceRecord>> read_trace(const std::string& path) {
  auto reader = TraceReader::open(path);
  if (!reader) return tl::unexpected(reader.error());
  std::vector<TraceRecord> out;
  TraceRecord r;
  for (;;) {
    auto got = (*reader)->next(r);
    if (!got) return tl::unexpected(got.error());
    if (!*got) break;
    out.push_back(r);
  }
  return out;
}

Status write_trace(const std::string& path, TraceFormat format,
                   const std::vector<TraceRecord>& records) {
  auto writer = TraceWriter::create(path, format);
  if (!writer) return tl::unexpected(writer.error());
  for (const auto& r : records) {
    if (auto ok = (*writer)->write(r); !ok) return ok;
  }
  return (*writer)->close();
}

}  // namespace vtdsim::workload
