// Rendering of field tables (tools/format_table.h).
#include "tools/format_table.h"

#include <fmt/format.h>

namespace vtdsim::tools {

std::string bit_ranges(const Words& mask, unsigned words) {
  std::string out;
  const unsigned total = words * 64;
  unsigned bit = total;
  while (bit > 0) {
    --bit;
    if (((mask[bit / 64] >> (bit % 64)) & 1u) == 0) continue;
    const unsigned hi = bit;
    while (bit > 0 && ((mask[(bit - 1) / 64] >> ((bit - 1) % 64)) & 1u) != 0) --bit;
    if (!out.empty()) out += ", ";
    out += hi == bit ? fmt::format("{}", hi) : fmt::format("{}:{}", hi, bit);
  }
  return out;
}

std::vector<std::string> format_warnings(const Format& f, const Words& q) {
  std::vector<std::string> warnings;
  Words set{};
  bool any = false;
  for (unsigned i = 0; i < f.words(); ++i) {
    std::uint64_t reserved = f.reserved[i];
    if (f.bits == 32) reserved &= 0xFFFF'FFFFu;
    set[i] = q[i] & reserved;
    any = any || set[i] != 0;
  }
  if (any) warnings.push_back(fmt::format("reserved bits set: {}", bit_ranges(set, f.words())));
  if (f.extra != nullptr) f.extra(q, warnings);
  return warnings;
}

namespace {

std::string value_text(const FieldRow& r, std::uint64_t v) {
  const unsigned width = r.hi - r.lo + 1;
  switch (r.show) {
    case Show::kFlag:
    case Show::kNumber:
      return fmt::format("{}", v);
    case Show::kHex:
      return fmt::format("{:#x}", v);
    case Show::kAddress:
      return fmt::format("{:#x}", v << (r.lo % 64));
    case Show::kEnum:
      return fmt::format("{:#0{}b}", v, width + 2);
  }
  return "?";
}

}  // namespace

std::string render_field(const FieldRow& r, const Words& q) {
  const std::uint64_t v = field_value(r, q);
  const std::string bits =
      r.hi == r.lo ? fmt::format("{}", r.hi) : fmt::format("{}:{}", r.hi, r.lo);
  std::string meaning(r.meaning);
  if (r.describe != nullptr) {
    const std::string d = r.describe(v);
    if (!d.empty()) meaning += meaning.empty() ? d : " — " + d;
  }
  return fmt::format("{:>7}  {:<12} {:<20} {}", bits, r.name, value_text(r, v), meaning);
}

std::string render(const Format& f, const Words& q, std::string_view indent) {
  std::string out = fmt::format("{}{} ({}-bit, spec {})\n", indent, f.title, f.bits, f.spec);
  out += fmt::format("{}  raw:", indent);
  for (unsigned i = 0; i < f.words(); ++i) {
    out += f.bits == 32 ? fmt::format(" {:#010x}", q[i] & 0xFFFF'FFFFu)
                        : fmt::format(" q{}={:#018x}", i, q[i]);
  }
  out += "\n";
  for (const auto& r : f.rows) out += fmt::format("{}  {}\n", indent, render_field(r, q));
  for (const auto& w : format_warnings(f, q)) {
    const bool note = w.starts_with("note: ");
    out += fmt::format("{}  {}{}\n", indent, note ? "" : "warning: ", w);
  }
  return out;
}

}  // namespace vtdsim::tools
