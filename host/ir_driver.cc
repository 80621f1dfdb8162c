#include "host/ir_driver.h"

#include <bit>

#include <fmt/format.h>

#include "iommu/registers.h"
#include "irq_remap/irte.h"

namespace vtdsim::host {

namespace reg = iommu::reg_offset;
namespace irte = irq_remap::irte;
namespace pirte = irq_remap::posted_irte;

IrDriver::IrDriver(UnitAccess& regs, CacheInvalidator& invalidator, model::PhysicalMemory& memory,
                   model::FrameAllocator& frames, const IrDriverConfig& config)
    : regs_(&regs),
      invalidator_(&invalidator),
      memory_(&memory),
      frames_(&frames),
      config_(config) {}

Status IrDriver::enable() {
  if (enabled_) return {};
  if (regs_->ecap_field<iommu::ecap::IR>() == 0) {
    return make_error(ErrorCode::kUnsupported, "interrupt remapping: ECAP.IR = 0");
  }
  if (!invalidator_->queued()) {
    return make_error(ErrorCode::kBusy,
                      "interrupt remapping needs queued invalidation enabled first");
  }
  if (config_.size_field > 15) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("IrDriverConfig.size_field = {}: need 0..15", config_.size_field));
  }
  entries_ = 1u << (config_.size_field + 1);
  const std::uint64_t bytes = std::uint64_t{entries_} * irq_remap::kIrteSize;
  const std::uint64_t pages = (bytes + model::kPageSize - 1) / model::kPageSize;
  auto table = frames_->allocate(pages, std::bit_ceil(pages));
  if (!table) return tl::unexpected(table.error());
  table_ = *table;
  used_.assign(entries_, false);
  x2apic_ = config_.x2apic && regs_->ecap_field<iommu::ecap::EIM>() != 0;
  std::uint64_t irta = 0;
  irta = iommu::irta::IRTA::set(irta, table_ >> 12);
  irta = iommu::irta::S::set(irta, config_.size_field);
  irta = iommu::irta::EIME::set(irta, x2apic_ ? 1 : 0);
  regs_->write64(reg::kIrta, irta);
  if (auto ok = regs_->one_shot(static_cast<std::uint32_t>(iommu::gcmd::SIRTP::kMask), "IRTPS");
      !ok) {
    return ok;
  }
  if (regs_->cap_field<iommu::cap::ESIRTPS>() == 0) {
    if (auto ok = invalidator_->iec_global(); !ok) return ok;
  }
  if (auto ok = regs_->set_level(static_cast<std::uint32_t>(iommu::gcmd::IRE::kMask), true, "IRES");
      !ok) {
    return ok;
  }
  // Block compatibility-format interrupts (facts §1.4: Linux clears CFI after IRE).
  if (auto ok =
          regs_->set_level(static_cast<std::uint32_t>(iommu::gcmd::CFI::kMask), false, "CFIS");
      !ok) {
    return ok;
  }
  enabled_ = true;
  return {};
}

Status IrDriver::disable() {
  if (!enabled_) return {};
  if (auto ok =
          regs_->set_level(static_cast<std::uint32_t>(iommu::gcmd::IRE::kMask), false, "IRES");
      !ok) {
    return ok;
  }
  enabled_ = false;
  return {};
}

Expected<std::uint16_t> IrDriver::allocate(unsigned count) {
  if (!enabled_) return make_error(ErrorCode::kBusy, "IrDriver::allocate before enable()");
  const unsigned max = 1u << regs_->ecap_field<iommu::ecap::MHMV>();
  if (count == 0 || !std::has_single_bit(count) || count > max || count > entries_) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("IrDriver::allocate: {} entries (need a power of two up to "
                                  "2^MHMV = {} and the table's {})",
                                  count, max, entries_));
  }
  for (std::uint32_t first = 0; first + count <= entries_; first += count) {
    bool free = true;
    for (unsigned i = 0; i < count && free; ++i) free = !used_[first + i];
    if (!free) continue;
    for (unsigned i = 0; i < count; ++i) used_[first + i] = true;
    return static_cast<std::uint16_t>(first);
  }
  return make_error(ErrorCode::kExhausted, fmt::format("no free aligned block of {} IRTEs", count));
}

