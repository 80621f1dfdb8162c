// PhysicalMemory: little-endian layout, sparse allocation, cross-frame accesses, address-width
// errors, frame() pointers, resident counts, fill and move semantics.
#include "model/physical_memory.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace vtdsim::model {
namespace {

std::vector<std::uint8_t> bytes_at(const PhysicalMemory& mem, std::uint64_t pa, std::size_t n) {
  std::vector<std::byte> raw(n);
  EXPECT_TRUE(mem.read_bytes(pa, raw).has_value());
  std::vector<std::uint8_t> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = std::to_integer<std::uint8_t>(raw[i]);
  return out;
}

using Bytes = std::vector<std::uint8_t>;

TEST(PhysicalMemory, UntouchedReadsZeroWithoutAllocating) {
  PhysicalMemory mem(40);
  EXPECT_EQ(mem.read<std::uint8_t>(0x1000).value(), 0u);
  EXPECT_EQ(mem.read<std::uint64_t>(0x1000).value(), 0u);
  EXPECT_EQ(mem.read<U128>(0xFFFF8).value(), (U128{0, 0}));
  std::uint32_t v = 0xDEADBEEF;
  EXPECT_TRUE(mem.read_into(0x2004, v));
  EXPECT_EQ(v, 0u);
  EXPECT_EQ(bytes_at(mem, 0x3FF0, 0x40), Bytes(0x40, 0));
  EXPECT_EQ(mem.find_frame(0x1000), nullptr);
  EXPECT_EQ(mem.frames_resident(), 0u);
  EXPECT_EQ(mem.bytes_used(), 0u);
}

TEST(PhysicalMemory, ReadsAfterWritesDoNotAllocateOtherFrames) {
  PhysicalMemory mem(40);
  ASSERT_TRUE(mem.write<std::uint32_t>(0x5000, 1).has_value());
  const std::uint64_t used = mem.bytes_used();
  EXPECT_EQ(mem.read<std::uint64_t>(0x6000).value(), 0u);
  EXPECT_EQ(mem.read<std::uint64_t>(0x4FF8).value(), 0u);
  EXPECT_EQ(mem.find_frame(0x6000), nullptr);
  EXPECT_EQ(mem.frames_resident(), 1u);
  EXPECT_EQ(mem.bytes_used(), used);
}

TEST(PhysicalMemory, LittleEndianScalars) {
  PhysicalMemory mem(40);
  ASSERT_TRUE(mem.write<std::uint8_t>(0x1000, 0xA5).has_value());
  ASSERT_TRUE(mem.write<std::uint16_t>(0x1010, 0x1234).has_value());
  ASSERT_TRUE(mem.write<std::uint32_t>(0x1020, 0x89ABCDEF).has_value());
  ASSERT_TRUE(mem.write<std::uint64_t>(0x1030, 0x0102030405060708).has_value());
  ASSERT_TRUE(mem.write<U128>(0x1040, U128{0x1122334455667788, 0x99AABBCCDDEEFF00}).has_value());

  EXPECT_EQ(bytes_at(mem, 0x1000, 2), (Bytes{0xA5, 0x00}));
  EXPECT_EQ(bytes_at(mem, 0x1010, 3), (Bytes{0x34, 0x12, 0x00}));
  EXPECT_EQ(bytes_at(mem, 0x1020, 5), (Bytes{0xEF, 0xCD, 0xAB, 0x89, 0x00}));
  EXPECT_EQ(bytes_at(mem, 0x1030, 9), (Bytes{0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0}));
  EXPECT_EQ(bytes_at(mem, 0x1040, 16), (Bytes{0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00,
                                              0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99}));

  EXPECT_EQ(mem.read<std::uint16_t>(0x1010).value(), 0x1234u);
  EXPECT_EQ(mem.read<std::uint32_t>(0x1020).value(), 0x89ABCDEFu);
  EXPECT_EQ(mem.read<std::uint64_t>(0x1030).value(), 0x0102030405060708u);
  EXPECT_EQ(mem.read<U128>(0x1040).value(), (U128{0x1122334455667788, 0x99AABBCCDDEEFF00}));
  // Narrower reads of a wider value see its low-order bytes first.
  EXPECT_EQ(mem.read<std::uint16_t>(0x1030).value(), 0x0708u);
  EXPECT_EQ(mem.read<std::uint32_t>(0x1034).value(), 0x01020304u);
  EXPECT_EQ(mem.read<std::uint64_t>(0x1048).value(), 0x99AABBCCDDEEFF00u);
  // Unaligned access inside one frame.
  ASSERT_TRUE(mem.write<std::uint32_t>(0x1101, 0xCAFEF00D).has_value());
  EXPECT_EQ(bytes_at(mem, 0x1100, 6), (Bytes{0x00, 0x0D, 0xF0, 0xFE, 0xCA, 0x00}));
  EXPECT_EQ(mem.frames_resident(), 1u);
}

TEST(PhysicalMemory, BytesWrittenIndividuallyReadAsLittleEndianScalar) {
  PhysicalMemory mem(40);
  const std::array<std::byte, 8> in{std::byte{0xEF}, std::byte{0xBE}, std::byte{0xAD},
                                    std::byte{0xDE}, std::byte{0x78}, std::byte{0x56},
                                    std::byte{0x34}, std::byte{0x12}};
  ASSERT_TRUE(mem.write_bytes(0x7000, in).has_value());
  EXPECT_EQ(mem.read<std::uint64_t>(0x7000).value(), 0x12345678DEADBEEFu);
  EXPECT_EQ(mem.read<std::uint32_t>(0x7000).value(), 0xDEADBEEFu);
  std::uint16_t half = 0;
  EXPECT_TRUE(mem.read_into(0x7006, half));
  EXPECT_EQ(half, 0x1234u);
}

TEST(PhysicalMemory, ScalarCrossingFrameBoundary) {
  PhysicalMemory mem(40);
  ASSERT_TRUE(mem.write<std::uint64_t>(0x1FFC, 0x1122334455667788).has_value());
  EXPECT_EQ(mem.frames_resident(), 2u);
  EXPECT_EQ(bytes_at(mem, 0x1FFC, 4), (Bytes{0x88, 0x77, 0x66, 0x55}));
  EXPECT_EQ(bytes_at(mem, 0x2000, 4), (Bytes{0x44, 0x33, 0x22, 0x11}));
  EXPECT_EQ(mem.read<std::uint64_t>(0x1FFC).value(), 0x1122334455667788u);
  std::uint64_t v = 0;
  EXPECT_TRUE(mem.read_into(0x1FFC, v));
  EXPECT_EQ(v, 0x1122334455667788u);
  EXPECT_EQ(mem.read<std::uint32_t>(0x1FFE).value(), 0x33445566u);
  // Both frames resident now: an overwrite across the boundary still splits correctly.
  ASSERT_TRUE(mem.write<std::uint32_t>(0x1FFE, 0xA1B2C3D4).has_value());
  EXPECT_EQ(bytes_at(mem, 0x1FFC, 8), (Bytes{0x88, 0x77, 0xD4, 0xC3, 0xB2, 0xA1, 0x22, 0x11}));

  ASSERT_TRUE(mem.write<U128>(0x3FF8, U128{0xAAAAAAAAAAAAAAAA, 0xBBBBBBBBBBBBBBBB}).has_value());
  EXPECT_EQ(mem.frames_resident(), 4u);
  EXPECT_EQ(mem.read<std::uint64_t>(0x3FF8).value(), 0xAAAAAAAAAAAAAAAAu);
  EXPECT_EQ(mem.read<std::uint64_t>(0x4000).value(), 0xBBBBBBBBBBBBBBBBu);
  EXPECT_EQ(mem.read<U128>(0x3FF8).value(), (U128{0xAAAAAAAAAAAAAAAA, 0xBBBBBBBBBBBBBBBB}));
}

TEST(PhysicalMemory, CrossFrameReadWithUntouchedSecondFrame) {
  PhysicalMemory mem(40);
  ASSERT_TRUE(mem.write<std::uint32_t>(0x8FFC, 0xA1B2C3D4).has_value());
  EXPECT_EQ(mem.read<std::uint64_t>(0x8FFC).value(), 0x00000000A1B2C3D4u);
  EXPECT_EQ(mem.find_frame(0x9000), nullptr);
  EXPECT_EQ(mem.frames_resident(), 1u);
}

TEST(PhysicalMemory, SpanAcrossSeveralFrames) {
  PhysicalMemory mem(40);
  constexpr std::uint64_t kBase = 0xFF0;
  std::vector<std::byte> in(10000);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::byte>((i * 7 + 3) & 0xFF);
  ASSERT_TRUE(mem.write_bytes(kBase, in).has_value());
  // [0xFF0, 0x3700) touches frames 0, 1, 2 and 3.
  EXPECT_EQ(mem.frames_resident(), 4u);
  EXPECT_EQ(mem.find_frame(0x4000), nullptr);

  std::vector<std::byte> out(in.size() + 32, std::byte{0x55});
  ASSERT_TRUE(mem.read_bytes(kBase - 16, out).has_value());
  for (std::size_t i = 0; i < 16; ++i) EXPECT_EQ(out[i], std::byte{0}) << i;
  for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[16 + i], in[i]) << i;
  for (std::size_t i = 16 + in.size(); i < out.size(); ++i) EXPECT_EQ(out[i], std::byte{0}) << i;
  EXPECT_EQ(mem.read<std::uint8_t>(kBase + 4096).value(), (4096u * 7 + 3) & 0xFF);
  // A span read across resident and untouched frames allocates nothing.
  std::vector<std::byte> far(3 * 4096, std::byte{0x55});
  ASSERT_TRUE(mem.read_bytes(0x3000, far).has_value());
  EXPECT_EQ(far[0x6FF], std::byte{(9999u * 7 + 3) & 0xFF});
  EXPECT_EQ(far[0x700], std::byte{0});
  EXPECT_EQ(mem.frames_resident(), 4u);
}

