// IOMMU grouping rules (see iommu_group.h), restated from Linux's behaviour:
//  1. Aliases: follow the function's DMA aliases up the tree; the function that owns the last
//     alias (e.g. the PCIe-to-PCI bridge above conventional devices) is the starting point,
//     and everything that aliases through it shares its group.
//  2. From there, go upstream bridge by bridge while the bridge's path to the root is not
//     fully ACS-isolated; each such bridge becomes the new starting point. Everything below a
//     root or switch port without ACS therefore joins that port's group.
//  3. Functions on the same bus that alias each other (quirk alias devfns) share a group.
//  4. The functions of a multi-function device that are not ACS-isolated share a group (an
//     isolated function stays apart).
// Linux assigns groups incrementally, reusing an existing group found on the way; computing
// the same relation as connected components gives the same partition.
#include "pci/iommu_group.h"

#include <map>
#include <numeric>

namespace vtdsim::pci {
namespace {

bool flags_enabled(const Function& f, std::uint16_t flags) {
  const auto at = f.acs_offset();
  if (!at) return false;
  const std::uint16_t cap = f.config().get16(*at + acs::kCapability);
  const std::uint16_t ctrl = f.config().get16(*at + acs::kControl);
  // Controls the function does not implement are not required (egress control always is).
  const auto required = static_cast<std::uint16_t>(flags & (cap | acs::kEc));
  return (ctrl & required) == required;
}

class UnionFind {
 public:
  explicit UnionFind(std::size_t n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0); }
  std::size_t find(std::size_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void join(std::size_t a, std::size_t b) {
    a = find(a);
    b = find(b);
    if (a < b) {
      parent_[b] = a;
    } else if (b < a) {
      parent_[a] = b;
    }
  }

 private:
  std::vector<std::size_t> parent_;
};

bool are_dma_aliases(const Function& a, const Function& b) {
  if (a.bus() != b.bus()) return false;
  return (a.dma_alias_devfn() && *a.dma_alias_devfn() == b.devfn()) ||
         (b.dma_alias_devfn() && *b.dma_alias_devfn() == a.devfn());
}

}  // namespace

bool acs_enabled(const Function& f, std::uint16_t flags) {
  const auto type = f.port_type();
  if (!type) return false;  // conventional PCI: no ACS
  switch (*type) {
    case PortType::kPciToPcieBridge:
    case PortType::kPcieToPciBridge:
    case PortType::kRcEventCollector:
      return false;
    case PortType::kDownstreamPort:
    case PortType::kRootPort:
      return flags_enabled(f, flags);
    case PortType::kEndpoint:
    case PortType::kUpstreamPort:
    case PortType::kLegacyEndpoint:
    case PortType::kRcIntegratedEndpoint:
      return f.multifunction() ? flags_enabled(f, flags) : true;
  }
  return true;
}

bool acs_path_enabled(const Function& start, std::uint16_t flags) {
  const Function* f = &start;
  for (unsigned depth = 0; depth < 256 && f != nullptr; ++depth) {
    if (!acs_enabled(*f, flags)) return false;
    const Bus* bus = f->bus();
    if (bus == nullptr || bus->is_root()) return true;
    f = bus->self();
  }
  return true;
}

std::vector<IommuGroup> compute_iommu_groups(const RootComplex& rc) {
  const std::vector<Function*> all = rc.functions();
  std::map<const Function*, std::size_t> index;
  for (std::size_t i = 0; i < all.size(); ++i) index[all[i]] = i;
  UnionFind uf(all.size());

  auto join_aliases_and_functions = [&](const Function& anchor) {
    // Rule 3 and 4, applied to the anchor and transitively through UnionFind.
    for (Function* other : anchor.bus()->functions()) {
      if (other == &anchor) continue;
      if (are_dma_aliases(anchor, *other)) uf.join(index[&anchor], index[other]);
    }
    if (anchor.multifunction() && !acs_enabled(anchor)) {
      const unsigned slot = anchor.devfn() >> 3;
      for (Function* other : anchor.bus()->functions()) {
        if (other == &anchor || (other->devfn() >> 3) != slot || acs_enabled(*other)) continue;
        uf.join(index[&anchor], index[other]);
        for (Function* peer : anchor.bus()->functions()) {
          if (peer != other && are_dma_aliases(*other, *peer)) uf.join(index[other], index[peer]);
        }
      }
    }
  };

  for (Function* f : all) {
    // Rule 1: every owner of an alias on the way up joins; the last one is the anchor.
    const std::vector<DmaAlias> aliases = rc.dma_aliases(*f);
    const Function* anchor = f;
    for (const DmaAlias& a : aliases) {
      uf.join(index[f], index[a.owner]);
      anchor = a.owner;
    }
    // Rule 2: climb while the path is not isolated.
    for (const Bus* bus = anchor->bus(); bus != nullptr && !bus->is_root();) {
      const Bridge* b = bus->self();
      if (acs_path_enabled(*b)) break;
      anchor = b;
      bus = b->bus();
    }
    uf.join(index[f], index[anchor]);
    join_aliases_and_functions(*anchor);
  }

  std::vector<IommuGroup> groups;
  std::map<std::size_t, unsigned> root_to_group;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::size_t r = uf.find(i);
    auto [it, inserted] = root_to_group.try_emplace(r, static_cast<unsigned>(groups.size()));
    if (inserted) groups.push_back(IommuGroup{it->second, {}});
    groups[it->second].members.push_back(all[i]);
  }
  return groups;
}

int group_of(const std::vector<IommuGroup>& groups, const Function& f) {
  for (const IommuGroup& g : groups) {
    for (const Function* m : g.members) {
      if (m == &f) return static_cast<int>(g.id);
    }
  }
  return -1;
}

}  // namespace vtdsim::pci
