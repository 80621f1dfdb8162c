#include "workload/trace.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace vtdsim::workload {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          (std::string("vtdsim_trace_") + std::to_string(::getpid()) + "_" + name))
      .string();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(TraceText, ParsesEveryKind) {
  TraceRecord r;
  ASSERT_TRUE(parse_trace_line("100 dma 03:00.1 w 0x1000 64 pasid=5 priv exec", "t", r).value());
  EXPECT_EQ(r.kind, TraceKind::kDma);
  EXPECT_EQ(r.time, 100u);
  EXPECT_EQ(r.source_id, model::SourceId::make(3, 0, 1));
  EXPECT_EQ(r.access, model::AccessType::kWrite);
  EXPECT_EQ(r.address, 0x1000u);
  EXPECT_EQ(r.size, 64u);
  EXPECT_TRUE(r.has_pasid);
  EXPECT_EQ(r.pasid, 5u);
  EXPECT_TRUE(r.privileged);
  EXPECT_TRUE(r.execute);

  ASSERT_TRUE(parse_trace_line("7 map 00:1f.7 0x200000 2097152 0x40000000 rw", "t", r).value());
  EXPECT_EQ(r.kind, TraceKind::kMap);
  EXPECT_EQ(r.source_id, model::SourceId::make(0, 0x1f, 7));
  EXPECT_EQ(r.hpa, 0x40000000u);
  EXPECT_EQ(r.size, 2097152u);
  EXPECT_EQ(r.permissions, (model::Permissions{true, true, false}));

  ASSERT_TRUE(parse_trace_line("8 unmap 00:02.0 0x200000 4096", "t", r).value());
  EXPECT_EQ(r.kind, TraceKind::kUnmap);
  ASSERT_TRUE(parse_trace_line("9 inval 00:02.0 0x200000 4096 # flush", "t", r).value());
  EXPECT_EQ(r.kind, TraceKind::kInvalidate);
}

TEST(TraceText, BlankAndCommentLinesAreNotRecords) {
  TraceRecord r;
  EXPECT_FALSE(parse_trace_line("", "t", r).value());
  EXPECT_FALSE(parse_trace_line("   # only a comment", "t", r).value());
}

TEST(TraceText, ErrorsNameWhereAndField) {
  TraceRecord r;
  struct Case {
    const char* line;
    const char* message;
  };
  const Case cases[] = {
      {"x dma 00:01.0 r 0 4", "f.txt:3: time: 'x' is not a number"},
      {"1 copy 00:01.0 r 0 4", "f.txt:3: kind: 'copy' is not one of dma, map, unmap, inval"},
      {"1 dma 00:20.0 r 0 4", "f.txt:3: source-id: '00:20.0' is not bb:dd.f"},
      {"1 dma 00:01.0 x 0 4", "f.txt:3: access: 'x' is not r or w"},
      {"1 dma 00:01.0 r 0x 4", "f.txt:3: address: '0x' is not a number"},
      {"1 dma 00:01.0 r 0 0", "f.txt:3: size: must be at least 1"},
      {"1 dma 00:01.0 r 0", "f.txt:3: size: missing"},
      {"1 map 00:01.0 0 4096 0x1000 x", "f.txt:3: perm: 'x' is not r, w or rw"},
      {"1 dma 00:01.0 r 0 4 pasid=0x100000", "f.txt:3: pasid: beyond 20 bits"},
      {"1 dma 00:01.0 r 0 4 bogus", "f.txt:3: option: unexpected 'bogus'"},
  };
  for (const auto& c : cases) {
    auto got = parse_trace_line(c.line, "f.txt:3", r);
    ASSERT_FALSE(got.has_value()) << c.line;
    EXPECT_EQ(got.error().code, ErrorCode::kParse);
    EXPECT_EQ(got.error().message, c.message);
  }
}

std::vector<TraceRecord> sample() {
  std::vector<TraceRecord> v;
  TraceRecord a;
  a.kind = TraceKind::kMap;
  a.time = 1;
  a.source_id = model::SourceId::make(1, 2, 3);
  a.address = 0x10000;
  a.size = 8192;
  a.hpa = 0x7000000;
  a.permissions = {true, false, false};
  v.push_back(a);
  TraceRecord b;
  b.kind = TraceKind::kDma;
  b.time = 2;
  b.source_id = model::SourceId::make(1, 2, 3);
  b.address = 0x10040;
  b.size = 64;
  b.access = model::AccessType::kWrite;
  b.has_pasid = true;
  b.pasid = 0xABCDE;
  v.push_back(b);
  TraceRecord c = a;
  c.kind = TraceKind::kUnmap;
  c.hpa = 0;
  c.permissions = {};
  c.time = 3;
  v.push_back(c);
  return v;
}

TEST(TraceFile, TextAndBinaryRoundTrip) {
  for (auto format : {TraceFormat::kText, TraceFormat::kBinary}) {
    const std::string path = temp_path(format == TraceFormat::kText ? "rt.txt" : "rt.bin");
    ASSERT_TRUE(write_trace(path, format, sample()).has_value());
    auto reader = TraceReader::open(path);
    ASSERT_TRUE(reader.has_value());
    EXPECT_EQ((*reader)->format(), format);
    auto back = read_trace(path);
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(*back, sample());
    std::remove(path.c_str());
  }
}

TEST(TraceFile, BinaryBatchReadsAll) {
  const std::string path = temp_path("batch.bin");
  std::vector<TraceRecord> many;
  for (int i = 0; i < 1000; ++i) {
    auto s = sample()[1];
    s.time = static_cast<model::Cycle>(i);
    many.push_back(s);
  }
  ASSERT_TRUE(write_trace(path, TraceFormat::kBinary, many).has_value());
  auto reader = TraceReader::open(path);
  ASSERT_TRUE(reader.has_value());
  std::vector<TraceRecord> batch;
  std::size_t total = 0;
  for (;;) {
    auto n = (*reader)->next_batch(batch, 300);
    ASSERT_TRUE(n.has_value());
    if (*n == 0) break;
    EXPECT_EQ(batch.front().time, total);
    total += *n;
  }
  EXPECT_EQ(total, 1000u);
  std::remove(path.c_str());
}

TEST(TraceFile, TextErrorNamesLine) {
  const std::string path = temp_path("bad.txt");
  write_file(path, "# header\n1 dma 00:01.0 r 0x0 4\n\n2 dma 00:01.0 q 0x0 4\n");
  auto got = read_trace(path);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().message, path + ":4: access: 'q' is not r or w");
  std::remove(path.c_str());
}

TEST(TraceFile, TruncatedAndCorruptBinaryAreErrors) {
  const std::string path = temp_path("trunc.bin");
  ASSERT_TRUE(write_trace(path, TraceFormat::kBinary, sample()).has_value());
  std::filesystem::resize_file(path, 8 + 40 + 10);
  auto got = read_trace(path);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().message, path + ": record 1: record: truncated: 10 of 40 bytes");

  std::filesystem::resize_file(path, 8 + 40);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8 + 38);
    f.put(static_cast<char>(9));  // kind 9
  }
  got = read_trace(path);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().message, path + ": record 0: kind: 9 is not a record kind");
  std::remove(path.c_str());
}

TEST(TraceFile, MissingFileIsAnIoError) {
  auto got = TraceReader::open("/nonexistent/dir/trace.txt");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, ErrorCode::kIo);
  EXPECT_NE(got.error().message.find("/nonexistent/dir/trace.txt: cannot open"), std::string::npos);
}

}  // namespace
}  // namespace vtdsim::workload
