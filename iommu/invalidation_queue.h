// Queued invalidation (spec §6.5.2; facts §6.1–6.7): IQA (base, QS, DW), IQH/IQT, fetching
// and executing 128-bit descriptors of types 1–5, wait descriptors (status write, IF →
// ICS.IWC + invalidation event, FN), and queue errors: FSTS.IQE with IQER.IQEI, IQH left at the
// offending descriptor, fetching resumed by the next IQT write once IQE is clear.
// MODEL: a tail write processes the whole queue synchronously; fences and drains (FN, DR, DW)
// are therefore already satisfied.
// 256-bit queues (IQA.DW = 1, needs ECAP.SMTS) also take the scalable-mode types 6–8
// (scalable_descriptors.h). Not modelled: type 9 page-group responses (invalid type), ITE/ICE
// (device-TLB invalidations complete at once).
#pragma once

#include <cstdint>

#include "iommu/descriptors.h"
#include "iommu/event_interrupt.h"
#include "iommu/fault_recorder.h"
#include "iommu/register_file.h"
#include "iommu/unit_config.h"
#include "iommu/unit_stats.h"
#include "model/physical_memory.h"

namespace vtdsim::iommu {

class InvalidationQueue {
 public:
  InvalidationQueue(RegisterFile& regs, const UnitConfig& config, model::PhysicalMemory& memory,
                    InvalidationTarget& target, FaultRecorder& faults,
                    EventInterrupt& completion_event, UnitStats& stats);

  // Fetches and executes descriptors from IQH up to IQT, when GSTS.QIES=1 and FSTS.IQE=0.
  // scalable_ttm: the latched RTADDR.TTM is scalable mode (128-bit descriptors are invalid).
  void process(bool scalable_ttm, model::Cycle now);
  // GCMD.QIE cleared: IQH returns to 0 (spec §11.4 IQH).
  void on_disable() { regs_.set(Reg::kIqh, 0); }
  // After software wrote ICS: with IWC clear, a pending completion event is dropped.
  void after_ics_write();

 private:
  // Executes one descriptor; kNone on success.
  QueueError execute(std::uint64_t q0, std::uint64_t q1, bool wide, model::Cycle now);
  QueueError execute_scalable(unsigned type, std::uint64_t q0, std::uint64_t q1);
  QueueError wait(std::uint64_t q0, std::uint64_t q1, model::Cycle now);
  void fail(QueueError error, model::Cycle now);

  RegisterFile& regs_;
  model::PhysicalMemory& memory_;
  InvalidationTarget& target_;
  FaultRecorder& faults_;
  EventInterrupt& event_;
  UnitStats& stats_;
  bool dt_;
  bool sm_;
  bool ir_;
  bool psi_;
  unsigned mamv_;
  unsigned mhmv_;
};

}  // namespace vtdsim::iommu
