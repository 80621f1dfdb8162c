#include "workload/config.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace vtdsim::workload {

std::string_view to_string(ConfigValue::Type type) {
  switch (type) {
    case ConfigValue::Type::kTable:
      return "a table";
    case ConfigValue::Type::kArray:
      return "an array";
    case ConfigValue::Type::kInteger:
      return "an integer";
    case ConfigValue::Type::kFloat:
      return "a float";
    case ConfigValue::Type::kBool:
      return "a boolean";
    case ConfigValue::Type::kString:
      return "a string";
  }
  return "?";
}

namespace {

Expected<ConfigValue> convert(const toml::node& node, const std::string& source) {
  ConfigValue v;
  v.line = node.source().begin.line;
  if (const auto* t = node.as_table()) {
    v.type = ConfigValue::Type::kTable;
    for (const auto& [key, child] : *t) {
      auto c = convert(child, source);
      if (!c) return c;
      v.table.emplace_back(std::string(key.str()), std::move(*c));
    }
  } else if (const auto* a = node.as_array()) {
    v.type = ConfigValue::Type::kArray;
    for (const auto& child : *a) {
      auto c = convert(child, source);
      if (!c) return c;
      v.array.push_back(std::move(*c));
    }
  } else if (const auto* i = node.as_integer()) {
    v.type = ConfigValue::Type::kInteger;
    v.integer = i->get();
  } else if (const auto* f = node.as_floating_point()) {
    v.type = ConfigValue::Type::kFloat;
    v.real = f->get();
  } else if (const auto* b = node.as_boolean()) {
    v.type = ConfigValue::Type::kBool;
    v.boolean = b->get();
  } else if (const auto* s = node.as_string()) {
    v.type = ConfigValue::Type::kString;
    v.string = s->get();
  } else {
    return make_error(
        ErrorCode::kParse,
        fmt::format("{}:{}: dates and times are not used in vtdsim files", source, v.line));
  }
  return v;
}

}  // namespace

Expected<ConfigValue> parse_toml(std::string_view text, const std::string& source) {
  try {
    const toml::table root = toml::parse(text, source);
    return convert(root, source);
  } catch (const toml::parse_error& e) {
    return make_error(ErrorCode::kParse, fmt::format("{}:{}:{}: {}", source, e.source().begin.line,
                                                     e.source().begin.column, e.description()));
  }
}

