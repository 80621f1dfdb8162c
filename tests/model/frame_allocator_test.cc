// FrameAllocator: zeroed and aligned frames, exhaustion, free errors and reuse.
#include "model/frame_allocator.h"

#include <cstdint>
#include <limits>
#include <stdexcept>

#include <gtest/gtest.h>

namespace vtdsim::model {
namespace {

constexpr std::uint64_t kPage = 4096;

TEST(FrameAllocator, ConstructorRejectsBadRegions) {
  PhysicalMemory mem(32);
  EXPECT_THROW(FrameAllocator(mem, 0x1001, 4 * kPage), std::invalid_argument);
  EXPECT_THROW(FrameAllocator(mem, 0x1000, 4 * kPage + 1), std::invalid_argument);
  EXPECT_THROW(FrameAllocator(mem, 0x1000, 0), std::invalid_argument);
  EXPECT_THROW(FrameAllocator(mem, 0xFFFFF000, 2 * kPage), std::invalid_argument);
  FrameAllocator ok(mem, 0xFFFFE000, 2 * kPage);
  EXPECT_EQ(ok.base(), 0xFFFFE000u);
  EXPECT_EQ(ok.size(), 2 * kPage);
  EXPECT_EQ(ok.pages_free(), 2u);
  EXPECT_EQ(ok.pages_used(), 0u);
}

TEST(FrameAllocator, HandsOutDistinctFramesInOrderAndCounts) {
  PhysicalMemory mem(32);
  FrameAllocator alloc(mem, 0x100000, 4 * kPage);
  EXPECT_EQ(alloc.allocate().value(), 0x100000u);
  EXPECT_EQ(alloc.allocate().value(), 0x101000u);
  EXPECT_EQ(alloc.allocate(2).value(), 0x102000u);
  EXPECT_EQ(alloc.pages_used(), 4u);
  EXPECT_EQ(alloc.pages_free(), 0u);
}

TEST(FrameAllocator, FramesAreZeroedIncludingReusedOnes) {
  PhysicalMemory mem(32);
  // Dirty the region before the allocator hands it out.
  ASSERT_TRUE(mem.fill(0x10000, 2 * kPage, std::byte{0xEE}).has_value());
  FrameAllocator alloc(mem, 0x10000, 2 * kPage);
  const std::uint64_t a = alloc.allocate().value();
  const std::uint64_t b = alloc.allocate().value();
  EXPECT_EQ(a, 0x10000u);
  EXPECT_EQ(b, 0x11000u);
  for (std::uint64_t off = 0; off < kPage; off += 8) {
    ASSERT_EQ(mem.read<std::uint64_t>(a + off).value(), 0u) << off;
    ASSERT_EQ(mem.read<std::uint64_t>(b + off).value(), 0u) << off;
  }
  ASSERT_TRUE(mem.fill(a, kPage, std::byte{0x5A}).has_value());
  ASSERT_TRUE(alloc.free(a).has_value());
  EXPECT_EQ(mem.read<std::uint64_t>(a).value(), 0x5A5A5A5A5A5A5A5Au);  // free does not scrub
  const std::uint64_t again = alloc.allocate().value();
  EXPECT_EQ(again, a);
  for (std::uint64_t off = 0; off < kPage; off += 8) {
    ASSERT_EQ(mem.read<std::uint64_t>(again + off).value(), 0u) << off;
  }
}

TEST(FrameAllocator, MultiPageRunsAreAligned) {
  PhysicalMemory mem(32);
  // The region starts at frame 1, so aligned runs must skip its first frames.
  FrameAllocator alloc(mem, 0x1000, 32 * kPage);
  const std::uint64_t four = alloc.allocate(4, 4).value();
  EXPECT_EQ(four, 0x4000u);
  const std::uint64_t single = alloc.allocate(1, 1).value();
  EXPECT_EQ(single, 0x8000u);  // the search continues after the last allocation
  const std::uint64_t eight = alloc.allocate(8, 8).value();
  EXPECT_EQ(eight, 0x10000u);
  const std::uint64_t two = alloc.allocate(2, 2).value();
  EXPECT_EQ(two, 0x2000u);  // the first 2-aligned free pair
  const std::uint64_t unaligned_run = alloc.allocate(3).value();
  EXPECT_EQ(unaligned_run, 0x9000u);
  EXPECT_EQ(alloc.pages_used(), 18u);
  // A 16-page run aligned to 16 pages: 0x10000 is taken, 0x20000 would end past the region.
  auto big = alloc.allocate(16, 16);
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code, ErrorCode::kExhausted);
  // Alignment larger than the whole address space: nothing fits, no overflow.
  auto huge = alloc.allocate(1, std::uint64_t{1} << 63);
  ASSERT_FALSE(huge.has_value());
  EXPECT_EQ(huge.error().code, ErrorCode::kExhausted);
  EXPECT_EQ(alloc.pages_used(), 18u);
}

TEST(FrameAllocator, InvalidAllocateArguments) {
  PhysicalMemory mem(32);
  FrameAllocator alloc(mem, 0, 8 * kPage);
  EXPECT_EQ(alloc.allocate(0).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(alloc.allocate(1, 0).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(alloc.allocate(1, 3).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(alloc.pages_used(), 0u);
}

TEST(FrameAllocator, ExhaustionIsAnError) {
  PhysicalMemory mem(32);
  FrameAllocator alloc(mem, 0x40000, 4 * kPage);
  auto too_big = alloc.allocate(5);
  ASSERT_FALSE(too_big.has_value());
  EXPECT_EQ(too_big.error().code, ErrorCode::kExhausted);
  EXPECT_EQ(alloc.allocate(std::numeric_limits<std::uint64_t>::max()).error().code,
            ErrorCode::kExhausted);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(alloc.allocate().has_value()) << i;
  auto none = alloc.allocate();
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, ErrorCode::kExhausted);
  EXPECT_NE(none.error().message.find("0 of 4 pages free"), std::string::npos)
      << none.error().message;

  // Two free frames that are not adjacent do not make a 2-page run.
  ASSERT_TRUE(alloc.free(0x41000).has_value());
  ASSERT_TRUE(alloc.free(0x43000).has_value());
  EXPECT_EQ(alloc.pages_free(), 2u);
  EXPECT_EQ(alloc.allocate(2).error().code, ErrorCode::kExhausted);
  EXPECT_EQ(alloc.pages_free(), 2u);
}

TEST(FrameAllocator, DoubleFreeAndBadFreeAreErrors) {
  PhysicalMemory mem(32);
  FrameAllocator alloc(mem, 0x40000, 8 * kPage);
  const std::uint64_t a = alloc.allocate(2).value();
  ASSERT_EQ(a, 0x40000u);
  ASSERT_TRUE(alloc.free(a + kPage).has_value());  // free half of a run
  auto twice = alloc.free(a + kPage);
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(twice.error().message.find("0x41000"), std::string::npos) << twice.error().message;
  // A run that is only partly allocated is rejected as a whole and changes nothing.
  EXPECT_EQ(alloc.free(a, 2).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(alloc.pages_used(), 1u);

  EXPECT_EQ(alloc.free(a + 1).error().code, ErrorCode::kInvalidArgument);       // unaligned
  EXPECT_EQ(alloc.free(0x3F000).error().code, ErrorCode::kInvalidArgument);     // below
  EXPECT_EQ(alloc.free(0x48000).error().code, ErrorCode::kInvalidArgument);     // past the end
  EXPECT_EQ(alloc.free(0x47000, 2).error().code, ErrorCode::kInvalidArgument);  // runs past
  EXPECT_EQ(alloc.free(a, 0).error().code, ErrorCode::kInvalidArgument);        // no pages
  // A page count that wraps the index arithmetic is rejected, not taken as a tiny run.
  EXPECT_EQ(alloc.free(a, ~std::uint64_t{0}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(alloc.free(a + kPage, ~std::uint64_t{0}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(alloc.free(0x40000 + (std::uint64_t{1} << 40)).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(alloc.pages_used(), 1u);
  ASSERT_TRUE(alloc.free(a).has_value());
  EXPECT_EQ(alloc.pages_used(), 0u);
  EXPECT_EQ(alloc.pages_free(), 8u);
}

TEST(FrameAllocator, ReuseAfterFree) {
  PhysicalMemory mem(32);
  FrameAllocator alloc(mem, 0x80000, 4 * kPage);
  for (std::uint64_t i = 0; i < 4; ++i) ASSERT_EQ(alloc.allocate().value(), 0x80000 + i * kPage);
  ASSERT_TRUE(alloc.free(0x82000).has_value());
  EXPECT_EQ(alloc.allocate().value(), 0x82000u);
  ASSERT_TRUE(alloc.free(0x80000).has_value());
  ASSERT_TRUE(alloc.free(0x81000).has_value());
  EXPECT_EQ(alloc.allocate(2).value(), 0x80000u);
  EXPECT_EQ(alloc.pages_free(), 0u);
  EXPECT_EQ(alloc.allocate().error().code, ErrorCode::kExhausted);
}

}  // namespace
}  // namespace vtdsim::model
