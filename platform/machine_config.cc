// Validation of a MachineConfig (see machine_config.h): DMAR rules of VT-d spec ch. 8 and the
// memory map.
#include "platform/machine_config.h"

#include <fmt/format.h>

#include <map>

#include "model/interrupt_sink.h"

namespace vtdsim::platform {

const char* to_string(NodeKind kind) {
  switch (kind) {
    case NodeKind::kRootPort:
      return "root port";
    case NodeKind::kSwitchUpstream:
      return "switch upstream port";
    case NodeKind::kSwitchDownstream:
      return "switch downstream port";
    case NodeKind::kPcieToPciBridge:
      return "PCIe-to-PCI bridge";
    case NodeKind::kPciToPciBridge:
      return "PCI-to-PCI bridge";
    case NodeKind::kEndpoint:
      return "endpoint";
    case NodeKind::kDmaEngine:
      return "DMA engine";
    case NodeKind::kNic:
      return "NIC";
    case NodeKind::kNvme:
      return "NVMe controller";
    case NodeKind::kAts:
      return "ATS device";
  }
  return "?";
}

std::uint64_t MachineConfig::unit_register_base(std::size_t i) const {
  if (i < units.size() && units[i].register_base) return *units[i].register_base;
  std::uint64_t base = kUnitRegisterBase;
  for (std::size_t j = 0; j < i && j < units.size(); ++j) base += units[j].unit.mmio_window_size();
  return base;
}

namespace {

constexpr std::uint64_t kPage = model::kPageSize;

bool overlaps(std::uint64_t a, std::uint64_t a_size, std::uint64_t b, std::uint64_t b_size) {
  return a_size != 0 && b_size != 0 && a < b + b_size && b < a + a_size;
}

// What validation needs to know about a named node.
struct NodeInfo {
  NodeKind kind;
  std::vector<std::string> ancestors;  // names of the bridges above, outermost first
};

Status check_nodes(const std::vector<PciNode>& nodes, std::vector<std::string>& path,
                   std::map<std::string, NodeInfo>& names) {
  for (const PciNode& n : nodes) {
    const std::string what =
        n.name.empty() ? fmt::format("unnamed {} at {}.{}", to_string(n.kind), n.dev, n.fn)
                       : fmt::format("node '{}'", n.name);
    if (n.dev > 31 || n.fn > 7) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("pci: {}: slot {}.{} out of range (dev 0-31, fn 0-7)", what, n.dev, n.fn));
    }
    if (!is_bridge(n.kind) && !n.children.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("pci: {}: a {} cannot have children", what, to_string(n.kind)));
    }
    if (n.kind == NodeKind::kNic &&
        (n.nic.queues < 1 || n.nic.queues > pci::nic_regs::kMaxQueues)) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("pci: {}: nic.queues {} out of range [1, {}]", what,
                                    n.nic.queues, pci::nic_regs::kMaxQueues));
    }
    if (n.kind == NodeKind::kNvme) {
      if (n.nvme.io_queues < 1 || n.nvme.io_queues > 64) {
        return make_error(
            ErrorCode::kInvalidArgument,
            fmt::format("pci: {}: nvme.io_queues {} out of range [1, 64]", what, n.nvme.io_queues));
      }
      if (n.nvme.lba_size != 512 && n.nvme.lba_size != 4096) {
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("pci: {}: nvme.lba_size {} is neither 512 nor 4096", what,
                                      n.nvme.lba_size));
      }
      if (n.nvme.lba_count == 0 || n.nvme.lba_count > (std::uint64_t{1} << 30) / n.nvme.lba_size) {
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("pci: {}: nvme.lba_count {} must give 1 byte to 1 GiB", what,
                                      n.nvme.lba_count));
      }
    }
    if (!n.name.empty()) {
      if (names.count(n.name) != 0) {
        return make_error(ErrorCode::kAlreadyExists,
                          fmt::format("pci: node name '{}' is used twice", n.name));
      }
      names.emplace(n.name, NodeInfo{n.kind, path});
    }
    path.push_back(n.name);
    if (auto s = check_nodes(n.children, path, names); !s) return s;
    path.pop_back();
  }
  return {};
}

bool is_ancestor_or_self(const std::map<std::string, NodeInfo>& names, const std::string& above,
                         const std::string& below) {
  if (above == below) return true;
  const auto& anc = names.at(below).ancestors;
  for (const auto& a : anc) {
    if (a == above) return true;
  }
  return false;
}

std::string describe(const DeviceScope& s) {
  if (!s.device.empty()) {
    return fmt::format("{} '{}'", s.type == ScopeType::kEndpoint ? "endpoint" : "sub-hierarchy",
                       s.device);
  }
  if (s.type == ScopeType::kEndpoint)
    return fmt::format("endpoint {}", model::to_string(s.source_id));
  return fmt::format("buses {:02x}-{:02x}", s.first_bus, s.last_bus);
}

