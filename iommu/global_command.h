// GCMD → GSTS (spec §11.4 GCMD/GSTS; facts §1.4): level bits TE, QIE, IRE, CFI act when the
// written value differs from the status bit; one-shot bits SRTP (latch RTADDR: RTA and TTM),
// SIRTP (latch IRTA: base, S, EIME) and WBF act on every write that sets them. RTPS/IRTPS are
// cleared when the latch starts and set when it completes, WBFS set during the flush.
// MODEL: every command completes within the GCMD write, so RTPS/IRTPS read 1 and WBFS reads 0
// right after it. Commands for features the unit does not advertise (QIE without QI, IRE/CFI/
// SIRTP without IR, WBF without RWBF, EAFL/SFL without AFL) are ignored and reported.
#pragma once

#include <cstdint>

#include "iommu/dma_remapper.h"
#include "iommu/register_file.h"
#include "iommu/unit_config.h"
#include "irq_remap/interrupt_remapper.h"

namespace vtdsim::iommu {

// What one GCMD write did; the unit runs the side effects.
struct GcmdActions {
  bool root_latched = false;
  bool irt_latched = false;
  bool te_changed = false;
  bool qie_enabled = false;
  bool qie_disabled = false;
  bool ire_changed = false;
  bool write_buffer_flushed = false;
  bool ignored = false;  // at least one requested action was ignored
};

class GlobalCommand {
 public:
  GlobalCommand(RegisterFile& regs, const UnitConfig& config);

  GcmdActions write(std::uint32_t value);

  const RootState& root() const { return root_; }
  const irq_remap::IrState& ir_state() const { return ir_; }
  void reset();

 private:
  RegisterFile& regs_;
  bool qi_;
  bool ir_supported_;
  bool rwbf_;
  RootState root_{};
  irq_remap::IrState ir_{};
};

}  // namespace vtdsim::iommu
