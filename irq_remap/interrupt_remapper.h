// Interrupt remapping (spec ch. 5): IRTA state, remappable/compatibility MSI decoding, IRTE
// fetch and checks, source-id validation, interrupt entry cache, posted-interrupt descriptor
// update. Pure logic over PhysicalMemory: it returns results and faults and records nothing;
// the RemappingUnit that owns it records the faults in its fault registers.
// Contract: never throws, asserts or crashes on IRTE or descriptor contents.
#pragma once

#include <cstdint>
#include <memory>

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
  std::uint8_t fault_reason = 0;      // kFault: 0x20..0x26
  bool fpd = false;                   // kFault: IRTE.FPD suppresses recording (qualified)
  std::uint16_t index = 0;            // interrupt index (fault record FI[63:48])
  model::Cycle completion = 0;        // cycle the result is available
};

struct IrStats;  // counters named after VT-d perfmon events; defined with the engine

class InterruptRemapper {
 public:
  InterruptRemapper(model::PhysicalMemory& memory, const IrConfig& config);
  ~InterruptRemapper();
  InterruptRemapper(const InterruptRemapper&) = delete;
  InterruptRemapper& operator=(const InterruptRemapper&) = delete;

  // A 4-byte write of `data` to `address` (in the 0xFEEx_xxxx window) by `source`.
  IrResult remap(model::SourceId source, std::uint64_t address, std::uint32_t data,
                 const IrState& state, model::Cycle arrival);

  // Interrupt entry cache invalidation (QI type 4): global, or 2^index_mask entries from index.
  void invalidate_all();
  void invalidate_index(std::uint16_t index, unsigned index_mask);

  const IrStats& stats() const;
  void reset_stats();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vtdsim::irq_remap
