// Scenario overrides (tools/scenario_override.h).
#include "tools/scenario_override.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "tools/cli_util.h"

namespace vtdsim::tools {

namespace {

using workload::ConfigValue;

Error bad(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

ConfigValue scalar(const std::string& text) {
  ConfigValue v;
  if (text == "true" || text == "false") {
    v.type = ConfigValue::Type::kBool;
    v.boolean = text == "true";
    return v;
  }
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    v.type = ConfigValue::Type::kString;
    v.string = text.substr(1, text.size() - 2);
    return v;
  }
  if (auto n = parse_number(text, "value"); n && *n <= static_cast<std::uint64_t>(INT64_MAX)) {
    v.type = ConfigValue::Type::kInteger;
    v.integer = static_cast<std::int64_t>(*n);
    return v;
  }
  double d = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) {
    v.type = ConfigValue::Type::kFloat;
    v.real = d;
    return v;
  }
  v.type = ConfigValue::Type::kString;
  v.string = text;
  return v;
}

Status set_path(ConfigValue& node, const std::vector<std::string>& path, std::size_t i,
                const ConfigValue& value, const std::string& key) {
  if (node.type == ConfigValue::Type::kArray) {
    if (node.array.empty()) {
      return tl::unexpected(bad(fmt::format("--set {}: an empty array of tables", key)));
    }
    for (auto& element : node.array) {
      auto s = set_path(element, path, i, value, key);
      if (!s) return s;
    }
    return {};
  }
  if (node.type != ConfigValue::Type::kTable) {
    return tl::unexpected(bad(fmt::format("--set {}: '{}' is not a table", key, path[i - 1])));
  }
  auto it = std::find_if(node.table.begin(), node.table.end(),
                         [&](const auto& kv) { return kv.first == path[i]; });
  if (i + 1 == path.size()) {
    if (it == node.table.end()) {
      node.table.emplace_back(path[i], value);
    } else {
      it->second = value;
    }
    return {};
  }
  if (it == node.table.end()) {
    node.table.emplace_back(path[i], ConfigValue{});  // a new (empty) table
    it = std::prev(node.table.end());
  }
  return set_path(it->second, path, i + 1, value, key);
}

bool bare_key(std::string_view k) {
  if (k.empty()) return false;
  for (const char c : k) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

std::string key_text(std::string_view k) {
  return bare_key(k) ? std::string(k) : quote(k);
}

std::string value_text(const ConfigValue& v) {
  switch (v.type) {
    case ConfigValue::Type::kBool:
      return v.boolean ? "true" : "false";
    case ConfigValue::Type::kInteger:
      return fmt::format("{}", v.integer);
    case ConfigValue::Type::kFloat: {
      std::string s = fmt::format("{}", v.real);
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
      return s;
    }
    case ConfigValue::Type::kString:
      return quote(v.string);
    case ConfigValue::Type::kArray: {
      std::string s = "[";
      for (std::size_t i = 0; i < v.array.size(); ++i) {
        s += (i == 0 ? "" : ", ") + value_text(v.array[i]);
      }
      return s + "]";
    }
    case ConfigValue::Type::kTable: {
      std::string s = "{";
      for (std::size_t i = 0; i < v.table.size(); ++i) {
        s += (i == 0 ? " " : ", ") + key_text(v.table[i].first) + " = " +
             value_text(v.table[i].second);
      }
      return s + (v.table.empty() ? "}" : " }");
    }
  }
  return "";
}

}  // namespace

Expected<Override> parse_override(std::string_view text, std::string_view what) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return tl::unexpected(bad(fmt::format("{} '{}': expected key=value", what, text)));
  }
  return Override{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

Expected<std::pair<std::string, std::vector<std::string>>> parse_axis(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return tl::unexpected(bad(fmt::format("--set '{}': expected key=v1,v2,...", text)));
  }
  std::vector<std::string> values;
  std::string_view rest = text.substr(eq + 1);
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view v = rest.substr(0, comma);
    if (v.empty()) {
      return tl::unexpected(bad(fmt::format("--set '{}': an empty value in the list", text)));
    }
    values.emplace_back(v);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return std::pair{std::string(text.substr(0, eq)), std::move(values)};
}

Status apply_override(ConfigValue& root, const Override& o) {
  std::vector<std::string> path;
  std::size_t start = 0;
  while (true) {
    const auto dot = o.key.find('.', start);
    path.push_back(o.key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (path.back().empty()) {
      return tl::unexpected(bad(fmt::format("--set {}: empty key segment", o.key)));
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return set_path(root, path, 0, scalar(o.value), o.key);
}

std::string to_toml(const ConfigValue& root) {
  std::string out;
  for (const auto& [k, v] : root.table) out += key_text(k) + " = " + value_text(v) + "\n";
  return out;
}

Expected<workload::Scenario> parse_scenario_with(std::string_view text, const std::string& source,
                                                 const std::vector<Override>& overrides) {
  if (overrides.empty()) return workload::parse_scenario(text, source);
  auto tree = workload::parse_toml(text, source);
  if (!tree) return tl::unexpected(tree.error());
  // Keep the name the file would have had (its stem) rather than one derived from the message
  // source below.
  const bool named = std::any_of(tree->table.begin(), tree->table.end(),
                                 [](const auto& kv) { return kv.first == "name"; });
  if (!named) {
    std::string stem = source.substr(source.find_last_of('/') + 1);
    if (const auto dot = stem.rfind('.'); dot != std::string::npos && dot > 0) stem.resize(dot);
    ConfigValue name;
    name.type = ConfigValue::Type::kString;
    name.string = stem;
    tree->table.emplace_back("name", std::move(name));
  }
  std::string applied;
  for (const auto& o : overrides) {
    auto s = apply_override(*tree, o);
    if (!s) return tl::unexpected(s.error());
    applied += (applied.empty() ? "" : " ") + o.key + "=" + o.value;
  }
  return workload::parse_scenario(to_toml(*tree), source + " with " + applied);
}

Expected<workload::Scenario> load_scenario_with(const std::string& path,
                                                const std::vector<Override>& overrides) {
  if (overrides.empty()) return workload::load_scenario(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kIo, fmt::format("{}: cannot open the scenario", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_scenario_with(buffer.str(), path, overrides);
}

}  // namespace vtdsim::tools
