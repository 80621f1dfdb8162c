// Function: config-space behaviour, BARs, MSI/MSI-X signalling (PCI 3.0 §6.2, §6.8).
// Spec sections and what is not modelled: see pci/function.h.
#include "pci/function.h"

#include <algorithm>
#include <bit>

#include "pci/topology.h"

namespace vtdsim::pci {

Function::Function(FunctionIdentity identity, HeaderType type) : header_type_(type) {
  config_.set16(cfg::kVendorId, identity.vendor_id);
  config_.set16(cfg::kDeviceId, identity.device_id);
  config_.set8(cfg::kRevisionId, identity.revision);
  config_.set8(cfg::kClassCode, static_cast<std::uint8_t>(identity.class_code));
  config_.set8(cfg::kClassCode + 1, static_cast<std::uint8_t>(identity.class_code >> 8));
  config_.set8(cfg::kClassCode + 2, static_cast<std::uint8_t>(identity.class_code >> 16));
  config_.set8(cfg::kHeaderType, static_cast<std::uint8_t>(type));
  config_.set_masks(cfg::kCommand, 2, command::kWritable);
  config_.set_masks(cfg::kStatus, 2, 0, status::kW1c);
  config_.set_masks(cfg::kCacheLineSize, 1, 0xFF);
  config_.set_masks(cfg::kInterruptLine, 1, 0xFF);
  if (type == HeaderType::kType0) config_.set_masks(cfg::kLatencyTimer, 1, 0xFF);
}

Function::~Function() = default;

model::SourceId Function::requester_id() const {
  const unsigned bus = bus_ != nullptr ? bus_->number() : 0;
  return model::SourceId{static_cast<std::uint16_t>((bus << 8) | (devfn_ & 0xFFu))};
}

bool Function::multifunction() const {
  return header_type::MF::get(config_.get8(cfg::kHeaderType)) != 0;
}

void Function::set_multifunction(bool mf) {
  config_.set8(cfg::kHeaderType, static_cast<std::uint8_t>(header_type::MF::set(
                                     config_.get8(cfg::kHeaderType), mf ? 1 : 0)));
}

std::uint32_t Function::config_read(std::uint32_t offset, unsigned size) const {
  const std::uint32_t limit = is_pcie() ? kConfigSpaceSize : kLegacyConfigSize;
  if (!valid_config_access(offset, size, limit)) return kAllOnes;
  return config_.read(offset, size);
}

bool Function::touches(std::uint32_t offset, unsigned size, std::uint32_t reg,
                       unsigned reg_size) const {
  return offset < reg + reg_size && reg < offset + size;
}

void Function::config_write(std::uint32_t offset, unsigned size, std::uint32_t value) {
  const std::uint32_t limit = is_pcie() ? kConfigSpaceSize : kLegacyConfigSize;
  if (!valid_config_access(offset, size, limit)) return;
  const bool msix_was_active =
      msix_offset_ && msix_enabled() &&
      msix::FUNCTION_MASK::get(config_.get16(*msix_offset_ + msix::kControl)) == 0;
  config_.write(offset, size, value);
  if (touches(offset, size, cfg::kCommand, 2)) dma_.set_bus_master(bus_master_enabled());
  if (msi_offset_) {
    const bool a64 = msi::ADDR64::get(config_.get16(*msi_offset_ + msi::kControl)) != 0;
    if (touches(offset, size, *msi_offset_ + msi::kControl, 2) ||
        touches(offset, size, *msi_offset_ + msi::mask(a64), 4)) {
      msi_flush_pending();
    }
  }
  if (msix_offset_ && touches(offset, size, *msix_offset_ + msix::kControl, 2)) {
    const bool active = msix_enabled() && msix::FUNCTION_MASK::get(
                                              config_.get16(*msix_offset_ + msix::kControl)) == 0;
    if (active && !msix_was_active) msix_flush_pending();
  }
  config_written(offset, size);
}

void Function::config_written(std::uint32_t /*offset*/, unsigned /*size*/) {}

void Function::set_status_bits(std::uint16_t bits) {
  config_.set16(cfg::kStatus, static_cast<std::uint16_t>(config_.get16(cfg::kStatus) | bits));
}

void Function::note_dma_error(const DmaResult& result, bool was_read) {
  // MODEL: a blocked read returns an Unsupported Request completion (VT-d §7.1: the remapping
  // hardware treats the request as UR), which sets Received Master Abort (PCIe 4.0 §7.5.1.1.4).
  if (was_read && (result.status == DmaStatus::kFault || result.status == DmaStatus::kOutOfRange ||
                   result.status == DmaStatus::kInterruptWindow)) {
    set_status_bits(static_cast<std::uint16_t>(status::RMA::kMask));
  }
}

// ---- capabilities ----

Expected<std::uint32_t> Function::add_pm_capability() {
  return pci::add_pm_capability(config_, chain_);
}

Expected<std::uint32_t> Function::add_msi_capability(const MsiConfig& config) {
  if (msi_offset_) return make_error(ErrorCode::kAlreadyExists, "the function already has MSI");
  auto at = pci::add_msi_capability(config_, chain_, config);
  if (at) msi_offset_ = *at;
  return at;
}

Expected<std::uint32_t> Function::add_msix_capability(const MsixConfig& config) {
  if (msix_offset_) return make_error(ErrorCode::kAlreadyExists, "the function already has MSI-X");
  auto check_bar = [&](unsigned bar, std::uint64_t offset, std::uint64_t bytes) -> Status {
    const BarSpec& spec = bars_[bar % 6];
    if (bar >= bar_count() ||
        (spec.kind != BarKind::kMemory32 && spec.kind != BarKind::kMemory64)) {
      return make_error(
          ErrorCode::kInvalidArgument,
          "MSI-X structures need a memory BAR defined first (BAR" + std::to_string(bar) + ")");
    }
    if (offset + bytes > spec.size) {
      return make_error(ErrorCode::kInvalidArgument,
                        "MSI-X table or PBA extends beyond BAR" + std::to_string(bar));
    }
    return {};
  };
  const std::uint64_t table_bytes = std::uint64_t{config.vectors} * msix::kEntrySize;
  const std::uint64_t pba_bytes = ((std::uint64_t{config.vectors} + 63) / 64) * 8;
  if (auto ok = check_bar(config.table_bar, config.table_offset, table_bytes); !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok = check_bar(config.pba_bar, config.pba_offset, pba_bytes); !ok) {
    return tl::unexpected(ok.error());
  }
  if (config.table_bar == config.pba_bar && config.table_offset < config.pba_offset + pba_bytes &&
      config.pba_offset < config.table_offset + table_bytes) {
    return make_error(ErrorCode::kInvalidArgument, "MSI-X table and PBA overlap");
  }
  auto at = pci::add_msix_capability(config_, chain_, config);
  if (!at) return at;
  msix_offset_ = *at;
  msix_config_ = config;
  msix_table_ = std::make_unique<MsixTable>(config.vectors);
  return at;
}

Expected<std::uint32_t> Function::add_pcie_capability(PortType type) {
  if (pcie_offset_) return make_error(ErrorCode::kAlreadyExists, "the function is already PCIe");
  auto at = pci::add_pcie_capability(config_, chain_, type);
  if (at) {
    pcie_offset_ = *at;
    port_type_ = type;
  }
  return at;
}

Expected<std::uint32_t> Function::add_acs_capability(std::uint16_t capability) {
  if (!pcie_offset_) {
    return make_error(ErrorCode::kUnsupported, "ACS is an extended capability: add PCIe first");
  }
  auto at = pci::add_acs_capability(config_, chain_, capability);
  if (at) acs_offset_ = *at;
  return at;
}

Expected<std::uint32_t> Function::add_ats_capability(const AtsConfig& config) {
  if (!pcie_offset_) {
    return make_error(ErrorCode::kUnsupported, "ATS is an extended capability: add PCIe first");
  }
  auto at = pci::add_ats_capability(config_, chain_, config);
  if (at) ats_offset_ = *at;
  return at;
}

Expected<std::uint32_t> Function::add_pasid_capability(const PasidConfig& config) {
  if (!pcie_offset_) {
    return make_error(ErrorCode::kUnsupported, "PASID is an extended capability: add PCIe first");
  }
  auto at = pci::add_pasid_capability(config_, chain_, config);
  if (at) pasid_offset_ = *at;
  return at;
}

bool Function::ats_enabled() const {
  return ats_offset_ && ats::ENABLE::get(config_.get16(*ats_offset_ + ats::kControl)) != 0;
}

bool Function::pasid_enabled() const {
  return pasid_offset_ && pasid::PE::get(config_.get16(*pasid_offset_ + pasid::kControl)) != 0;
}

// ---- BARs ----

Status Function::define_bar(unsigned index, const BarSpec& spec) {
  if (auto ok = validate_bar(index, spec, bar_count()); !ok) return ok;
  if (index > 0 && bars_[index - 1].kind == BarKind::kMemory64) {
    return make_error(ErrorCode::kInvalidArgument,
                      "BAR" + std::to_string(index) + " is the upper half of a 64-bit BAR");
  }
  if (spec.kind == BarKind::kMemory64 && bars_[index + 1].kind != BarKind::kNone) {
    return make_error(ErrorCode::kInvalidArgument,
                      "BAR" + std::to_string(index) + ": the next BAR is already in use");
  }
  bars_[index] = spec;
  const std::uint32_t reg = cfg::kBar0 + 4 * index;
  config_.set32(reg, bar_type_bits(spec));
  config_.set_masks(reg, 4, bar_low_mask(spec));
  if (spec.kind == BarKind::kMemory64) {
    config_.set32(reg + 4, 0);
    config_.set_masks(reg + 4, 4, bar_high_mask(spec));
  }
  return {};
}

std::uint64_t Function::bar_address(unsigned index) const {
  if (index >= bar_count()) return 0;
  const BarSpec& spec = bars_[index];
  const std::uint32_t reg = cfg::kBar0 + 4 * index;
  const std::uint32_t low = config_.get32(reg);
  switch (spec.kind) {
    case BarKind::kNone:
      return 0;
    case BarKind::kIo:
      return bar_reg::IO_BASE::raw(low);
    case BarKind::kMemory32:
      return bar_reg::MEM_BASE::raw(low);
    case BarKind::kMemory64:
      return bar_reg::MEM_BASE::raw(low) | (std::uint64_t{config_.get32(reg + 4)} << 32);
  }
  return 0;
}

std::optional<Function::BarHit> Function::decode_mmio(std::uint64_t address, unsigned size) const {
  if (!memory_enabled()) return std::nullopt;
  for (unsigned i = 0; i < bar_count(); ++i) {
    const BarSpec& spec = bars_[i];
    if (spec.kind != BarKind::kMemory32 && spec.kind != BarKind::kMemory64) continue;
    const std::uint64_t base = bar_address(i);
    if (base == 0) continue;  // unassigned
    if (address >= base && address - base < spec.size && spec.size - (address - base) >= size) {
      return BarHit{i, address - base};
    }
  }
  return std::nullopt;
}

std::uint64_t Function::mmio_read(unsigned bar, std::uint64_t offset, unsigned size) {
  if (bar >= bar_count() || (size != 1 && size != 2 && size != 4 && size != 8)) {
    return ~std::uint64_t{0};
  }
  const BarSpec& spec = bars_[bar];
  if (spec.kind == BarKind::kNone || offset >= spec.size || spec.size - offset < size) {
    return ~std::uint64_t{0};
  }
  if (msix_table_) {
    const MsixConfig& c = msix_config_;
    if (bar == c.table_bar && offset >= c.table_offset &&
        offset - c.table_offset < msix_table_->table_bytes()) {
      return msix_table_->table_read(offset - c.table_offset, size);
    }
    if (bar == c.pba_bar && offset >= c.pba_offset &&
        offset - c.pba_offset < msix_table_->pba_bytes()) {
      return msix_table_->pba_read(offset - c.pba_offset, size);
    }
  }
  return bar_read(bar, offset, size);
}

void Function::mmio_write(unsigned bar, std::uint64_t offset, unsigned size, std::uint64_t value) {
  if (bar >= bar_count() || (size != 1 && size != 2 && size != 4 && size != 8)) return;
  const BarSpec& spec = bars_[bar];
  if (spec.kind == BarKind::kNone || offset >= spec.size || spec.size - offset < size) return;
  if (msix_table_) {
    const MsixConfig& c = msix_config_;
    if (bar == c.table_bar && offset >= c.table_offset &&
        offset - c.table_offset < msix_table_->table_bytes()) {
      unsigned vector = 0;
      if (msix_table_->table_write(offset - c.table_offset, size, value, &vector)) {
        msix_flush_pending();
      }
      return;
    }
    if (bar == c.pba_bar && offset >= c.pba_offset &&
        offset - c.pba_offset < msix_table_->pba_bytes()) {
      return;  // the PBA is read-only
    }
  }
  bar_write(bar, offset, size, value);
}

std::uint64_t Function::bar_read(unsigned /*bar*/, std::uint64_t /*offset*/, unsigned /*size*/) {
  return 0;
}
void Function::bar_write(unsigned /*bar*/, std::uint64_t /*offset*/, unsigned /*size*/,
                         std::uint64_t /*value*/) {}

// ---- interrupts ----

void Function::connect(model::DmaTranslator& translator, model::PhysicalMemory& memory,
                       MsiTarget* msi) {
  dma_.connect(translator, memory, msi);
  dma_.set_bus_master(bus_master_enabled());
}

bool Function::msi_enabled() const {
  return msi_offset_ && msi::ENABLE::get(config_.get16(*msi_offset_ + msi::kControl)) != 0;
}

bool Function::msix_enabled() const {
  return msix_offset_ && msix::ENABLE::get(config_.get16(*msix_offset_ + msix::kControl)) != 0;
}

InterruptOutcome Function::send(std::uint64_t address, std::uint32_t data) {
  const DmaResult r = dma_.send_msi(address, data, now_);
  if (!r.ok()) {
    ++irq_stats_.dropped;
    return InterruptOutcome::kFailed;
  }
  ++irq_stats_.delivered;
  return InterruptOutcome::kDelivered;
}

InterruptOutcome Function::signal_interrupt(unsigned vector) {
  ++irq_stats_.signalled;
  if (msix_enabled()) {
    if (vector >= msix_table_->size()) {
      ++irq_stats_.dropped;
      return InterruptOutcome::kBadVector;
    }
    const bool function_mask =
        msix::FUNCTION_MASK::get(config_.get16(*msix_offset_ + msix::kControl)) != 0;
    const MsixTable::Entry& e = msix_table_->entry(vector);
    if (function_mask || e.masked()) {
      msix_table_->set_pending(vector, true);
      ++irq_stats_.pended;
      return InterruptOutcome::kPended;
    }
    return send(e.address, e.data);
  }
  if (msi_enabled()) {
    const std::uint32_t base = *msi_offset_;
    const std::uint16_t control = config_.get16(base + msi::kControl);
    const bool a64 = msi::ADDR64::get(control) != 0;
    const unsigned allocated =
        1u << std::min<unsigned>(static_cast<unsigned>(msi::MME::get(control)), 5u);
    if (vector >= allocated) {
      ++irq_stats_.dropped;
      return InterruptOutcome::kBadVector;
    }
    if (msi::PVM::get(control) != 0 && ((config_.get32(base + msi::mask(a64)) >> vector) & 1u)) {
      config_.set32(base + msi::pending(a64),
                    config_.get32(base + msi::pending(a64)) | (1u << vector));
      ++irq_stats_.pended;
      return InterruptOutcome::kPended;
    }
    return msi_send(vector);
  }
  ++irq_stats_.dropped;
  return InterruptOutcome::kNotEnabled;
}

InterruptOutcome Function::msi_send(unsigned vector) {
  const std::uint32_t base = *msi_offset_;
  const std::uint16_t control = config_.get16(base + msi::kControl);
  const bool a64 = msi::ADDR64::get(control) != 0;
  const unsigned allocated =
      1u << std::min<unsigned>(static_cast<unsigned>(msi::MME::get(control)), 5u);
  std::uint64_t address = config_.get32(base + msi::kAddressLo);
  if (a64) address |= std::uint64_t{config_.get32(base + msi::address_hi(true))} << 32;
  // Multiple Message Enable: the function replaces the low log2(allocated) bits of the data
  // with the vector number (PCI 3.0 §6.8.1.6).
  const std::uint32_t data = (config_.get16(base + msi::data(a64)) & ~(allocated - 1u)) | vector;
  return send(address, data);
}

bool Function::msi_pending(unsigned vector) const {
  if (!msi_offset_ || vector >= 32) return false;
  const bool a64 = msi::ADDR64::get(config_.get16(*msi_offset_ + msi::kControl)) != 0;
  if (msi::PVM::get(config_.get16(*msi_offset_ + msi::kControl)) == 0) return false;
  return ((config_.get32(*msi_offset_ + msi::pending(a64)) >> vector) & 1u) != 0;
}

bool Function::msix_pending(unsigned vector) const {
  return msix_table_ && msix_table_->pending(vector);
}

void Function::msi_flush_pending() {
  if (!msi_enabled()) return;
  const std::uint32_t base = *msi_offset_;
  const std::uint16_t control = config_.get16(base + msi::kControl);
  if (msi::PVM::get(control) == 0) return;
  const bool a64 = msi::ADDR64::get(control) != 0;
  const std::uint32_t mask = config_.get32(base + msi::mask(a64));
  std::uint32_t pending = config_.get32(base + msi::pending(a64));
  std::uint32_t ready = pending & ~mask;
  while (ready != 0) {
    const auto vector = static_cast<unsigned>(std::countr_zero(ready));
    ready &= ready - 1;
    pending &= ~(1u << vector);
    config_.set32(base + msi::pending(a64), pending);
    (void)msi_send(vector);
  }
}

void Function::msix_flush_pending() {
  if (!msix_enabled() ||
      msix::FUNCTION_MASK::get(config_.get16(*msix_offset_ + msix::kControl)) != 0) {
    return;
  }
  for (unsigned v = 0; v < msix_table_->size(); ++v) {
    if (msix_table_->pending(v) && !msix_table_->entry(v).masked()) {
      msix_table_->set_pending(v, false);
      (void)send(msix_table_->entry(v).address, msix_table_->entry(v).data);
    }
  }
}

}  // namespace vtdsim::pci
