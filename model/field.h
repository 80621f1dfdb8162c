// Bit-field descriptors for hardware formats: Field<hi, lo> over 64-bit words and multi-word
// entries (absolute bit numbers, bit 64 = bit 0 of the second qword, as the spec numbers them).
// A Layout lists a structure's fields, checks at compile time that none overlap, and derives
// the reserved-bits mask as the complement. No C bit-fields anywhere.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace vtdsim::model {

template <unsigned Hi, unsigned Lo>
struct Field {
  static_assert(Hi >= Lo, "Field<hi, lo>: hi must not be below lo");
  static_assert(Hi / 64 == Lo / 64, "a Field must not straddle two 64-bit words");
  static constexpr unsigned kHi = Hi;
  static constexpr unsigned kLo = Lo;
  static constexpr unsigned kWidth = Hi - Lo + 1;
  static constexpr unsigned kWord = Lo / 64;
  static constexpr unsigned kShift = Lo % 64;
  // Mask of the field's bits inside its word.
  static constexpr std::uint64_t kMask =
      (kWidth == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << kWidth) - 1)) << kShift;
  static constexpr std::uint64_t kMax = kMask >> kShift;

  // Value of the field in word w (w is the field's own word).
  static constexpr std::uint64_t get(std::uint64_t w) { return (w & kMask) >> kShift; }
  // w with the field replaced by v (v truncated to the field width).
  static constexpr std::uint64_t set(std::uint64_t w, std::uint64_t v) {
    return (w & ~kMask) | ((v << kShift) & kMask);
  }
  // The field's bits kept in place (e.g. an address field: bits 63:12 of the word).
  static constexpr std::uint64_t raw(std::uint64_t w) { return w & kMask; }
};

// A little-endian entry of N qwords (N = 1, 2, 4, 8 for 64/128/256/512-bit entries).
template <std::size_t N>
struct Entry {
  std::array<std::uint64_t, N> q{};

  template <class F>
  constexpr std::uint64_t get() const {
    static_assert(F::kWord < N, "field lies beyond this entry");
    return F::get(q[F::kWord]);
  }
  template <class F>
  constexpr void set(std::uint64_t v) {
    static_assert(F::kWord < N, "field lies beyond this entry");
    q[F::kWord] = F::set(q[F::kWord], v);
  }
  template <class F>
  constexpr std::uint64_t raw() const {
    static_assert(F::kWord < N, "field lies beyond this entry");
    return F::raw(q[F::kWord]);
  }
  friend constexpr bool operator==(const Entry&, const Entry&) = default;
};

using Entry64 = Entry<1>;
using Entry128 = Entry<2>;
using Entry256 = Entry<4>;
using Entry512 = Entry<8>;

// The fields of one structure of N qwords.
template <std::size_t N, class... Fields>
struct Layout {
  static constexpr std::size_t kWords = N;

  static constexpr bool fits() { return ((Fields::kWord < N) && ...); }
  static constexpr bool no_overlap() {
    std::array<std::uint64_t, N> seen{};
    bool ok = true;
    (
        [&] {
          if (Fields::kWord >= N) {
            ok = false;
            return;
          }
          if ((seen[Fields::kWord] & Fields::kMask) != 0) ok = false;
          seen[Fields::kWord] |= Fields::kMask;
        }(),
        ...);
    return ok;
  }
  // Bits covered by some field, per word.
  static constexpr std::array<std::uint64_t, N> defined() {
    std::array<std::uint64_t, N> m{};
    ((m[Fields::kWord % N] |= Fields::kMask), ...);
    return m;
  }
  // Reserved bits: every bit no field names.
  static constexpr std::array<std::uint64_t, N> reserved() {
    std::array<std::uint64_t, N> m = defined();
    for (auto& w : m) w = ~w;
    return m;
  }
  static constexpr std::array<std::uint64_t, N> kReserved = reserved();

  // True when any reserved bit of e is set.
  static constexpr bool reserved_bits_set(const Entry<N>& e) {
    for (std::size_t i = 0; i < N; ++i) {
      if ((e.q[i] & kReserved[i]) != 0) return true;
    }
    return false;
  }

  static_assert(sizeof...(Fields) > 0, "a Layout needs at least one field");
};

// Compile-time check helper for a format's layout: usage
//   static_assert(model::valid_layout<context_entry::Layout>());
template <class L>
constexpr bool valid_layout() {
  return L::fits() && L::no_overlap();
}

}  // namespace vtdsim::model
