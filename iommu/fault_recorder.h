// Primary fault logging (spec §7.2–7.3; facts §1.6, §5.3): NFR fault recording registers at
// CAP.FRO, a round-robin next-record index, FSTS PFO/PPF/FRI, overflow, and the fault event
// (FECTL IM/IP) raised when PPF, PFO or an invalidation error (IQE/ICE/ITE) appears while no
// other such condition is pending.
// Not modelled: advanced fault logging (CAP.AFL=0); fault compression (optional in the spec).
#pragma once

#include <cstdint>

#include "iommu/event_interrupt.h"
#include "iommu/register_file.h"
#include "iommu/unit_config.h"
#include "iommu/unit_stats.h"
#include "model/types.h"

namespace vtdsim::iommu {

// The contents of one fault record (spec §11.4 FRCD; facts §5.3).
struct FaultInfo {
  model::SourceId source{};
  std::uint8_t reason = 0;
  std::uint64_t address = 0;  // DMA faults: the faulting address (FI = page address)
  bool interrupt = false;     // IR fault: FI[63:48] = index, T = 0
  std::uint16_t index = 0;    // IR faults: interrupt index
  model::AccessType access = model::AccessType::kRead;
  model::AddressType address_type = model::AddressType::kUntranslated;
  bool has_pasid = false;
  std::uint32_t pasid = 0;
  bool privileged = false;
  bool execute = false;
};

class FaultRecorder {
 public:
  FaultRecorder(RegisterFile& regs, const UnitConfig& config, EventInterrupt& fault_event,
                UnitStats& stats);

  // Records one fault. False when it was dropped (PFO set, or the next record still holds an
  // unserviced fault, which then sets PFO).
  bool record(const FaultInfo& fault, model::Cycle now);

  // Sets an invalidation error bit in FSTS (fsts::IQE/ICE/ITE mask) and raises the fault event
  // if it is a new condition.
  void set_error(std::uint64_t fsts_mask, model::Cycle now);

  // After software wrote FSTS or an FRCD: recompute PPF and drop a pending event when every
  // status condition has been serviced.
  void after_status_write();

  // The next-record index goes back to 0 when both TES and IRES are clear (spec §7.2.1).
  void reset_index() { next_ = 0; }
  unsigned next_index() const { return next_; }

 private:
  static constexpr std::uint64_t kEventConditions =
      fsts::PFO::kMask | fsts::PPF::kMask | fsts::IQE::kMask | fsts::ICE::kMask | fsts::ITE::kMask;
  bool any_pending_record() const;

  RegisterFile& regs_;
  EventInterrupt& event_;
  UnitStats& stats_;
  std::uint64_t fi_mask_;  // FI bits implemented for DMA faults (MGAW)
  unsigned records_;
  unsigned next_ = 0;
};

}  // namespace vtdsim::iommu
