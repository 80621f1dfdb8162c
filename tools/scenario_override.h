// Scenario files with command-line overrides (`--set key=value`, as `vtdsim run` and
// `vtdsim sweep` take them): the TOML tree (workload::ConfigValue) is edited at a dotted key
// path and written back as TOML text for workload::parse_scenario, so every override goes
// through the same checks as the file (unknown keys and bad values are errors).
// A path segment naming an array of tables ([[unit]]) applies the rest to every element.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"
#include "workload/config.h"
#include "workload/scenario.h"

namespace vtdsim::tools {

struct Override {
  std::string key;    // dotted path, e.g. "unit.iotlb.ways"
  std::string value;  // TOML-ish scalar: true/false, integer (0x hex), float, or a string
};

// "key=value"; `what` names the option in errors.
Expected<Override> parse_override(std::string_view text, std::string_view what);
// "key=v1,v2,..." (a sweep axis).
Expected<std::pair<std::string, std::vector<std::string>>> parse_axis(std::string_view text);

// Applies one override to a parsed TOML tree.
Status apply_override(workload::ConfigValue& root, const Override& o);
// The tree as TOML text (top-level keys, tables inline).
std::string to_toml(const workload::ConfigValue& root);

// Loads `path` and applies the overrides (none: workload::load_scenario, keeping line numbers).
Expected<workload::Scenario> load_scenario_with(const std::string& path,
                                                const std::vector<Override>& overrides);
// Same over text already read (source names it in messages).
Expected<workload::Scenario> parse_scenario_with(std::string_view text, const std::string& source,
                                                 const std::vector<Override>& overrides);

}  // namespace vtdsim::tools