Status IrDriver::check_allocated(std::uint16_t index) const {
  if (index >= entries_ || !used_[index]) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("IRTE {} is not allocated", index));
  }
  return {};
}

std::uint64_t IrDriver::irte_address(std::uint16_t index) const {
  return table_ + std::uint64_t{index} * irq_remap::kIrteSize;
}

Status IrDriver::write_irte(std::uint16_t index, const model::Entry128& e, unsigned index_mask) {
  // One 16-byte store: a posted entry's PDA spans both qwords (Linux uses cmpxchg16b).
  if (auto ok = memory_->write(irte_address(index), model::U128{e.q[0], e.q[1]}); !ok) {
    return ok;
  }
  const std::uint16_t aligned = static_cast<std::uint16_t>(index & ~((1u << index_mask) - 1u));
  return invalidator_->iec_index(aligned, index_mask);
}

Status IrDriver::free(std::uint16_t index, unsigned count) {
  if (count == 0 || !std::has_single_bit(count) || (index & (count - 1)) != 0) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("IrDriver::free: block {} of {} is not an aligned power of two", index, count));
  }
  for (unsigned i = 0; i < count; ++i) {
    if (auto ok = check_allocated(static_cast<std::uint16_t>(index + i)); !ok) return ok;
  }
  for (unsigned i = 0; i < count; ++i) {
    if (auto ok =
            memory_->write(irte_address(static_cast<std::uint16_t>(index + i)), model::U128{});
        !ok) {
      return ok;
    }
    used_[index + i] = false;
  }
  return invalidator_->iec_index(index, static_cast<unsigned>(std::countr_zero(count)));
}

Status IrDriver::program_remapped(std::uint16_t index, const RemappedTarget& target,
                                  SourceValidation validation) {
  if (auto ok = check_allocated(index); !ok) return ok;
  if (!x2apic_ && target.destination > 0xFF) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("destination {:#x} needs x2APIC mode (IRTA.EIME)", target.destination));
  }
  model::Entry128 e;
  e.set<irte::P>(1);
  e.set<irte::DM>(target.logical ? 1 : 0);
  e.set<irte::RH>(target.redirection_hint ? 1 : 0);
  e.set<irte::TM>(target.level ? 1 : 0);
  e.set<irte::DLM>(static_cast<std::uint64_t>(target.delivery_mode));
  e.set<irte::V>(target.vector);
  if (x2apic_) {
    e.set<irte::DST>(target.destination);
  } else {
    e.set<irte::DST_XAPIC>(target.destination);
  }
  e.set<irte::SID>(validation.sid);
  e.set<irte::SQ>(validation.sq);
  e.set<irte::SVT>(validation.svt);
  return write_irte(index, e, 0);
}

Status IrDriver::program_posted(std::uint16_t index, std::uint64_t pda, std::uint8_t vector,
                                bool urgent, SourceValidation validation) {
  if (auto ok = check_allocated(index); !ok) return ok;
  if (regs_->cap_field<iommu::cap::PI>() == 0) {
    return make_error(ErrorCode::kUnsupported, "posted interrupts: CAP.PI = 0");
  }
  if ((pda & (irq_remap::pid::kSize - 1)) != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("posted-interrupt descriptor {:#x} is not 64-byte aligned", pda));
  }
  model::Entry128 e;
  e.set<pirte::P>(1);
  e.set<pirte::IM>(1);
  e.set<pirte::URG>(urgent ? 1 : 0);
  e.set<pirte::VV>(vector);
  e.set<pirte::PDA_L>((pda & 0xFFFF'FFFFu) >> 6);
  e.set<pirte::PDA_H>(pda >> 32);
  e.set<pirte::SID>(validation.sid);
  e.set<pirte::SQ>(validation.sq);
  e.set<pirte::SVT>(validation.svt);
  return write_irte(index, e, 0);
}

Status IrDriver::clear(std::uint16_t index) {
  if (auto ok = check_allocated(index); !ok) return ok;
  return write_irte(index, model::Entry128{}, 0);
}

irq_remap::MsiMessage IrDriver::compose_msi(std::uint16_t handle, std::uint16_t subhandle) const {
  return irq_remap::encode_remappable_msi(handle, true, subhandle);
}

}  // namespace vtdsim::host