TEST(PhysicalMemory, EmptySpansAreFine) {
  PhysicalMemory mem(20);
  EXPECT_TRUE(mem.read_bytes(0x100000, {}).has_value());
  EXPECT_TRUE(mem.write_bytes(0x1000, {}).has_value());
  EXPECT_TRUE(mem.fill(0x1000, 0, std::byte{1}).has_value());
  EXPECT_EQ(mem.frames_resident(), 0u);
}

TEST(PhysicalMemory, AddressWidthBoundsAndConstructorErrors) {
  EXPECT_THROW(PhysicalMemory(19), std::invalid_argument);
  EXPECT_THROW(PhysicalMemory(53), std::invalid_argument);
  PhysicalMemory small(20);
  EXPECT_EQ(small.address_width(), 20u);
  EXPECT_EQ(small.limit(), 0x100000u);
  PhysicalMemory big(52);
  EXPECT_EQ(big.limit(), std::uint64_t{1} << 52);
  ASSERT_TRUE(big.write<std::uint64_t>((std::uint64_t{1} << 52) - 8, 0x42).has_value());
  EXPECT_EQ(big.read<std::uint64_t>((std::uint64_t{1} << 52) - 8).value(), 0x42u);
  EXPECT_FALSE(big.read<std::uint8_t>(std::uint64_t{1} << 52).has_value());
}

