// The built-in machine `vtdsim explain` uses when no scenario is given: one remapping unit in
// legacy mode brought up by host::VtdDriver through its registers, a NIC at 00:03.0 attached to
// a domain with a few mappings (4 KiB read/write, 4 KiB read-only, a 2 MiB superpage), and
// interrupt remapping enabled by host::IrDriver with a remapped and a posted IRTE for it.
// Not modelled: PCI devices (requests are issued straight to the unit).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "host/ir_driver.h"
#include "host/vtd_driver.h"
#include "iommu/remapping_unit.h"
#include "model/error.h"
#include "model/frame_allocator.h"
#include "model/physical_memory.h"

namespace vtdsim::tools {

struct BuiltinRig {
  static constexpr model::SourceId kNic = model::SourceId::make(0, 3, 0);
  static constexpr std::uint64_t kTablesBase = 0x1000'0000;  // host page-table frames
  static constexpr std::uint64_t kTablesSize = 16ull << 20;
  static constexpr std::uint64_t kRingIova = 0x10000;  // 4 KiB RW → 0x2000'0000
  static constexpr std::uint64_t kRingHpa = 0x2000'0000;
  static constexpr std::uint64_t kRoIova = 0x11000;  // 4 KiB read-only → 0x2000'5000
  static constexpr std::uint64_t kRoHpa = 0x2000'5000;
  static constexpr std::uint64_t kBigIova = 0x20'0000;  // 2 MiB RW → 0x4000'0000
  static constexpr std::uint64_t kBigHpa = 0x4000'0000;
  static constexpr std::uint64_t kPidAddress = 0x3000'0040;  // posted-interrupt descriptor

  static Expected<std::unique_ptr<BuiltinRig>> create();

  // What the set-up did, for the top of the explanation.
  std::string describe() const;

  model::PhysicalMemory memory{46};
  model::FrameAllocator frames{memory, kTablesBase, kTablesSize};
  std::unique_ptr<iommu::RemappingUnit> unit;
  std::unique_ptr<host::VtdDriver> driver;
  std::unique_ptr<host::IrDriver> ir;
  std::uint16_t did = 0;
  std::uint16_t remapped_index = 0;
  std::uint16_t posted_index = 0;
  irq_remap::MsiMessage remapped_msi{};
  irq_remap::MsiMessage posted_msi{};
};

}  // namespace vtdsim::tools
