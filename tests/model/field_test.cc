// Field / Entry / Layout: get and set on 64- to 512-bit entries, reserved-mask derivation,
// reserved_bits_set, and the compile-time layout checks (the failing cases are compile-fail
// ctests under tests/compile_fail/).
#include "model/field.h"

#include <cstdint>

#include <gtest/gtest.h>

namespace vtdsim::model {
namespace {

// VT-d §9.1 root entry (legacy mode): P bit 0, CTP 63:12, the upper qword reserved.
namespace root_entry {
using P = Field<0, 0>;
using CTP = Field<63, 12>;
using Layout = model::Layout<2, P, CTP>;
static_assert(model::valid_layout<Layout>());
}  // namespace root_entry

// VT-d §9.3 context entry (legacy mode): P 0, FPD 1, TT 3:2, SLPTPTR 63:12, AW 66:64,
// AVAIL 70:67, DID 87:72.
namespace context_entry {
using P = Field<0, 0>;
using FPD = Field<1, 1>;
using TT = Field<3, 2>;
using SLPTPTR = Field<63, 12>;
using AW = Field<66, 64>;
using AVAIL = Field<70, 67>;
using DID = Field<87, 72>;
using Layout = model::Layout<2, P, FPD, TT, SLPTPTR, AW, AVAIL, DID>;
static_assert(model::valid_layout<Layout>());
}  // namespace context_entry

// Compile-time properties of the descriptors themselves.
static_assert(Field<7, 0>::kWidth == 8 && Field<7, 0>::kMask == 0xFF && Field<7, 0>::kMax == 0xFF);
static_assert(Field<63, 0>::kWidth == 64 && Field<63, 0>::kMask == ~std::uint64_t{0});
static_assert(Field<63, 63>::kMask == std::uint64_t{1} << 63);
static_assert(Field<87, 72>::kWord == 1 && Field<87, 72>::kShift == 8 &&
              Field<87, 72>::kMask == 0xFFFF00 && Field<87, 72>::kMax == 0xFFFF);
static_assert(Field<511, 448>::kWord == 7 && Field<511, 448>::kShift == 0);
// Layout checks that are false must be usable in constant expressions (and so in static_assert).
static_assert(!Layout<1, Field<3, 0>, Field<4, 3>>::no_overlap());
static_assert(!model::valid_layout<Layout<1, Field<3, 0>, Field<4, 3>>>());
static_assert(!model::valid_layout<Layout<2, Field<70, 64>, Field<64, 64>>>());
static_assert(!Layout<1, Field<64, 64>>::fits());
static_assert(!model::valid_layout<Layout<1, Field<3, 0>, Field<64, 64>>>());
static_assert(model::valid_layout<Layout<1, Field<63, 0>>>());
static_assert(model::valid_layout<Layout<8, Field<0, 0>, Field<511, 511>>>());

TEST(Field, GetSetRawOnOneWord) {
  using Lo = Field<7, 0>;
  using Mid = Field<23, 12>;
  using Top = Field<63, 60>;
  using Whole = Field<63, 0>;
  const std::uint64_t w = 0xF123456789ABCDEF;
  EXPECT_EQ(Lo::get(w), 0xEFu);
  EXPECT_EQ(Mid::get(w), 0xABCu);
  EXPECT_EQ(Top::get(w), 0xFu);
  EXPECT_EQ(Whole::get(w), w);
  EXPECT_EQ(Mid::raw(w), 0xABC000u);
  EXPECT_EQ(Mid::set(w, 0x123), 0xF123456789123DEFu);
  EXPECT_EQ(Mid::set(w, 0xFFFF123), 0xF123456789123DEFu);  // truncated to 12 bits
  EXPECT_EQ(Top::set(0, 0x1F), 0xF000000000000000u);
  EXPECT_EQ(Whole::set(w, 7), 7u);
  EXPECT_EQ(Lo::set(~std::uint64_t{0}, 0), 0xFFFFFFFFFFFFFF00u);
}

TEST(Entry, GetSetOn64BitEntry) {
  using P = Field<0, 0>;
  using Addr = Field<63, 12>;
  Entry64 e;
  e.set<P>(1);
  e.set<Addr>(0xABCDE);
  EXPECT_EQ(e.q[0], 0xABCDE001u);
  EXPECT_EQ(e.get<Addr>(), 0xABCDEu);
  EXPECT_EQ(e.raw<Addr>(), 0xABCDE000u);
  EXPECT_EQ(e.get<P>(), 1u);
  e.set<P>(0);
  EXPECT_EQ(e.q[0], 0xABCDE000u);
}

TEST(Entry, GetSetOn128BitContextEntry) {
  using namespace context_entry;
  Entry128 e;
  e.set<P>(1);
  e.set<FPD>(1);
  e.set<TT>(2);
  e.set<SLPTPTR>(0x12345);
  e.set<AW>(2);
  e.set<DID>(0xBEEF);
  EXPECT_EQ(e.q[0], 0x12345000u | 0x8u | 0x2u | 0x1u);
  EXPECT_EQ(e.q[1], 0xBEEF00u | 0x2u);
  EXPECT_EQ(e.get<TT>(), 2u);
  EXPECT_EQ(e.get<AW>(), 2u);
  EXPECT_EQ(e.get<DID>(), 0xBEEFu);
  EXPECT_EQ(e.get<AVAIL>(), 0u);
  EXPECT_EQ(e.raw<SLPTPTR>(), 0x12345000u);
  e.set<DID>(0x10001);  // 16-bit field: the carry is dropped, AW untouched
  EXPECT_EQ(e.get<DID>(), 1u);
  EXPECT_EQ(e.get<AW>(), 2u);
  EXPECT_FALSE(context_entry::Layout::reserved_bits_set(e));
}

TEST(Entry, GetSetOn256And512BitEntries) {
  using A = Field<191, 128>;  // qword 2
  using B = Field<255, 252>;  // top nibble of qword 3
  Entry256 e;
  e.set<A>(0x0123456789ABCDEF);
  e.set<B>(0xA);
  EXPECT_EQ(e.q[0], 0u);
  EXPECT_EQ(e.q[1], 0u);
  EXPECT_EQ(e.q[2], 0x0123456789ABCDEFu);
  EXPECT_EQ(e.q[3], 0xA000000000000000u);
  EXPECT_EQ(e.get<A>(), 0x0123456789ABCDEFu);
  EXPECT_EQ(e.get<B>(), 0xAu);

  using C = Field<399, 384>;  // qword 6, bits 15:0
  using D = Field<511, 504>;  // qword 7, bits 63:56
  Entry512 f;
  f.set<C>(0xFFFF1);
  f.set<D>(0x5A);
  EXPECT_EQ(f.q[6], 0xFFF1u);
  EXPECT_EQ(f.q[7], 0x5A00000000000000u);
  EXPECT_EQ(f.get<C>(), 0xFFF1u);
  EXPECT_EQ(f.get<D>(), 0x5Au);
  Entry512 g = f;
  EXPECT_EQ(f, g);
  g.set<D>(0x5B);
  EXPECT_NE(f, g);
}

TEST(Entry, ConstexprUse) {
  constexpr Entry128 e = [] {
    Entry128 x;
    x.set<context_entry::DID>(42);
    return x;
  }();
  static_assert(e.get<context_entry::DID>() == 42);
  static_assert(e.q[1] == 42u << 8);
  SUCCEED();
}

TEST(Layout, ReservedMaskIsTheComplementOfTheFields) {
  EXPECT_EQ(root_entry::Layout::kWords, 2u);
  EXPECT_EQ(root_entry::Layout::kReserved[0], 0xFFEu);
  EXPECT_EQ(root_entry::Layout::kReserved[1], ~std::uint64_t{0});
  EXPECT_EQ(context_entry::Layout::kReserved[0], 0xFF0u);
  EXPECT_EQ(context_entry::Layout::kReserved[1], ~std::uint64_t{0xFFFF7F});
  EXPECT_EQ(context_entry::Layout::defined()[1], 0xFFFF7Fu);
  using Full = Layout<1, Field<31, 0>, Field<63, 32>>;
  EXPECT_EQ(Full::kReserved[0], 0u);
  using Sparse = Layout<4, Field<5, 4>, Field<200, 192>>;
  EXPECT_EQ(Sparse::kReserved[0], ~std::uint64_t{0x30});
  EXPECT_EQ(Sparse::kReserved[1], ~std::uint64_t{0});
  EXPECT_EQ(Sparse::kReserved[2], ~std::uint64_t{0});
  EXPECT_EQ(Sparse::kReserved[3], ~std::uint64_t{0x1FF});
}

TEST(Layout, ReservedBitsSet) {
  using L = context_entry::Layout;
  Entry128 e;
  EXPECT_FALSE(L::reserved_bits_set(e));
  e.q[0] = 0xFFFFFFFFFFFFF00F;  // every defined bit of qword 0
  e.q[1] = 0xFFFF7F;            // every defined bit of qword 1
  EXPECT_FALSE(L::reserved_bits_set(e));
  for (unsigned bit : {4u, 11u}) {
    Entry128 r = e;
    r.q[0] |= std::uint64_t{1} << bit;
    EXPECT_TRUE(L::reserved_bits_set(r)) << "bit " << bit;
  }
  for (unsigned bit : {7u, 24u, 63u}) {  // bits 71, 88, 127
    Entry128 r = e;
    r.q[1] |= std::uint64_t{1} << bit;
    EXPECT_TRUE(L::reserved_bits_set(r)) << "bit " << 64 + bit;
  }
  Entry128 root;
  root.q[1] = 1;  // root entry: bit 64 is reserved
  EXPECT_TRUE(root_entry::Layout::reserved_bits_set(root));
}

}  // namespace
}  // namespace vtdsim::model
