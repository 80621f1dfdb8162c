// Compile-fail cases for model/field.h, built by ctest with -fsyntax-only (tests/CMakeLists.txt).
// Without a VTDSIM_CF_* macro this file must compile (the control case); with one of them it
// must fail with the static_assert message that the test's PASS_REGULAR_EXPRESSION names.
#include "model/field.h"

#include <cstdint>

namespace cf {

using vtdsim::model::Entry;
using vtdsim::model::Field;
using vtdsim::model::Layout;
using vtdsim::model::valid_layout;

// Control: a correct 128-bit layout and a field access inside the entry.
using Good = Layout<2, Field<0, 0>, Field<63, 12>, Field<66, 64>, Field<87, 72>>;
static_assert(valid_layout<Good>(), "control layout must be valid");
constexpr std::uint64_t kDid = [] {
  Entry<2> e;
  e.set<Field<87, 72>>(7);
  return e.get<Field<87, 72>>();
}();
static_assert(kDid == 7, "control field access");

#if defined(VTDSIM_CF_OVERLAP)
// Bits 4:3 and 3:0 share bit 3.
using Overlap = Layout<1, Field<3, 0>, Field<4, 3>>;
static_assert(valid_layout<Overlap>(), "compile-fail: overlapping fields");
#endif

#if defined(VTDSIM_CF_OVERLAP_UPPER_WORD)
// The overlap is in the second qword (bits 70:64 and 64).
using OverlapHigh = Layout<2, Field<0, 0>, Field<70, 64>, Field<64, 64>>;
static_assert(valid_layout<OverlapHigh>(), "compile-fail: overlapping fields");
#endif

#if defined(VTDSIM_CF_BEYOND_LAYOUT)
// A 64-bit structure naming bit 64.
using TooWide = Layout<1, Field<3, 0>, Field<64, 64>>;
static_assert(valid_layout<TooWide>(), "compile-fail: field beyond the structure");
#endif

#if defined(VTDSIM_CF_HI_BELOW_LO)
constexpr unsigned kWidth = Field<3, 5>::kWidth;
#endif

#if defined(VTDSIM_CF_STRADDLE)
constexpr unsigned kWidth = Field<67, 60>::kWidth;
#endif

#if defined(VTDSIM_CF_BEYOND_ENTRY)
constexpr std::uint64_t kValue = Entry<1>{}.get<Field<70, 64>>();
#endif

}  // namespace cf
