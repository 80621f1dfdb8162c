// Device-scope resolution and the source-id → unit table (see scope_map.h).
#include "platform/scope_map.h"

#include <fmt/format.h>

#include <map>

#include "pci/bridge.h"

namespace vtdsim::platform {

namespace {

Expected<ResolvedScope> resolve(const DeviceScope& s, std::size_t unit,
                                const FunctionsByName& names) {
  ResolvedScope r;
  r.unit = unit;
  r.type = s.type;
  if (s.device.empty()) {
    if (s.type == ScopeType::kEndpoint) {
      r.has_self = true;
      r.self = s.source_id;
      r.text = fmt::format("endpoint {}", model::to_string(s.source_id));
    } else {
      r.has_buses = true;
      r.first_bus = s.first_bus;
      r.last_bus = s.last_bus;
      r.text = fmt::format("buses {:02x}-{:02x}", s.first_bus, s.last_bus);
    }
    return r;
  }
  auto it = names.find(s.device);
  if (it == names.end()) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("scope names device '{}', which is not in the topology", s.device));
  }
  const pci::Function& f = *it->second;
  r.has_self = true;
  r.self = f.requester_id();
  if (s.type == ScopeType::kSubHierarchy) {
    const auto* b = dynamic_cast<const pci::Bridge*>(&f);
    if (b == nullptr) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("sub-hierarchy scope '{}' is not a bridge", s.device));
    }
    r.has_buses = true;
    r.first_bus = b->secondary_bus_number();
    r.last_bus = b->subordinate_bus_number();
    r.text = fmt::format("sub-hierarchy '{}' ({} + buses {:02x}-{:02x})", s.device,
                         model::to_string(r.self), r.first_bus, r.last_bus);
  } else {
    r.text = fmt::format("endpoint '{}' ({})", s.device, model::to_string(r.self));
  }
  return r;
}

bool overlap(const ResolvedScope& a, const ResolvedScope& b) {
  if (a.has_self && b.covers(a.self)) return true;
  if (b.has_self && a.covers(b.self)) return true;
  return a.has_buses && b.has_buses && a.first_bus <= b.last_bus && b.first_bus <= a.last_bus;
}

std::string function_text(const pci::Function& f) {
  const std::string id = model::to_string(f.requester_id());
  return f.name().empty() ? id : fmt::format("'{}' ({})", f.name(), id);
}

}  // namespace

Expected<model::SourceId> resolve_endpoint(const DeviceScope& scope, const FunctionsByName& names) {
  if (scope.device.empty()) return scope.source_id;
  auto it = names.find(scope.device);
  if (it == names.end()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("device '{}' is not in the topology", scope.device));
  }
  return it->second->requester_id();
}

Expected<ScopeMap> ScopeMap::build(const MachineConfig& config, const pci::RootComplex& rc,
                                   const FunctionsByName& names) {
  if (config.units.size() >= kNoUnit) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("{} remapping units: at most {}",
                                                               config.units.size(), kNoUnit - 1));
  }
  ScopeMap map;
  std::uint8_t catch_all = kNoUnit;
  for (std::size_t u = 0; u < config.units.size(); ++u) {
    if (config.units[u].include_pci_all) catch_all = static_cast<std::uint8_t>(u);
    for (const DeviceScope& s : config.units[u].scope) {
      auto r = resolve(s, u, names);
      if (!r) {
        return make_error(r.error().code, fmt::format("unit {}: {}", u, r.error().message));
      }
      for (const ResolvedScope& other : map.entries_) {
        if (other.unit != u && overlap(*r, other)) {
          return make_error(ErrorCode::kInvalidArgument,
                            fmt::format("unit {}: scope {} overlaps unit {}'s scope {}", u, r->text,
                                        other.unit, other.text));
        }
      }
      map.entries_.push_back(std::move(*r));
    }
  }
  // Explicit matches first (scopes of different units are disjoint), then INCLUDE_PCI_ALL.
  map.table_.assign(0x10000, catch_all);
  for (unsigned raw = 0; raw < 0x10000; ++raw) {
    const model::SourceId sid{static_cast<std::uint16_t>(raw)};
    for (const ResolvedScope& e : map.entries_) {
      if (e.covers(sid)) {
        map.table_[raw] = static_cast<std::uint8_t>(e.unit);
        break;
      }
    }
  }
  // The id each function's DMA carries goes to the unit covering the function itself.
  std::map<std::uint16_t, std::pair<std::uint8_t, const pci::Function*>> claims;
  for (const pci::Function* f : rc.functions()) {
    const std::uint8_t unit = map.table_[f->requester_id().raw];
    const model::SourceId carried = rc.dma_source_id(*f);
    auto [it, fresh] = claims.emplace(carried.raw, std::make_pair(unit, f));
    if (!fresh && it->second.first != unit) {
      auto name = [&](std::uint8_t u) {
        return u == kNoUnit ? std::string("no unit") : fmt::format("unit {}", u);
      };
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("devices {} ({}) and {} ({}) both issue DMA as {}; they "
                                    "must be in the same unit's scope",
                                    function_text(*it->second.second), name(it->second.first),
                                    function_text(*f), name(unit), model::to_string(carried)));
    }
  }
  for (const auto& [raw, claim] : claims) map.table_[raw] = claim.first;
  return map;
}

}  // namespace vtdsim::platform