TEST(PhysicalMemory, OutOfWidthScalarAccessIsAnErrorAndWritesNothing) {
  PhysicalMemory mem(20);  // bytes [0, 0x100000)
  ASSERT_TRUE(mem.write<std::uint64_t>(0xFFFF8, 0x0102030405060708).has_value());
  EXPECT_EQ(mem.read<std::uint64_t>(0xFFFF8).value(), 0x0102030405060708u);
  EXPECT_EQ(mem.frames_resident(), 1u);

  auto r = mem.read<std::uint64_t>(0xFFFF9);  // last byte beyond the width
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kOutOfRange);
  EXPECT_NE(r.error().message.find("0xffff9"), std::string::npos) << r.error().message;
  EXPECT_EQ(mem.read<std::uint8_t>(0x100000).error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(mem.read<U128>(0xFFFF1).error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(mem.read<std::uint64_t>(~std::uint64_t{0}).error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(mem.read<std::uint64_t>(~std::uint64_t{0} - 3).error().code, ErrorCode::kOutOfRange);

  std::uint64_t sentinel = 0x5A5A5A5A5A5A5A5A;
  EXPECT_FALSE(mem.read_into(0xFFFF9, sentinel));
  EXPECT_EQ(sentinel, 0x5A5A5A5A5A5A5A5Au);

  // Straddling the limit: the in-range part must stay untouched.
  auto w = mem.write<std::uint64_t>(0xFFFFC, 0xFFFFFFFFFFFFFFFF);
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(mem.read<std::uint64_t>(0xFFFF8).value(), 0x0102030405060708u);
  EXPECT_EQ(mem.write<std::uint16_t>(0x100000, 1).error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(mem.write<std::uint8_t>(0x7FFFFFFFFFFFFFFF, 1).error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(mem.frames_resident(), 1u);
}

TEST(PhysicalMemory, OutOfWidthSpansFillAndFrameAreErrorsAndWriteNothing) {
  PhysicalMemory mem(20);
  std::array<std::byte, 8> buf{};
  buf.fill(std::byte{0x77});
  auto rb = mem.read_bytes(0xFFFFC, buf);
  ASSERT_FALSE(rb.has_value());
  EXPECT_EQ(rb.error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(buf[0], std::byte{0x77});  // output untouched on error

  auto wb = mem.write_bytes(0xFFFFC, buf);
  ASSERT_FALSE(wb.has_value());
  EXPECT_EQ(wb.error().code, ErrorCode::kOutOfRange);
  auto f = mem.fill(0xFF000, 0x1001, std::byte{0xFF});
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(mem.fill(0, ~std::uint64_t{0}, std::byte{1}).error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(mem.frames_resident(), 0u);

  auto fr = mem.frame(0x100000);
  ASSERT_FALSE(fr.has_value());
  EXPECT_EQ(fr.error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(mem.frame(~std::uint64_t{0}).error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(mem.find_frame(0x100000), nullptr);
  EXPECT_EQ(mem.frames_resident(), 0u);
  EXPECT_EQ(mem.bytes_used(), 0u);

  ASSERT_TRUE(mem.frame(0xFFFFF).has_value());  // the last frame is fine
  EXPECT_EQ(mem.frames_resident(), 1u);
}

TEST(PhysicalMemory, FramePointerIsStableAndSharedWithReadWrite) {
  PhysicalMemory mem(48);
  auto f = mem.frame(0x5123);
  ASSERT_TRUE(f.has_value());
  std::uint8_t* p = *f;
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(mem.frames_resident(), 1u);
  for (std::size_t i = 0; i < 4096; ++i) ASSERT_EQ(p[i], 0u) << i;  // a new frame is zeroed

  // Writes through the pointer are visible to read, and the other way round.
  p[0x123] = 0x5A;
  p[0x124] = 0xA5;
  EXPECT_EQ(mem.read<std::uint16_t>(0x5123).value(), 0xA55Au);
  ASSERT_TRUE(mem.write<std::uint32_t>(0x5FFC, 0x11223344).has_value());
  EXPECT_EQ(p[0xFFC], 0x44u);
  EXPECT_EQ(p[0xFFF], 0x11u);
  EXPECT_EQ(mem.find_frame(0x5FFF), p);

  // Touch many other frames (far apart and adjacent) so every internal index and cache moves.
  for (std::uint64_t i = 0; i < 300; ++i) {
    ASSERT_TRUE(mem.write<std::uint8_t>(i * 0x1000 + (i << 30), 1).has_value());
    ASSERT_TRUE(mem.frame(0x6000 + i * 0x1000).has_value());
  }
  EXPECT_EQ(mem.frame(0x5000).value(), p);
  EXPECT_EQ(mem.frame(0x5FFF).value(), p);
  EXPECT_EQ(mem.find_frame(0x5800), p);
  EXPECT_EQ(mem.read<std::uint16_t>(0x5123).value(), 0xA55Au);
  p[0x200] = 0x99;
  EXPECT_EQ(mem.read<std::uint8_t>(0x5200).value(), 0x99u);
}

TEST(PhysicalMemory, FramesResidentAndBytesUsed) {
  PhysicalMemory mem(48);
  EXPECT_EQ(mem.frames_resident(), 0u);
  EXPECT_EQ(mem.bytes_used(), 0u);
  ASSERT_TRUE(mem.write<std::uint8_t>(0x10000, 1).has_value());
  EXPECT_EQ(mem.frames_resident(), 1u);
  const std::uint64_t one = mem.bytes_used();
  EXPECT_GT(one, 4096u);  // a frame plus its index

  // Rewriting the same frame or its neighbour in the same index node: exactly 4 KiB more.
  ASSERT_TRUE(mem.write<std::uint64_t>(0x10FF8, 2).has_value());
  EXPECT_EQ(mem.bytes_used(), one);
  ASSERT_TRUE(mem.write<std::uint8_t>(0x11000, 1).has_value());
  EXPECT_EQ(mem.frames_resident(), 2u);
  EXPECT_EQ(mem.bytes_used(), one + 4096);
  ASSERT_TRUE(mem.frame(0x12000).has_value());
  EXPECT_EQ(mem.frames_resident(), 3u);
  EXPECT_EQ(mem.bytes_used(), one + 2 * 4096);

  // A far-away frame needs new index nodes as well.
  ASSERT_TRUE(mem.write<std::uint8_t>(std::uint64_t{1} << 46, 1).has_value());
  EXPECT_EQ(mem.frames_resident(), 4u);
  EXPECT_GT(mem.bytes_used(), one + 3 * 4096);
}

TEST(PhysicalMemory, Fill) {
  PhysicalMemory mem(40);
  ASSERT_TRUE(mem.fill(0x1F00, 0x200, std::byte{0xAB}).has_value());
  EXPECT_EQ(mem.frames_resident(), 2u);
  EXPECT_EQ(bytes_at(mem, 0x1EFE, 4), (Bytes{0, 0, 0xAB, 0xAB}));
  EXPECT_EQ(bytes_at(mem, 0x20FE, 4), (Bytes{0xAB, 0xAB, 0, 0}));
  EXPECT_EQ(mem.read<std::uint64_t>(0x1FFC).value(), 0xABABABABABABABABu);

  // Zero fill of untouched memory allocates nothing; of resident memory it clears it.
  ASSERT_TRUE(mem.fill(0x10000, 0x10000, std::byte{0}).has_value());
  EXPECT_EQ(mem.frames_resident(), 2u);
  ASSERT_TRUE(mem.fill(0x1F80, 0x100, std::byte{0}).has_value());
  EXPECT_EQ(bytes_at(mem, 0x1F7F, 3), (Bytes{0xAB, 0, 0}));
  EXPECT_EQ(bytes_at(mem, 0x207F, 3), (Bytes{0, 0xAB, 0xAB}));
  EXPECT_EQ(mem.frames_resident(), 2u);
}

TEST(PhysicalMemory, MoveConstructionKeepsContentsAndFramePointers) {
  PhysicalMemory src(40);
  ASSERT_TRUE(src.write<std::uint64_t>(0x3000, 0x1234).has_value());
  std::uint8_t* p = src.frame(0x3000).value();
  PhysicalMemory dst(std::move(src));
  EXPECT_EQ(dst.address_width(), 40u);
  EXPECT_EQ(dst.frames_resident(), 1u);
  EXPECT_EQ(dst.read<std::uint64_t>(0x3000).value(), 0x1234u);
  EXPECT_EQ(dst.frame(0x3000).value(), p);
  p[8] = 0x77;
  EXPECT_EQ(dst.read<std::uint8_t>(0x3008).value(), 0x77u);

  // The moved-from object is empty and usable.
  EXPECT_EQ(src.frames_resident(), 0u);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(src.bytes_used(), 0u);
  EXPECT_EQ(src.find_frame(0x3000), nullptr);
  EXPECT_EQ(src.read<std::uint64_t>(0x3000).value(), 0u);
  ASSERT_TRUE(src.write<std::uint8_t>(0x3000, 9).has_value());
  EXPECT_EQ(src.read<std::uint8_t>(0x3000).value(), 9u);
  EXPECT_EQ(dst.read<std::uint8_t>(0x3000).value(), 0x34u);
}

TEST(PhysicalMemory, MoveAssignmentReplacesContents) {
  PhysicalMemory a(40);
  PhysicalMemory b(30);
  ASSERT_TRUE(a.write<std::uint32_t>(0x1000, 0xAAAA).has_value());
  ASSERT_TRUE(b.write<std::uint32_t>(0x2000, 0xBBBB).has_value());
  ASSERT_TRUE(b.write<std::uint32_t>(0x1000, 0xB1B1).has_value());
  std::uint8_t* pb = b.frame(0x2000).value();
  a = std::move(b);
  EXPECT_EQ(a.address_width(), 30u);
  EXPECT_EQ(a.limit(), std::uint64_t{1} << 30);
  EXPECT_EQ(a.frames_resident(), 2u);
  EXPECT_EQ(a.read<std::uint32_t>(0x1000).value(), 0xB1B1u);  // a's old frame is gone
  EXPECT_EQ(a.read<std::uint32_t>(0x2000).value(), 0xBBBBu);
  EXPECT_EQ(a.find_frame(0x2000), pb);
  EXPECT_EQ(b.frames_resident(), 0u);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.read<std::uint32_t>(0x2000).value(), 0u);
  PhysicalMemory& alias = a;
  a = std::move(alias);  // self-move leaves the object intact
  EXPECT_EQ(a.read<std::uint32_t>(0x2000).value(), 0xBBBBu);
}

}  // namespace
}  // namespace vtdsim::model
