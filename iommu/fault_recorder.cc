// Fault recording registers, FSTS and the fault event (spec §7.2–7.3; facts §1.6, §5.3).
#include "iommu/fault_recorder.h"

namespace vtdsim::iommu {

FaultRecorder::FaultRecorder(RegisterFile& regs, const UnitConfig& config,
                             EventInterrupt& fault_event, UnitStats& stats)
    : regs_(regs),
      event_(fault_event),
      stats_(stats),
      fi_mask_(frcd::FI::kMask & ((std::uint64_t{1} << config.mgaw) - 1)),
      records_(regs.fault_records()) {}

bool FaultRecorder::any_pending_record() const {
  for (unsigned i = 0; i < records_; ++i) {
    if (frcd::F::get(regs_.frcd(i, 1)) != 0) return true;
  }
  return false;
}

bool FaultRecorder::record(const FaultInfo& f, model::Cycle now) {
  const std::uint64_t status = regs_.get(Reg::kFsts);
  // While PFO is set no new fault is recorded (spec §11.4 FSTS.PFO).
  if (fsts::PFO::get(status) != 0) {
    ++stats_.faults_dropped_overflow;
    return false;
  }
  if (frcd::F::get(regs_.frcd(next_, 1)) != 0) {
    ++stats_.faults_dropped_overflow;
    regs_.set_field<fsts::PFO>(Reg::kFsts, 1);
    if ((status & kEventConditions) == 0) event_.raise(now);
    return false;
  }
  model::Entry128 e;
  if (f.interrupt) {
    e.set<frcd::FI_IR>(f.index);  // bits 47:12 stay clear
  } else {
    e.q[0] = f.address & fi_mask_;
    e.set<frcd::T>(f.access == model::AccessType::kRead ? 1 : 0);
    e.set<frcd::AT>(static_cast<std::uint64_t>(f.address_type));
    if (f.has_pasid) {
      e.set<frcd::PP>(1);
      e.set<frcd::PV>(f.pasid);
      e.set<frcd::PRIV>(f.privileged ? 1 : 0);
      e.set<frcd::EXE>(f.execute ? 1 : 0);
    }
  }
  e.set<frcd::SID>(f.source.raw);
  e.set<frcd::FR>(f.reason);
  e.set<frcd::F>(1);
  regs_.set_frcd(next_, 0, e.q[0]);
  regs_.set_frcd(next_, 1, e.q[1]);
  ++stats_.faults_recorded;
  if (fsts::PPF::get(status) == 0) {
    std::uint64_t s = fsts::PPF::set(status, 1);
    s = fsts::FRI::set(s, next_);
    regs_.set(Reg::kFsts, s);
    if ((status & kEventConditions) == 0) event_.raise(now);
  }
  next_ = next_ + 1 == records_ ? 0 : next_ + 1;
  return true;
}

void FaultRecorder::set_error(std::uint64_t fsts_mask, model::Cycle now) {
  const std::uint64_t status = regs_.get(Reg::kFsts);
  if ((status & fsts_mask) == fsts_mask) return;
  regs_.set(Reg::kFsts, status | fsts_mask);
  if ((status & kEventConditions) == 0) event_.raise(now);
}

void FaultRecorder::after_status_write() {
  const std::uint64_t ppf = any_pending_record() ? 1 : 0;
  regs_.set_field<fsts::PPF>(Reg::kFsts, ppf);
  if ((regs_.get(Reg::kFsts) & kEventConditions) == 0) event_.clear_pending();
}

}  // namespace vtdsim::iommu
