// Helpers shared by the DMA and MSI halves of `vtdsim explain`: page-size text and the
// listing of a stats delta (the counters a request moved, with their perfmon names).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace vtdsim::tools {

inline std::string page_size_text(std::uint64_t size) {
  if (size >= (std::uint64_t{1} << 30) && size % (std::uint64_t{1} << 30) == 0) {
    return fmt::format("{} GiB", size >> 30);
  }
  if (size >= (std::uint64_t{1} << 20) && size % (std::uint64_t{1} << 20) == 0) {
    return fmt::format("{} MiB", size >> 20);
  }
  return fmt::format("{} KiB", size >> 10);
}

// One line per non-zero counter of s: name, value, description.
template <class S>
std::string counter_lines(const S& s, std::string_view indent) {
  std::string out;
  for (const auto& f : S::kFields) {
    const std::uint64_t v = s.*(f.member);
    if (v == 0) continue;
    out += fmt::format("{}{:<22} {:>6}  {}\n", indent, f.name, v, f.description);
  }
  if (out.empty()) out = fmt::format("{}(none)\n", indent);
  return out;
}

}  // namespace vtdsim::tools
