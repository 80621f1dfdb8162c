// Configuration files: TOML parsed into a small tree of our own (toml++ is included by
// config.cc only), and ConfigTable, a reader that checks types and ranges and reports every
// unknown key. Every error names the file, line and dotted key path.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/error.h"

namespace vtdsim::workload {

struct ConfigValue {
  ConfigValue() = default;  // declared so clang accepts the recursive member types
  enum class Type : std::uint8_t { kTable, kArray, kInteger, kFloat, kBool, kString };
  Type type = Type::kTable;
  std::int64_t integer = 0;
  double real = 0.0;
  bool boolean = false;
  std::string string;
  std::vector<std::pair<std::string, ConfigValue>> table;  // in file order
  std::vector<ConfigValue> array;
  std::uint32_t line = 0;
};

std::string_view to_string(ConfigValue::Type type);

// `source` names the text in messages (a file path or "<embedded>").
Expected<ConfigValue> parse_toml(std::string_view text, const std::string& source);
Expected<ConfigValue> load_toml(const std::string& path);

// A table being read. Each get_* marks its key used; finish() reports keys never read.
class ConfigTable {
 public:
  ConfigTable(const ConfigValue& table, std::string source, std::string path);

  const std::string& path() const { return path_; }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // "file:line: key.path" for messages about this table or one of its keys.
  std::string where(std::string_view key = {}) const;

  Expected<std::uint64_t> get_uint(std::string_view key, std::uint64_t fallback, std::uint64_t min,
                                   std::uint64_t max);
  Expected<double> get_float(std::string_view key, double fallback, double min, double max);
  Expected<bool> get_bool(std::string_view key, bool fallback);
  Expected<std::string> get_string(std::string_view key, std::string fallback);
  // A string that must be one of `choices`.
  Expected<std::string> get_choice(std::string_view key, std::string fallback,
                                   const std::vector<std::string_view>& choices);
  // A sub-table (nullopt when absent).
  Expected<std::optional<ConfigTable>> get_table(std::string_view key);
  // An array of tables ([[key]] in TOML); empty when absent.
  Expected<std::vector<ConfigTable>> get_table_array(std::string_view key);
  // An array of strings; empty when absent.
  Expected<std::vector<std::string>> get_string_array(std::string_view key);

  // An array of integers each in [min, max]; empty when absent.
  Expected<std::vector<std::uint64_t>> get_uint_array(std::string_view key, std::uint64_t min,
                                                      std::uint64_t max);

  // Error for the first key of this table that no get_* asked for.
  Status finish() const;

 private:
  const ConfigValue* find(std::string_view key) const;
  const ConfigValue* fetch(std::string_view key);
  tl::unexpected<Error> type_error(std::string_view key, const ConfigValue& v,
                                   std::string_view wanted) const;

  const ConfigValue* table_;
  std::string source_;
  std::string path_;
  std::set<std::string, std::less<>> used_;
};

// Helpers for readers of many knobs: each reads one key into `field` (its current value is
// the default) and returns the error as a Status.
template <class T>
Status read_uint(ConfigTable& t, std::string_view key, T& field, std::uint64_t min,
                 std::uint64_t max) {
  auto v = t.get_uint(key, static_cast<std::uint64_t>(field), min, max);
  if (!v) return tl::unexpected(v.error());
  field = static_cast<T>(*v);
  return {};
}
Status read_float(ConfigTable& t, std::string_view key, double& field, double min, double max);
Status read_bool(ConfigTable& t, std::string_view key, bool& field);

// Returns the error of a Status/Expected expression from the enclosing function.
#define VTDSIM_TRY(expr)                                    \
  do {                                                      \
    if (auto vtdsim_st_ = (expr); !vtdsim_st_) {            \
      return tl::unexpected(std::move(vtdsim_st_).error()); \
    }                                                       \
  } while (false)

}  // namespace vtdsim::workload
