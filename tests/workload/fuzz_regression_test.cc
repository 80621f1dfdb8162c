// Regression tests for what tests/fuzz/fuzz_trace found in the binary trace reader: records
// carrying fields their kind does not have were accepted, then lost (or written as text the
// parser rejects) when the trace was converted to text.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "workload/trace.h"

namespace vtdsim::workload {
namespace {

std::string fuzz_temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          (std::string("vtdsim_fuzzreg_") + std::to_string(::getpid()) + "_" + name))
      .string();
}

// One binary record (layout of workload/trace.h) after the magic.
std::string binary_trace(std::uint64_t hpa, std::uint32_t pasid, std::uint8_t kind,
                         std::uint8_t flags) {
  std::string s = "VTDTRC01";
  const auto put = [&s](const auto& v) {
    char b[sizeof(v)];
    std::memcpy(b, &v, sizeof(v));
    s.append(b, sizeof(v));
  };
  put(std::uint64_t{100});     // time
  put(std::uint64_t{0x1000});  // address
  put(std::uint64_t{64});      // size
  put(hpa);
  put(pasid);
  put(std::uint16_t{0x0008});  // 00:01.0
  put(kind);
  put(flags);
  return s;
}

std::string read_error(const std::string& bytes) {
  const std::string path = fuzz_temp_path("rec.bin");
  std::ofstream(path, std::ios::binary) << bytes;
  auto r = read_trace(path);
  std::remove(path.c_str());
  return r ? std::string("no error") : r.error().message;
}

// The input fuzz_trace reported (crash-4f57c2dd...): a dma record with PASID 0x28 but no
// has-pasid flag and a non-zero hpa; reading it as binary and writing it as text lost both.
TEST(TraceFuzzRegression, PasidWithoutFlagIsAnError) {
  EXPECT_NE(read_error(binary_trace(0, 0x28, 0, 0)).find("record 0: pasid: set without"),
            std::string::npos)
      << read_error(binary_trace(0, 0x28, 0, 0));
}

TEST(TraceFuzzRegression, HpaOnlyOnMapRecords) {
  EXPECT_NE(read_error(binary_trace(0x2000, 0, 0, 0)).find("hpa: only map records"),
            std::string::npos);
  EXPECT_NE(read_error(binary_trace(0x2000, 0, 2, 0)).find("hpa: only map records"),
            std::string::npos);
}

TEST(TraceFuzzRegression, PermissionsOnlyOnMapRecordsAndRequiredThere) {
  EXPECT_NE(read_error(binary_trace(0, 0, 2, 0x10)).find("permissions on a record"),
            std::string::npos);
  EXPECT_NE(read_error(binary_trace(0x2000, 0, 1, 0)).find("needs read or write"),
            std::string::npos);
  EXPECT_EQ(read_error(binary_trace(0x2000, 0, 1, 0x30)), "no error");
}

TEST(TraceFuzzRegression, WritePrivExecOnlyOnDmaRecords) {
  for (std::uint8_t flag : {std::uint8_t{1}, std::uint8_t{4}, std::uint8_t{8}}) {
    EXPECT_NE(read_error(binary_trace(0x2000, 0, 1, static_cast<std::uint8_t>(0x10 | flag)))
                  .find("not a dma"),
              std::string::npos)
        << int{flag};
  }
  EXPECT_EQ(read_error(binary_trace(0, 5, 0, 0x0F)), "no error");  // w, pasid, priv, exec
}

// What a binary record holds survives a conversion to text.
TEST(TraceFuzzRegression, BinaryToTextKeepsEveryRecord) {
  const std::string bin = fuzz_temp_path("conv.bin");
  const std::string txt = fuzz_temp_path("conv.txt");
  std::ofstream(bin, std::ios::binary) << binary_trace(0, 5, 0, 0x0F);
  auto records = read_trace(bin);
  ASSERT_TRUE(records.has_value()) << records.error().message;
  ASSERT_TRUE(write_trace(txt, TraceFormat::kText, *records).has_value());
  auto back = read_trace(txt);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, *records);
  std::remove(bin.c_str());
  std::remove(txt.c_str());
}

}  // namespace
}  // namespace vtdsim::workload
