// The built-in machine of `vtdsim explain` (tools/explain_setup.h).
#include "tools/explain_setup.h"

#include <fmt/format.h>

#include "irq_remap/irte.h"

namespace vtdsim::tools {

namespace {

// Propagates an error with the step that failed.
#define VTDSIM_TRY(expr, what)                                                                  \
  do {                                                                                          \
    const auto& vtdsim_status = (expr);                                                         \
    if (!vtdsim_status) {                                                                       \
      return make_error(vtdsim_status.error().code, std::string("built-in set-up: ") + (what) + \
                                                        ": " + vtdsim_status.error().message);  \
    }                                                                                           \
  } while (false)

}  // namespace

Expected<std::unique_ptr<BuiltinRig>> BuiltinRig::create() {
  auto rig = std::make_unique<BuiltinRig>();
  auto unit = iommu::RemappingUnit::create(rig->memory, iommu::UnitConfig{});
  VTDSIM_TRY(unit, "unit");
  rig->unit = std::move(*unit);
  rig->driver = std::make_unique<host::VtdDriver>(*rig->unit, rig->memory, rig->frames);
  VTDSIM_TRY(rig->driver->init(), "VT-d driver init");
  VTDSIM_TRY(rig->driver->enable_translation(), "enable translation");
  auto did = rig->driver->create_domain();
  VTDSIM_TRY(did, "create domain");
  rig->did = *did;
  VTDSIM_TRY(rig->driver->attach(rig->did, kNic), "attach 00:03.0");
  const model::Permissions rw{true, true, false};
  const model::Permissions ro{true, false, false};
  VTDSIM_TRY(rig->driver->map(rig->did, kRingIova, kRingHpa, model::kPageSize, rw), "map ring");
  VTDSIM_TRY(rig->driver->map(rig->did, kRoIova, kRoHpa, model::kPageSize, ro), "map read-only");
  VTDSIM_TRY(rig->driver->map(rig->did, kBigIova, kBigHpa, 2ull << 20, rw), "map 2 MiB");

  rig->ir = std::make_unique<host::IrDriver>(rig->driver->regs(), rig->driver->invalidator(),
                                             rig->memory, rig->frames);
  VTDSIM_TRY(rig->ir->enable(), "IR driver enable");
  auto index = rig->ir->allocate();
  VTDSIM_TRY(index, "allocate IRTE");
  rig->remapped_index = *index;
  host::RemappedTarget target;
  target.destination = 1;
  target.vector = 0x41;
  VTDSIM_TRY(
      rig->ir->program_remapped(rig->remapped_index, target, host::SourceValidation::exact(kNic)),
      "program remapped IRTE");
  rig->remapped_msi = rig->ir->compose_msi(rig->remapped_index);
  auto posted = rig->ir->allocate();
  VTDSIM_TRY(posted, "allocate posted IRTE");
  rig->posted_index = *posted;
  // The descriptor: notification vector 0xF2 to APIC 2 (x2APIC NDST).
  VTDSIM_TRY(rig->memory.write<std::uint64_t>(
                 kPidAddress + 32, (std::uint64_t{2} << 32) | (std::uint64_t{0xF2} << 16)),
             "write posted-interrupt descriptor");
  VTDSIM_TRY(rig->ir->program_posted(rig->posted_index, kPidAddress, 0x52, false,
                                     host::SourceValidation::exact(kNic)),
             "program posted IRTE");
  rig->posted_msi = rig->ir->compose_msi(rig->posted_index);
  return rig;
}

#undef VTDSIM_TRY

std::string BuiltinRig::describe() const {
  std::string out =
      "built-in set-up (no --scenario): one unit in legacy mode, brought up by "
      "host::VtdDriver and host::IrDriver\n";
  out += fmt::format("  00:03.0 attached to domain {}; mappings:\n", did);
  out += fmt::format("    IOVA {:#x} -> HPA {:#x}  4 KiB read/write\n", kRingIova, kRingHpa);
  out += fmt::format("    IOVA {:#x} -> HPA {:#x}  4 KiB read-only\n", kRoIova, kRoHpa);
  out += fmt::format("    IOVA {:#x} -> HPA {:#x}  2 MiB read/write\n", kBigIova, kBigHpa);
  out +=
      fmt::format("  IRTE {:#x}: remapped, vector 0x41 to APIC 1; MSI address {:#x} data {:#x}\n",
                  remapped_index, remapped_msi.address, remapped_msi.data);
  out += fmt::format(
      "  IRTE {:#x}: posted, vector 0x52 into the descriptor at {:#x}; MSI address {:#x} data "
      "{:#x}\n",
      posted_index, kPidAddress, posted_msi.address, posted_msi.data);
  return out;
}

}  // namespace vtdsim::tools
