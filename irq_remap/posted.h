// Interrupt posting (VT-d spec §5.2.3, descriptor format §9.11): the read-modify-write of a
// posted-interrupt descriptor in memory — set PIR[vector]; X = !ON && (URG || !SN); if X set ON
// and generate a notification event (vector NV to NDST, physical, fixed, edge).
// A descriptor with reserved bits set blocks the request (§5.2.3, confirmed); the fault codes
// used for that (0x28) and for an unreachable descriptor (0x27) are [U], see ir_fault.h.
// Not modelled: concurrent CPU access to the descriptor (one simulated machine is one thread,
// so the update is atomic in the model); level-triggered posting is treated as edge (§5.2.6).
#pragma once

#include <cstdint>
#include <optional>

#include "irq_remap/ir_fault.h"
#include "model/interrupt_sink.h"
#include "model/physical_memory.h"

namespace vtdsim::irq_remap {

struct PostOutcome {
  std::optional<IrFaultReason> fault;  // set when the request is blocked
  bool notify = false;
  model::ApicMessage notification{};  // valid when notify
};

// Posts `vector` to the descriptor at `pda` (64-byte aligned). `x2apic` selects the NDST
// interpretation (IRTA.EIME). Never throws; the descriptor is left untouched on a fault.
PostOutcome post_interrupt(model::PhysicalMemory& memory, std::uint64_t pda, std::uint8_t vector,
                           bool urgent, bool x2apic);

}  // namespace vtdsim::irq_remap