Status check_scope_entry(const DeviceScope& s, const std::map<std::string, NodeInfo>& names,
                         const std::string& where) {
  if (!s.device.empty()) {
    auto it = names.find(s.device);
    if (it == names.end()) {
      return make_error(ErrorCode::kNotFound,
                        fmt::format("{}: scope names device '{}', which is not in the topology",
                                    where, s.device));
    }
    const bool bridge = is_bridge(it->second.kind);
    if (s.type == ScopeType::kSubHierarchy && !bridge) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: sub-hierarchy scope '{}' is a {}, not a bridge", where,
                                    s.device, to_string(it->second.kind)));
    }
    if (s.type == ScopeType::kEndpoint && bridge) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("{}: endpoint scope '{}' is a bridge; use a sub-hierarchy", where, s.device));
    }
  } else if (s.type == ScopeType::kSubHierarchy && s.first_bus > s.last_bus) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("{}: bus range {:02x}-{:02x} is empty", where, s.first_bus, s.last_bus));
  }
  return {};
}

// True when two scope entries of different units are known to overlap before enumeration.
bool scopes_overlap(const DeviceScope& a, const DeviceScope& b,
                    const std::map<std::string, NodeInfo>& names) {
  if (!a.device.empty() && !b.device.empty()) {
    const bool a_sub = a.type == ScopeType::kSubHierarchy;
    const bool b_sub = b.type == ScopeType::kSubHierarchy;
    return a.device == b.device || (a_sub && is_ancestor_or_self(names, a.device, b.device)) ||
           (b_sub && is_ancestor_or_self(names, b.device, a.device));
  }
  if (!a.device.empty() || !b.device.empty()) return false;  // checked after enumeration
  auto range = [](const DeviceScope& s, unsigned& lo, unsigned& hi) {
    if (s.type == ScopeType::kEndpoint) {
      lo = hi = s.source_id.bus();
    } else {
      lo = s.first_bus;
      hi = s.last_bus;
    }
  };
  if (a.type == ScopeType::kEndpoint && b.type == ScopeType::kEndpoint) {
    return a.source_id == b.source_id;
  }
  unsigned alo = 0, ahi = 0, blo = 0, bhi = 0;
  range(a, alo, ahi);
  range(b, blo, bhi);
  return alo <= bhi && blo <= ahi;
}

Status check_memory(const MachineConfig& c) {
  if (c.address_width < 32 || c.address_width > model::PhysicalMemory::kMaxAddressWidth) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("address_width {} out of range [32, {}]", c.address_width,
                                  model::PhysicalMemory::kMaxAddressWidth));
  }
  const std::uint64_t top = std::uint64_t{1} << c.address_width;
  if (c.ram_size == 0 || c.ram_size % kPage != 0) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("ram_size {:#x} must be a non-zero multiple of 4 KiB", c.ram_size));
  }
  if (c.high_ram_size() > 0 && c.high_ram_size() > top - kHighRamBase) {
    return make_error(ErrorCode::kOutOfRange,
                      fmt::format("ram_size {:#x} does not fit below 2^{} with the MMIO hole",
                                  c.ram_size, c.address_width));
  }
  if (c.host_memory_size == 0 || c.host_memory_size % kPage != 0 ||
      c.host_memory_size > c.low_ram_end()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("host_memory_size {:#x} must be a non-zero multiple of 4 KiB "
                                  "within the {:#x} bytes of RAM below the MMIO hole",
                                  c.host_memory_size, c.low_ram_end()));
  }
  if (c.cpus < 1 || c.cpus > 255) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("cpus {} out of range [1, 255]", c.cpus));
  }
  const auto& e = c.enumeration;
  if (e.mmio_base >= e.mmio_limit || e.mmio_limit > top ||
      overlaps(e.mmio_base, e.mmio_limit - e.mmio_base, 0, c.low_ram_end()) ||
      overlaps(e.mmio_base, e.mmio_limit - e.mmio_base, kHighRamBase, c.high_ram_size()) ||
      overlaps(e.mmio_base, e.mmio_limit - e.mmio_base, model::kInterruptWindowBase,
               model::kInterruptWindowSize)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("enumeration BAR window [{:#x}, {:#x}) must be non-empty, below "
                                  "2^{} and clear of RAM and the interrupt window",
                                  e.mmio_base, e.mmio_limit, c.address_width));
  }
  return {};
}

