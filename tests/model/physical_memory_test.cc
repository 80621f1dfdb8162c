#include "model/physical_memory.h"

#include <gtest/gtest.h>

namespace vtdsim::model {
namespace {

TEST(PhysicalMemory, UntouchedReadsZeroWithoutAllocating) {
  PhysicalMemory mem(40);
  EXPECT_EQ(mem.read<std::uint64_t>(0x1000).value(), 0u);
  EXPECT_EQ(mem.frames_resident(), 0u);
}

}  // namespace
}  // namespace vtdsim::model
