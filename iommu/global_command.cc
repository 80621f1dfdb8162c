// GCMD command handling and GSTS status (spec §11.4 GCMD/GSTS; facts §1.4, §1.5, §7.1).
#include "iommu/global_command.h"

namespace vtdsim::iommu {

GlobalCommand::GlobalCommand(RegisterFile& regs, const UnitConfig& config)
    : regs_(regs),
      qi_(config.queued_invalidation),
      ir_supported_(config.interrupt_remapping),
      rwbf_(config.rwbf) {}

void GlobalCommand::reset() {
  root_ = RootState{};
  ir_ = irq_remap::IrState{};
}

GcmdActions GlobalCommand::write(std::uint32_t value) {
  GcmdActions a;
  std::uint64_t status = regs_.get(Reg::kGsts);
  const std::uint64_t cmd = value;
  auto differs = [&](auto field) {
    using F = decltype(field);
    return F::get(cmd) != F::get(status);
  };

  // Level bits.
  if (differs(gcmd::TE{})) {
    status = gsts::TES::set(status, gcmd::TE::get(cmd));
    root_.translation_enabled = gcmd::TE::get(cmd) != 0;
    a.te_changed = true;
  }
  if (differs(gcmd::QIE{})) {
    if (!qi_) {
      a.ignored = true;
    } else {
      status = gsts::QIES::set(status, gcmd::QIE::get(cmd));
      (gcmd::QIE::get(cmd) != 0 ? a.qie_enabled : a.qie_disabled) = true;
    }
  }
  if (differs(gcmd::IRE{})) {
    if (!ir_supported_) {
      a.ignored = true;
    } else {
      status = gsts::IRES::set(status, gcmd::IRE::get(cmd));
      ir_.enabled = gcmd::IRE::get(cmd) != 0;
      a.ire_changed = true;
    }
  }
  if (differs(gcmd::CFI{})) {
    if (!ir_supported_) {
      a.ignored = true;
    } else {
      status = gsts::CFIS::set(status, gcmd::CFI::get(cmd));
      ir_.cfi = gcmd::CFI::get(cmd) != 0;
    }
  }
  if (gcmd::EAFL::get(cmd) != 0 || gcmd::SFL::get(cmd) != 0) a.ignored = true;  // CAP.AFL = 0

  // One-shot bits.
  if (gcmd::SRTP::get(cmd) != 0) {
    const std::uint64_t rt = regs_.get(Reg::kRtaddr);
    root_.root_table = rtaddr::RTA::raw(rt);
    root_.ttm = static_cast<std::uint8_t>(rtaddr::TTM::get(rt));
    root_.root_table_pointer_set = true;
    status = gsts::RTPS::set(status, 1);
    a.root_latched = true;
  }
  if (gcmd::SIRTP::get(cmd) != 0) {
    if (!ir_supported_) {
      a.ignored = true;
    } else {
      const std::uint64_t t = regs_.get(Reg::kIrta);
      ir_.table = irta::IRTA::raw(t);
      ir_.size_field = static_cast<unsigned>(irta::S::get(t));
      ir_.eime = irta::EIME::get(t) != 0;
      ir_.table_set = true;
      status = gsts::IRTPS::set(status, 1);
      a.irt_latched = true;
    }
  }
  if (gcmd::WBF::get(cmd) != 0) {
    if (rwbf_) {
      a.write_buffer_flushed = true;  // WBFS set and cleared within the write
    } else {
      a.ignored = true;
    }
  }
  regs_.set(Reg::kGsts, status);
  return a;
}

}  // namespace vtdsim::iommu