Status check_units(const MachineConfig& c, const std::map<std::string, NodeInfo>& names) {
  const std::uint64_t top = std::uint64_t{1} << c.address_width;
  for (std::size_t i = 0; i < c.units.size(); ++i) {
    const RemappingUnitConfig& u = c.units[i];
    const std::string where =
        u.name.empty() ? fmt::format("unit {}", i) : fmt::format("unit {} '{}'", i, u.name);
    if (auto s = u.unit.validate(); !s) {
      return make_error(s.error().code, fmt::format("{}: {}", where, s.error().message));
    }
    if (u.unit.host_address_width != c.address_width) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: unit.host_address_width {} differs from the machine's "
                                    "address_width {}",
                                    where, u.unit.host_address_width, c.address_width));
    }
    const std::uint64_t base = c.unit_register_base(i);
    const std::uint64_t size = u.unit.mmio_window_size();
    const auto& e = c.enumeration;
    if (base % kPage != 0 || base > top - size || overlaps(base, size, 0, c.low_ram_end()) ||
        overlaps(base, size, kHighRamBase, c.high_ram_size()) ||
        overlaps(base, size, e.mmio_base, e.mmio_limit - e.mmio_base) ||
        overlaps(base, size, model::kInterruptWindowBase, model::kInterruptWindowSize)) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: register window [{:#x}, {:#x}) must be 4 KiB aligned, "
                                    "below 2^{} and clear of RAM, the BAR window and the "
                                    "interrupt window",
                                    where, base, base + size, c.address_width));
    }
    for (std::size_t j = 0; j < i; ++j) {
      const std::uint64_t other = c.unit_register_base(j);
      if (overlaps(base, size, other, c.units[j].unit.mmio_window_size())) {
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("{}: register window at {:#x} overlaps unit {}'s at {:#x}",
                                      where, base, j, other));
      }
    }
    if (u.include_pci_all) {
      if (i + 1 != c.units.size()) {
        const bool twice = [&] {
          for (std::size_t j = i + 1; j < c.units.size(); ++j) {
            if (c.units[j].include_pci_all) return true;
          }
          return false;
        }();
        return make_error(ErrorCode::kInvalidArgument,
                          twice ? fmt::format("{}: a second unit with INCLUDE_PCI_ALL follows; "
                                              "at most one unit may have it",
                                              where)
                                : fmt::format("{}: the INCLUDE_PCI_ALL unit must be the last "
                                              "unit (DMAR §8.3)",
                                              where));
      }
      if (!u.scope.empty()) {
        return make_error(
            ErrorCode::kInvalidArgument,
            fmt::format("{}: an INCLUDE_PCI_ALL unit lists no PCI device scope", where));
      }
      continue;
    }
    if (u.scope.empty()) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("{}: no device scope and no INCLUDE_PCI_ALL: covers nothing", where));
    }
    for (const DeviceScope& s : u.scope) {
      if (auto st = check_scope_entry(s, names, where); !st) return st;
      for (std::size_t j = 0; j < i; ++j) {
        for (const DeviceScope& t : c.units[j].scope) {
          if (scopes_overlap(s, t, names)) {
            return make_error(ErrorCode::kInvalidArgument,
                              fmt::format("{}: scope {} overlaps unit {}'s scope {}", where,
                                          describe(s), j, describe(t)));
          }
        }
      }
    }
  }
  return {};
}

Status check_rmrrs(const MachineConfig& c, const std::map<std::string, NodeInfo>& names) {
  const std::uint64_t host_base = c.low_ram_end() - c.host_memory_size;
  for (std::size_t i = 0; i < c.rmrrs.size(); ++i) {
    const RmrrConfig& r = c.rmrrs[i];
    const std::string where = fmt::format("rmrr {} [{:#x}, {:#x}]", i, r.base, r.limit);
    if (r.base % kPage != 0 || r.limit <= r.base || (r.limit + 1) % kPage != 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: base must be 4 KiB aligned and limit + 1 a 4 KiB "
                                    "boundary above it (DMAR §8.4)",
                                    where));
    }
    const std::uint64_t size = r.limit - r.base + 1;
    const bool in_low = r.limit < c.low_ram_end();
    const bool in_high = r.base >= kHighRamBase && r.limit < kHighRamBase + c.high_ram_size();
    if (!in_low && !in_high) {
      return make_error(ErrorCode::kOutOfRange, fmt::format("{}: not inside RAM", where));
    }
    if (overlaps(r.base, size, host_base, c.host_memory_size)) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: overlaps the host frame region [{:#x}, {:#x})", where,
                                    host_base, c.low_ram_end()));
    }
    for (std::size_t j = 0; j < i; ++j) {
      const RmrrConfig& o = c.rmrrs[j];
      if (overlaps(r.base, size, o.base, o.limit - o.base + 1)) {
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("{}: overlaps rmrr {}", where, j));
      }
    }
    if (r.devices.empty()) {
      return make_error(ErrorCode::kInvalidArgument, fmt::format("{}: lists no device", where));
    }
    for (const DeviceScope& s : r.devices) {
      if (s.type != ScopeType::kEndpoint) {
        return make_error(
            ErrorCode::kInvalidArgument,
            fmt::format("{}: device scope {} is not an endpoint", where, describe(s)));
      }
      if (auto st = check_scope_entry(s, names, where); !st) return st;
    }
  }
  return {};
}

}  // namespace

Status MachineConfig::validate() const {
  if (auto s = check_memory(*this); !s) return s;
  std::map<std::string, NodeInfo> names;
  std::vector<std::string> path;
  if (auto s = check_nodes(pci, path, names); !s) return s;
  if (auto s = check_units(*this, names); !s) return s;
  return check_rmrrs(*this, names);
}

}  // namespace vtdsim::platform