Expected<ConfigValue> load_toml(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kIo, fmt::format("{}: cannot open", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_toml(ss.str(), path);
}

ConfigTable::ConfigTable(const ConfigValue& table, std::string source, std::string path)
    : table_(&table), source_(std::move(source)), path_(std::move(path)) {}

std::string ConfigTable::where(std::string_view key) const {
  const ConfigValue* v = key.empty() ? table_ : find(key);
  const std::uint32_t line = v != nullptr ? v->line : table_->line;
  std::string full = path_;
  if (!key.empty()) full = full.empty() ? std::string(key) : full + "." + std::string(key);
  if (full.empty()) full = "(top level)";
  return fmt::format("{}:{}: {}", source_, line, full);
}

const ConfigValue* ConfigTable::find(std::string_view key) const {
  for (const auto& [k, v] : table_->table) {
    if (k == key) return &v;
  }
  return nullptr;
}

const ConfigValue* ConfigTable::fetch(std::string_view key) {
  used_.emplace(key);
  return find(key);
}

tl::unexpected<Error> ConfigTable::type_error(std::string_view key, const ConfigValue& v,
                                              std::string_view wanted) const {
  return make_error(ErrorCode::kParse,
                    fmt::format("{}: expected {}, got {}", where(key), wanted, to_string(v.type)));
}

Expected<std::uint64_t> ConfigTable::get_uint(std::string_view key, std::uint64_t fallback,
                                              std::uint64_t min, std::uint64_t max) {
  const ConfigValue* v = fetch(key);
  if (v == nullptr) return fallback;
  if (v->type != ConfigValue::Type::kInteger) return type_error(key, *v, "an integer");
  if (v->integer < 0 || static_cast<std::uint64_t>(v->integer) < min ||
      static_cast<std::uint64_t>(v->integer) > max) {
    return make_error(ErrorCode::kParse,
                      fmt::format("{}: {} is outside [{}, {}]", where(key), v->integer, min, max));
  }
  return static_cast<std::uint64_t>(v->integer);
}

Expected<double> ConfigTable::get_float(std::string_view key, double fallback, double min,
                                        double max) {
  const ConfigValue* v = fetch(key);
  if (v == nullptr) return fallback;
  double x = 0;
  if (v->type == ConfigValue::Type::kFloat) {
    x = v->real;
  } else if (v->type == ConfigValue::Type::kInteger) {
    x = static_cast<double>(v->integer);
  } else {
    return type_error(key, *v, "a number");
  }
  if (!std::isfinite(x) || x < min || x > max) {
    return make_error(ErrorCode::kParse,
                      fmt::format("{}: {} is outside [{}, {}]", where(key), x, min, max));
  }
  return x;
}

Expected<bool> ConfigTable::get_bool(std::string_view key, bool fallback) {
  const ConfigValue* v = fetch(key);
  if (v == nullptr) return fallback;
  if (v->type != ConfigValue::Type::kBool) return type_error(key, *v, "a boolean");
  return v->boolean;
}

Expected<std::string> ConfigTable::get_string(std::string_view key, std::string fallback) {
  const ConfigValue* v = fetch(key);
  if (v == nullptr) return fallback;
  if (v->type != ConfigValue::Type::kString) return type_error(key, *v, "a string");
  return v->string;
}

Expected<std::string> ConfigTable::get_choice(std::string_view key, std::string fallback,
                                              const std::vector<std::string_view>& choices) {
  auto s = get_string(key, std::move(fallback));
  if (!s) return s;
  for (auto c : choices) {
    if (c == *s) return s;
  }
  return make_error(ErrorCode::kParse, fmt::format("{}: '{}' is not one of {}", where(key), *s,
                                                   fmt::join(choices, ", ")));
}

Expected<std::optional<ConfigTable>> ConfigTable::get_table(std::string_view key) {
  const ConfigValue* v = fetch(key);
  if (v == nullptr) return std::optional<ConfigTable>{};
  if (v->type != ConfigValue::Type::kTable) return type_error(key, *v, "a table");
  const std::string sub = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  return std::optional<ConfigTable>(ConfigTable(*v, source_, sub));
}

Expected<std::vector<ConfigTable>> ConfigTable::get_table_array(std::string_view key) {
  const ConfigValue* v = fetch(key);
  std::vector<ConfigTable> out;
  if (v == nullptr) return out;
  if (v->type != ConfigValue::Type::kArray) return type_error(key, *v, "an array of tables");
  const std::string sub = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  for (std::size_t i = 0; i < v->array.size(); ++i) {
    const ConfigValue& e = v->array[i];
    if (e.type != ConfigValue::Type::kTable) {
      return make_error(ErrorCode::kParse, fmt::format("{}:{}: {}[{}]: expected a table, got {}",
                                                       source_, e.line, sub, i, to_string(e.type)));
    }
    out.emplace_back(e, source_, fmt::format("{}[{}]", sub, i));
  }
  return out;
}

Expected<std::vector<std::string>> ConfigTable::get_string_array(std::string_view key) {
  const ConfigValue* v = fetch(key);
  std::vector<std::string> out;
  if (v == nullptr) return out;
  if (v->type != ConfigValue::Type::kArray) return type_error(key, *v, "an array of strings");
  for (const auto& e : v->array) {
    if (e.type != ConfigValue::Type::kString) {
      return type_error(key, e, "an array of strings");
    }
    out.push_back(e.string);
  }
  return out;
}

Expected<std::vector<std::uint64_t>> ConfigTable::get_uint_array(std::string_view key,
                                                                 std::uint64_t min,
                                                                 std::uint64_t max) {
  const ConfigValue* v = fetch(key);
  std::vector<std::uint64_t> out;
  if (v == nullptr) return out;
  if (v->type != ConfigValue::Type::kArray) return type_error(key, *v, "an array of integers");
  for (const auto& e : v->array) {
    if (e.type != ConfigValue::Type::kInteger) return type_error(key, e, "an array of integers");
    if (e.integer < 0 || static_cast<std::uint64_t>(e.integer) < min ||
        static_cast<std::uint64_t>(e.integer) > max) {
      return make_error(ErrorCode::kParse, fmt::format("{}: element {} is outside [{}, {}]",
                                                       where(key), e.integer, min, max));
    }
    out.push_back(static_cast<std::uint64_t>(e.integer));
  }
  return out;
}

Status ConfigTable::finish() const {
  for (const auto& [k, v] : table_->table) {
    if (used_.find(k) == used_.end()) {
      const std::string full = path_.empty() ? k : path_ + "." + k;
      return make_error(ErrorCode::kParse,
                        fmt::format("{}:{}: unknown key '{}'", source_, v.line, full));
    }
  }
  return {};
}

Status read_float(ConfigTable& t, std::string_view key, double& field, double min, double max) {
  auto v = t.get_float(key, field, min, max);
  if (!v) return tl::unexpected(v.error());
  field = *v;
  return {};
}

Status read_bool(ConfigTable& t, std::string_view key, bool& field) {
  auto v = t.get_bool(key, field);
  if (!v) return tl::unexpected(v.error());
  field = *v;
  return {};
}

}  // namespace vtdsim::workload
