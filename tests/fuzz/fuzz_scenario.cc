// Fuzz target: arbitrary bytes to the configuration readers: workload::parse_toml, ConfigTable
// (every getter on every key, so type and range errors are exercised), read_unit_config on the
// root table and on [unit], and workload::parse_scenario on the whole text.
// Invariants: each call gives a value or an Error with a non-empty message; errors about a
// file name the source; a UnitConfig that read_unit_config accepts passes validate(); never a
// crash, hang or sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_input.h"
#include "workload/config.h"
#include "workload/scenario.h"
#include "workload/unit_config_toml.h"

namespace {

using namespace vtdsim;
using workload::ConfigTable;
using workload::ConfigValue;

const std::string kSource = "fuzz.toml";

template <class E>
void check(const E& result, const char* what) {
  if (result) return;
  FUZZ_CHECK(!result.error().message.empty(), "%s: empty error message", what);
}

// Calls every getter on every key of a table, recursing into sub-tables (bounded depth).
void visit(ConfigTable& t, const ConfigValue& v, unsigned depth) {
  if (depth > 8) return;
  for (const auto& [key, child] : v.table) {
    check(t.get_uint(key, 0, 0, 1000), "get_uint");
    check(t.get_float(key, 0.5, -1.0, 1.0), "get_float");
    check(t.get_bool(key, false), "get_bool");
    check(t.get_string(key, ""), "get_string");
    check(t.get_choice(key, "a", {"a", "b"}), "get_choice");
    check(t.get_string_array(key), "get_string_array");
    check(t.get_uint_array(key, 0, 7), "get_uint_array");
    auto arr = t.get_table_array(key);
    check(arr, "get_table_array");
    if (arr && child.type == ConfigValue::Type::kArray) {
      for (std::size_t i = 0; i < arr->size() && i < child.array.size(); ++i) {
        visit((*arr)[i], child.array[i], depth + 1);
      }
    }
    auto sub = t.get_table(key);
    check(sub, "get_table");
    if (sub && *sub) visit(**sub, child, depth + 1);
  }
  check(t.finish(), "finish");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return 0;  // parse time grows with size; small files find the bugs
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto root = workload::parse_toml(text, kSource);
  if (!root) {
    FUZZ_CHECK(!root.error().message.empty(), "parse_toml: empty error message");
    FUZZ_CHECK(root.error().message.find(kSource) != std::string::npos,
               "parse_toml error \"%s\" does not name the source", root.error().message.c_str());
  } else {
    FUZZ_CHECK(root->type == ConfigValue::Type::kTable, "parse_toml root is not a table");
    {
      ConfigTable t(*root, kSource, "");
      visit(t, *root, 0);
    }
    {
      ConfigTable t(*root, kSource, "");
      auto unit = workload::read_unit_config(t);
      check(unit, "read_unit_config");
      if (unit)
        FUZZ_CHECK(unit->validate().has_value(), "read_unit_config accepted an invalid config");
    }
    {
      ConfigTable t(*root, kSource, "");
      auto sub = t.get_table("unit");
      if (sub && *sub) {
        auto unit = workload::read_unit_config(**sub);
        check(unit, "read_unit_config [unit]");
        if (unit) FUZZ_CHECK(unit->validate().has_value(), "[unit] accepted an invalid config");
      }
    }
  }
  auto scenario = workload::parse_scenario(text, kSource);
  check(scenario, "parse_scenario");
  if (!scenario) {
    FUZZ_CHECK(scenario.error().message.find(kSource) != std::string::npos,
               "parse_scenario error \"%s\" does not name the source",
               scenario.error().message.c_str());
  }
  return 0;
}
