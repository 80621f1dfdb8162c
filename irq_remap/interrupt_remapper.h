// Interrupt remapping (spec ch. 5): IRTA state, remappable/compatibility MSI decoding, IRTE
// fetch and checks, source-id validation, interrupt entry cache, posted-interrupt descriptor
// update. Pure logic over PhysicalMemory: it returns results and faults and records nothing;
// the RemappingUnit that owns it records the faults in its fault registers.
// Contract: never throws, asserts or crashes on IRTE or descriptor contents.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "irq_remap/ir_fault.h"
#include "irq_remap/ir_stats.h"
#include "model/error.h"
#include "model/field.h"
#include "model/interrupt_sink.h"
#include "model/physical_memory.h"
#include "model/set_assoc_cache.h"
#include "model/timing.h"
#include "model/types.h"

namespace vtdsim::irq_remap {

struct IrConfig {
  bool eim = true;                // ECAP.EIM: x2APIC mode allowed
  bool posted_interrupts = true;  // CAP.PI
  unsigned mhmv = 15;             // ECAP.MHMV
  model::CacheGeometry iec{.sets = 1, .ways = 32};
  model::TimingParams timing{};
};

// IRTA as latched by GCMD.SIRTP, and the enables from GSTS.
struct IrState {
  std::uint64_t table = 0;  // IRTA.IRTA (4 KiB aligned)
  unsigned size_field = 0;  // IRTA.S: 2^(S+1) entries
  bool eime = false;        // IRTA.EIME: x2APIC mode
  bool table_set = false;   // GSTS.IRTPS
  bool enabled = false;     // GSTS.IRES
  bool cfi = false;         // GSTS.CFIS: compatibility-format interrupts allowed
};

enum class IrOutcome : std::uint8_t {
  kPassThrough,  // remapping off (or compatibility format allowed): delivered as the MSI says
  kRemapped,     // message built from a remapped-format IRTE
  kPosted,       // PIR bit set in a posted-interrupt descriptor
  kFault,        // blocked; reason in fault_reason
};

struct IrResult {
  IrOutcome outcome = IrOutcome::kFault;
  model::ApicMessage message{};       // kPassThrough / kRemapped: the interrupt to deliver
  bool notify = false;                // kPosted: a notification event must be sent
  model::ApicMessage notification{};  // kPosted with notify: vector NV to NDST
  std::uint8_t fault_reason = 0;      // kFault: an IrFaultReason, 0x20..0x28
  bool fpd = false;                   // kFault: IRTE.FPD suppresses recording (qualified)
  std::uint16_t index = 0;            // interrupt index (fault record FI[63:48])
  model::Cycle completion = 0;        // cycle the result is available
};

// IrStats (counters named after VT-d perfmon events) is defined in irq_remap/ir_stats.h.

// Checks an IrConfig: the IEC geometry must be valid (model::CacheGeometry::validate).
Status validate(const IrConfig& config);

class InterruptRemapper {
 public:
  // Throws std::invalid_argument when validate(config) fails; use create() to get an Error.
  InterruptRemapper(model::PhysicalMemory& memory, const IrConfig& config);
  static Expected<std::unique_ptr<InterruptRemapper>> create(model::PhysicalMemory& memory,
                                                             const IrConfig& config);
  ~InterruptRemapper();
  InterruptRemapper(const InterruptRemapper&) = delete;
  InterruptRemapper& operator=(const InterruptRemapper&) = delete;

  // A 4-byte write of `data` to `address` (in the 0xFEEx_xxxx window) by `source`.
  // Fault order (facts §7.5): IRE off → pass-through; 0x20; compatibility → 0x25 or
  // pass-through; 0x21; 0x23; 0x22; 0x24; 0x26; posted descriptor 0x27/0x28 [U].
  // Timing: completion = arrival + iec_lookup (+ irte_fetch on a miss) (+ memory_write when
  // posting); pass-through and the faults before the IEC lookup complete at arrival.
  IrResult remap(model::SourceId source, std::uint64_t address, std::uint32_t data,
                 const IrState& state, model::Cycle arrival);

  // Interrupt entry cache invalidation (QI type 4): global, or the 2^index_mask entries of the
  // aligned block holding `index` (index_mask >= 16: all). IM > ECAP.MHMV is not checked here:
  // the descriptor parser owns that rule.
  void invalidate_all();
  void invalidate_index(std::uint16_t index, unsigned index_mask);

  const IrStats& stats() const;
  void reset_stats();  // IrStats and the IEC's own cache counters

  const IrConfig& config() const;
  const model::CacheStats& iec_stats() const;
  std::size_t iec_size() const;
  // The cached IRTE for index, without counting or touching replacement state (for tests and
  // `vtdsim explain`); nullptr when not cached.
  const model::Entry128* iec_probe(std::uint16_t index) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vtdsim::irq_remap
