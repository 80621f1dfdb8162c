// DMA engine test device (see dma_engine.h).
// Spec sections and what is not modelled: see pci/dma_engine.h.
#include "pci/dma_engine.h"

#include "pci/mmio_regs.h"

namespace vtdsim::pci {

namespace r = dma_engine_regs;

DmaEngine::DmaEngine(FunctionIdentity identity) : Function(identity) {
  (void)define_bar(0, BarSpec{BarKind::kMemory32, r::kBar0Size, false});
  (void)define_bar(2, BarSpec{BarKind::kMemory32, r::kBar2Size, false});
  (void)add_pm_capability();
  (void)add_pcie_capability(PortType::kEndpoint);
  (void)add_msi_capability(MsiConfig{1, true, true});
  (void)add_msix_capability(MsixConfig{1, 2, 0, 2, 0x800});
}

std::uint64_t DmaEngine::bar_read(unsigned bar, std::uint64_t offset, unsigned size) {
  if (bar != 0) return 0;
  const auto byte = static_cast<unsigned>(offset & 7);
  switch (offset & ~std::uint64_t{7}) {
    case r::kSrc:
      return reg_extract(src_, byte, size);
    case r::kDst:
      return reg_extract(dst_, byte, size);
    case r::kLen:  // LEN (low dword) and CMD (high dword; START reads 0)
      return reg_extract(len_ | (std::uint64_t{cmd_ & r::IRQ_EN::kMask} << 32), byte, size);
    case r::kStatus:
      return reg_extract(status_, byte, size);
    case r::kFaultAddr:
      return reg_extract(fault_addr_, byte, size);
    case r::kCompleted:
      return reg_extract(completed_, byte, size);
    default:
      return 0;
  }
}

void DmaEngine::bar_write(unsigned bar, std::uint64_t offset, unsigned size, std::uint64_t value) {
  if (bar != 0) return;
  const auto byte = static_cast<unsigned>(offset & 7);
  switch (offset & ~std::uint64_t{7}) {
    case r::kSrc:
      src_ = reg_merge(src_, byte, size, value);
      break;
    case r::kDst:
      dst_ = reg_merge(dst_, byte, size, value);
      break;
    case r::kLen: {
      const std::uint64_t old = len_ | (std::uint64_t{cmd_} << 32);
      const std::uint64_t next = reg_merge(old, byte, size, value);
      len_ = static_cast<std::uint32_t>(next);
      const bool cmd_written = byte + size > 4;
      cmd_ = static_cast<std::uint32_t>(next >> 32) & static_cast<std::uint32_t>(r::IRQ_EN::kMask);
      if (cmd_written && r::START::get(next >> 32) != 0) start();
      break;
    }
    case r::kStatus: {
      // DONE and ERROR are write-1-to-clear; CODE/REASON are cleared with ERROR.
      const auto in =
          static_cast<std::uint32_t>(reg_extract(reg_merge(0, byte, size, value), 0, 4));
      if (r::DONE::get(in) != 0) status_ &= ~static_cast<std::uint32_t>(r::DONE::kMask);
      if (r::ERROR::get(in) != 0) {
        status_ &= ~static_cast<std::uint32_t>(r::ERROR::kMask | r::CODE::kMask | r::REASON::kMask);
      }
      break;
    }
    default:
      break;  // read-only or unimplemented
  }
}

void DmaEngine::start() {
  if (len_ > r::kMaxLength) {
    finish(true, r::kCodeBadLength, 0, 0);
    return;
  }
  buffer_.resize(len_);
  const DmaResult rd = dma().read(src_, buffer_, attrs_now());
  if (!rd.ok()) {
    note_dma_error(rd, true);
    finish(true, static_cast<std::uint32_t>(rd.status), rd.fault_reason, rd.fault_address);
    return;
  }
  DmaAttrs wa = attrs_now();
  wa.arrival = rd.completion;
  const DmaResult wr = dma().write(dst_, buffer_, wa);
  if (!wr.ok()) {
    note_dma_error(wr, false);
    finish(true, static_cast<std::uint32_t>(wr.status), wr.fault_reason, wr.fault_address);
    return;
  }
  last_completion_ = wr.completion;
  stats_.bytes += len_;
  finish(false, 0, 0, 0);
}

void DmaEngine::finish(bool error, std::uint32_t code, std::uint8_t reason,
                       std::uint64_t fault_address) {
  std::uint64_t s = r::DONE::set(status_, 1);
  if (error) {
    s = r::ERROR::set(s, 1);
    s = r::CODE::set(s, code);
    s = r::REASON::set(s, reason);
    fault_addr_ = fault_address;
    ++stats_.errors;
  } else {
    ++stats_.transfers;
  }
  status_ = static_cast<std::uint32_t>(s);
  ++completed_;
  if (r::IRQ_EN::get(cmd_) != 0) (void)signal_interrupt(0);
}

}  // namespace vtdsim::pci
