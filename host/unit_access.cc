#include "host/unit_access.h"

#include <fmt/format.h>

#include "iommu/registers.h"

namespace vtdsim::host {

using iommu::reg_offset::kCap;
using iommu::reg_offset::kEcap;
using iommu::reg_offset::kGcmd;
using iommu::reg_offset::kGsts;

UnitAccess::UnitAccess(iommu::RemappingUnit& unit, unsigned poll_limit)
    : unit_(&unit), poll_limit_(poll_limit == 0 ? 1 : poll_limit) {
  cap_ = read64(kCap);
  ecap_ = read64(kEcap);
  iva_offset_ = static_cast<std::uint32_t>(iommu::ecap::IRO::get(ecap_) * 16);
}

std::uint32_t UnitAccess::read32(std::uint32_t offset) {
  ++stats_.mmio_reads;
  return static_cast<std::uint32_t>(unit_->mmio_read(offset, 4));
}

std::uint64_t UnitAccess::read64(std::uint32_t offset) {
  ++stats_.mmio_reads;
  return unit_->mmio_read(offset, 8);
}

void UnitAccess::write32(std::uint32_t offset, std::uint32_t value) {
  ++stats_.mmio_writes;
  unit_->mmio_write(offset, 4, value);
}

void UnitAccess::write64(std::uint32_t offset, std::uint64_t value) {
  ++stats_.mmio_writes;
  unit_->mmio_write(offset, 8, value);
}

Status UnitAccess::set_level(std::uint32_t bit, bool on, const char* name) {
  gcmd_ = on ? (gcmd_ | bit) : (gcmd_ & ~bit);
  ++stats_.gcmd_writes;
  write32(kGcmd, gcmd_);
  for (unsigned i = 0; i < poll_limit_; ++i) {
    ++stats_.status_polls;
    if (((read32(kGsts) & bit) != 0) == on) return {};
  }
  // The hardware did not follow: keep the shadow equal to what it reports.
  gcmd_ = (read32(kGsts) & bit) != 0 ? (gcmd_ | bit) : (gcmd_ & ~bit);
  return make_error(ErrorCode::kBusy, fmt::format("GSTS did not {} {} after {} reads",
                                                  on ? "set" : "clear", name, poll_limit_));
}

Status UnitAccess::one_shot(std::uint32_t bit, const char* name) {
  ++stats_.gcmd_writes;
  write32(kGcmd, gcmd_ | bit);
  for (unsigned i = 0; i < poll_limit_; ++i) {
    ++stats_.status_polls;
    if ((read32(kGsts) & bit) != 0) return {};
  }
  return make_error(ErrorCode::kBusy,
                    fmt::format("GSTS status of {} not set after {} reads", name, poll_limit_));
}

Status UnitAccess::flush_write_buffer() {
  if (iommu::cap::RWBF::get(cap_) == 0) return {};
  constexpr auto kWbf = static_cast<std::uint32_t>(iommu::gcmd::WBF::kMask);
  ++stats_.gcmd_writes;
  write32(kGcmd, gcmd_ | kWbf);
  for (unsigned i = 0; i < poll_limit_; ++i) {
    ++stats_.status_polls;
    if ((read32(kGsts) & kWbf) == 0) return {};
  }
  return make_error(ErrorCode::kBusy,
                    fmt::format("GSTS.WBFS still set after {} reads", poll_limit_));
}

Status UnitAccess::wait64(std::uint32_t offset, std::uint64_t mask, std::uint64_t expected,
                          const char* what) {
  for (unsigned i = 0; i < poll_limit_; ++i) {
    ++stats_.status_polls;
    if ((read64(offset) & mask) == expected) return {};
  }
  return make_error(ErrorCode::kBusy, fmt::format("{}: no completion after {} reads of {:#x}", what,
                                                  poll_limit_, offset));
}

}  // namespace vtdsim::host
