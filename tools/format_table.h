// Field tables for `vtdsim decode` and `vtdsim explain`: one row per spec field, built from the
// model::Field descriptors of the hardware formats (iommu/, irq_remap/) so that each name sits
// next to the Field it describes, plus a renderer that prints a raw value field by field with
// the spec meaning and warns about reserved bits that are set.
// Not modelled: nothing is decoded that the model's own format tables do not define.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vtdsim::tools {

// How a field's value is shown.
enum class Show : std::uint8_t {
  kFlag,     // 0 / 1
  kNumber,   // decimal
  kHex,      // 0x..., right-aligned value
  kAddress,  // the field's bits kept in place (an address or pointer field)
  kEnum,     // binary code plus the describe() text
};

// Text for one value of a field ("legacy", "2 MiB page", ...); null for none.
using Describe = std::string (*)(std::uint64_t value);

struct FieldRow {
  std::string_view name;
  unsigned hi = 0;  // absolute bit numbers, as the spec numbers them
  unsigned lo = 0;
  Show show = Show::kHex;
  std::string_view meaning;
  Describe describe = nullptr;
};

// A row for model::Field F; the name is the Field's spec spelling (see VTDSIM_ROW).
template <class F>
constexpr FieldRow row(std::string_view name, Show show, std::string_view meaning,
                       Describe describe = nullptr) {
  return FieldRow{name, F::kHi, F::kLo, show, meaning, describe};
}
// VTDSIM_ROW(ns, F, show, meaning[, describe]): the row of ns::F named "F".
#define VTDSIM_ROW(ns, F, ...) ::vtdsim::tools::row<ns::F>(#F, ::vtdsim::tools::Show::__VA_ARGS__)

// Words of a decoded value, qword 0 first (a 32-bit register occupies the low half of q[0]).
using Words = std::array<std::uint64_t, 8>;

// Format-specific checks beyond the reserved mask (reserved encodings, conditional fields).
using ExtraCheck = void (*)(const Words& q, std::vector<std::string>& warnings);

struct Format {
  std::string_view title;  // "legacy context entry"
  std::string_view spec;   // "§9.3"
  unsigned bits = 64;      // 32, 64, 128, 256, 512
  std::span<const FieldRow> rows;
  Words reserved{};  // per qword, from the format's model::Layout
  ExtraCheck extra = nullptr;
  unsigned words() const { return bits <= 64 ? 1u : bits / 64; }
};

// Value of a row in q.
constexpr std::uint64_t field_value(const FieldRow& r, const Words& q) {
  const unsigned width = r.hi - r.lo + 1;
  const std::uint64_t mask = width == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
  return (q[r.lo / 64] >> (r.lo % 64)) & mask;
}

// Bits the rows cover, per qword (compared with Layout::defined() at compile time).
template <std::size_t N>
constexpr Words rows_mask(const std::array<FieldRow, N>& rows) {
  Words m{};
  for (const auto& r : rows) {
    const unsigned width = r.hi - r.lo + 1;
    const std::uint64_t mask = width == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
    m[r.lo / 64] |= mask << (r.lo % 64);
  }
  return m;
}
// True when the rows name exactly the fields of Layout (no field left unnamed, none invented).
template <class Layout, std::size_t N>
constexpr bool rows_cover_layout(const std::array<FieldRow, N>& rows) {
  const Words m = rows_mask(rows);
  const auto defined = Layout::defined();
  for (std::size_t i = 0; i < Layout::kWords; ++i) {
    if (m[i] != defined[i]) return false;
  }
  for (std::size_t i = Layout::kWords; i < m.size(); ++i) {
    if (m[i] != 0) return false;
  }
  return true;
}
template <class Layout>
constexpr Words reserved_of() {
  Words w{};
  for (std::size_t i = 0; i < Layout::kWords; ++i) w[i] = Layout::kReserved[i];
  return w;
}

// Warnings for q under f: reserved bits set (as absolute bit ranges) and f.extra's findings.
std::vector<std::string> format_warnings(const Format& f, const Words& q);

// Prints one value: a header line, the raw qwords, one line per field (bits, name, value,
// meaning), and the warnings. `indent` prefixes every line.
std::string render(const Format& f, const Words& q, std::string_view indent = "  ");

// One field line as render() prints it (for explain's compact views).
std::string render_field(const FieldRow& r, const Words& q);

// "11:4, 71, 127:88": the set bits of a mask as ranges of absolute bit numbers.
std::string bit_ranges(const Words& mask, unsigned words);

}  // namespace vtdsim::tools
