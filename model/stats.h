// Statistics: plain counter structs that list their own fields (name, unit, description) so a
// report can print them as a text table or JSON, and so two snapshots can be subtracted
// (warm-up exclusion). Counters are plain members: no string lookups on the hot path.
//
// A stats struct S provides   static constexpr auto kFields = std::to_array<StatField<S>>({...});
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace vtdsim::model {

template <class S>
struct StatField {
  std::string_view name;
  std::string_view unit;
  std::string_view description;
  std::uint64_t S::*member;
};

// later - earlier, field by field (counters only grow, so this is the activity in between).
template <class S>
S stats_delta(const S& later, const S& earlier) {
  S out = later;
  for (const auto& f : S::kFields) out.*(f.member) = later.*(f.member) - earlier.*(f.member);
  return out;
}

// One flattened row of a report.
struct StatRow {
  std::string name;  // prefixed, e.g. "iotlb.lookups"
  std::string unit;
  std::string description;
  std::uint64_t value;
};

// Appends S's fields to rows, each name prefixed with "prefix." when prefix is not empty.
template <class S>
void append_stats(std::vector<StatRow>& rows, std::string_view prefix, const S& s) {
  for (const auto& f : S::kFields) {
    std::string name =
        prefix.empty() ? std::string(f.name) : std::string(prefix) + "." + std::string(f.name);
    rows.push_back(
        StatRow{std::move(name), std::string(f.unit), std::string(f.description), s.*(f.member)});
  }
}

// A text table: name, value, unit, description; columns aligned.
std::string format_stats_table(const std::vector<StatRow>& rows);
// A JSON object {name: value, ...}; with_meta adds {name: {value, unit, description}}.
nlohmann::json stats_to_json(const std::vector<StatRow>& rows, bool with_meta = false);

}  // namespace vtdsim::model
