#include "model/stats.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace vtdsim::model {

std::string format_stats_table(const std::vector<StatRow>& rows) {
  std::size_t name_w = 4;
  std::size_t value_w = 5;
  std::size_t unit_w = 4;
  for (const auto& r : rows) {
    name_w = std::max(name_w, r.name.size());
    value_w = std::max(value_w, fmt::formatted_size("{}", r.value));
    unit_w = std::max(unit_w, r.unit.size());
  }
  std::string out = fmt::format("{:<{}}  {:>{}}  {:<{}}  {}\n", "name", name_w, "value", value_w,
                                "unit", unit_w, "description");
  for (const auto& r : rows) {
    out += fmt::format("{:<{}}  {:>{}}  {:<{}}  {}\n", r.name, name_w, r.value, value_w, r.unit,
                       unit_w, r.description);
  }
  return out;
}

nlohmann::json stats_to_json(const std::vector<StatRow>& rows, bool with_meta) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& r : rows) {
    if (with_meta) {
      j[r.name] = {{"value", r.value}, {"unit", r.unit}, {"description", r.description}};
    } else {
      j[r.name] = r.value;
    }
  }
  return j;
}

}  // namespace vtdsim::model
