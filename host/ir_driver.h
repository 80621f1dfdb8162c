// Interrupt-remapping driver for one unit, in the way Linux's intel irq_remapping code works
// (spec ch. 5, §9.9–9.11, §11.4; facts §7): allocates the IRTE table, programs IRTA (base, S,
// EIME) + GCMD.SIRTP, invalidates the interrupt entry cache globally unless CAP.ESIRTPS,
// enables IRE and clears CFI (compatibility-format interrupts blocked); allocates IRTEs singly
// or in naturally aligned power-of-two blocks (multi-vector MSI, ≤ 2^ECAP.MHMV); programs
// remapped and posted IRTEs with source validation, invalidating the IEC index-selectively;
// composes the remappable MSI address/data (SHV = 1, sub-handle selects a block entry).
// Formats from irq_remap/irte.h and irq_remap/msi.h. Not modelled: IOAPIC/HPET entries.
#pragma once

#include <cstdint>
#include <vector>

#include "host/cache_invalidator.h"
#include "host/unit_access.h"
#include "irq_remap/msi.h"
#include "model/error.h"
#include "model/frame_allocator.h"
#include "model/interrupt_sink.h"
#include "model/physical_memory.h"
#include "model/types.h"

namespace vtdsim::host {

struct IrDriverConfig {
  unsigned size_field = 7;  // IRTA.S: 2^(S+1) entries (7 → 256, one page; Linux uses 15)
  bool x2apic = true;       // IRTA.EIME, when ECAP.EIM offers it
};

// How the hardware checks the requester of an interrupt (IRTE SVT/SQ/SID, §9.9).
struct SourceValidation {
  std::uint64_t svt = 0;
  std::uint64_t sq = 0;
  std::uint16_t sid = 0;

  static SourceValidation none() { return {}; }
  // The requester id must match exactly (what Linux programs for MSI of a device).
  static SourceValidation exact(model::SourceId sid) { return {1, 0, sid.raw}; }
  // The requester's bus must lie in [start, end] (devices behind a PCIe-to-PCI bridge, whose
  // requests carry the bridge's id or a secondary-bus id).
  static SourceValidation bus_range(unsigned start_bus, unsigned end_bus) {
    return {2, 0, static_cast<std::uint16_t>(((start_bus & 0xFFu) << 8) | (end_bus & 0xFFu))};
  }
};

struct RemappedTarget {
  std::uint32_t destination = 0;  // APIC id (xAPIC: 8 bits)
  std::uint8_t vector = 0;
  model::DeliveryMode delivery_mode = model::DeliveryMode::kFixed;
  bool logical = false;
  bool level = false;
  bool redirection_hint = false;
};

class IrDriver {
 public:
  IrDriver(UnitAccess& regs, CacheInvalidator& invalidator, model::PhysicalMemory& memory,
           model::FrameAllocator& frames, const IrDriverConfig& config = {});

  // Needs ECAP.IR and queued invalidation enabled (the IEC has no register interface).
  Status enable();
  Status disable();  // clears IRE, waits !IRES
  bool enabled() const { return enabled_; }

  // `count` consecutive entries (a power of two ≤ 2^MHMV), aligned to count. Returns the
  // first index (the MSI handle).
  Expected<std::uint16_t> allocate(unsigned count = 1);
  // Frees a block returned by allocate (entries are cleared and invalidated).
  Status free(std::uint16_t index, unsigned count = 1);

  Status program_remapped(std::uint16_t index, const RemappedTarget& target,
                          SourceValidation validation);
  // Posted format (needs CAP.PI): the vector is posted into the 64-byte aligned descriptor
  // at pda.
  Status program_posted(std::uint16_t index, std::uint64_t pda, std::uint8_t vector, bool urgent,
                        SourceValidation validation);
  // Marks the entry not present and invalidates it.
  Status clear(std::uint16_t index);

  // Remappable MSI for the block starting at `handle`: SHV = 1; data = sub-handle, so a
  // multi-vector device that adds vector i to the data selects entry handle + i.
  irq_remap::MsiMessage compose_msi(std::uint16_t handle, std::uint16_t subhandle = 0) const;

  std::uint64_t table() const { return table_; }
  std::uint32_t entries() const { return entries_; }
  std::uint64_t irte_address(std::uint16_t index) const;

 private:
  Status check_allocated(std::uint16_t index) const;
  Status write_irte(std::uint16_t index, const model::Entry128& e, unsigned index_mask);

  UnitAccess* regs_;
  CacheInvalidator* invalidator_;
  model::PhysicalMemory* memory_;
  model::FrameAllocator* frames_;
  IrDriverConfig config_;
  bool enabled_ = false;
  bool x2apic_ = false;
  std::uint64_t table_ = 0;
  std::uint32_t entries_ = 0;
  std::vector<bool> used_;
};

}  // namespace vtdsim::host
