// IOMMU group computation from topology, ACS and multi-function devices: the smallest sets of
// functions the platform can isolate from each other, by the rules Linux uses
// (drivers/iommu/iommu.c pci_device_group, drivers/pci/pci.c pci_acs_enabled/_path_enabled;
// facts only, restated): see iommu_group.cc for the rules. Isolation needs ACS Source
// Validation, Request Redirect, Completion Redirect and Upstream Forwarding (PCIe 4.0 §6.12).
// Not modelled: device-specific ACS quirks, the pcie_acs_override parameter.
#pragma once

#include <cstdint>
#include <vector>

#include "pci/topology.h"

namespace vtdsim::pci {

// The ACS controls a path must have enabled to count as isolating.
inline constexpr std::uint16_t kIsolationAcsFlags = acs::kSv | acs::kRr | acs::kCr | acs::kUf;

// True when f provides the given ACS controls in the sense Linux uses: a conventional function
// or a PCIe-to-PCI / PCI-to-PCIe bridge / RC event collector never does; root and downstream
// ports need the controls enabled (controls the port does not implement are not required);
// endpoints, upstream ports and RC integrated endpoints need them only when multi-function.
bool acs_enabled(const Function& f, std::uint16_t flags = kIsolationAcsFlags);
// acs_enabled for start and every bridge above it up to the root bus.
bool acs_path_enabled(const Function& start, std::uint16_t flags = kIsolationAcsFlags);

struct IommuGroup {
  unsigned id = 0;
  std::vector<Function*> members;  // depth-first topology order
};

// Groups of every function (bridges included), numbered in depth-first order of their first
// member.
std::vector<IommuGroup> compute_iommu_groups(const RootComplex& rc);
// The group id of f in groups, or -1.
int group_of(const std::vector<IommuGroup>& groups, const Function& f);

}  // namespace vtdsim::pci
