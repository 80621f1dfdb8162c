#include "host/vtd_driver.h"

#include <algorithm>

#include <fmt/format.h>

#include "iommu/legacy_formats.h"
#include "iommu/registers.h"

namespace vtdsim::host {

namespace reg = iommu::reg_offset;
namespace ctx = iommu::context_entry;
namespace root = iommu::root_entry;

VtdDriver::VtdDriver(iommu::RemappingUnit& unit, model::PhysicalMemory& memory,
                     model::FrameAllocator& frames, const DriverConfig& config)
    : memory_(&memory),
      frames_(&frames),
      config_(config),
      regs_(unit, config.poll_limit),
      invalidator_(regs_, memory, frames),
      context_tables_(256, 0) {}

Status VtdDriver::init() {
  if (initialised_) return {};
  const std::uint64_t nd = regs_.cap_field<iommu::cap::ND>();
  if (nd > 6) {
    return make_error(ErrorCode::kUnsupported, fmt::format("CAP.ND = {} is reserved", nd));
  }
  domain_ids_ = 1u << (4 + 2 * nd);
  caching_mode_ = regs_.cap_field<iommu::cap::CM>() != 0;
  did_used_.assign(domain_ids_, false);
  // With CM = 1 hardware tags cached not-present entries with DID 0 (facts §1.2).
  if (caching_mode_) did_used_[0] = true;
  mgaw_ = static_cast<unsigned>(regs_.cap_field<iommu::cap::MGAW>()) + 1;
  // Largest SAGAW code whose width does not exceed the wanted width (facts §4.1).
  // Linux: the AW code covering the wanted width, or the next smaller one SAGAW offers.
  const unsigned want = std::max(std::min(config_.guest_address_width, mgaw_), 31u);
  const unsigned code_max = std::min((want - 30 + 8) / 9, 3u);
  const auto sagaw = regs_.cap_field<iommu::cap::SAGAW>();
  bool found = false;
  for (unsigned code = code_max; code >= 1; --code) {
    if (((sagaw >> code) & 1u) != 0) {
      agaw_ = code;
      found = true;
      break;
    }
  }
  if (!found) {
    return make_error(ErrorCode::kUnsupported,
                      fmt::format("CAP.SAGAW = {:#x} offers no 3/4/5-level table", sagaw));
  }
  const auto sllps = regs_.cap_field<iommu::cap::SLLPS>();
  sp_2m_ = config_.use_superpages && (sllps & 1u) != 0;
  sp_1g_ = config_.use_superpages && (sllps & 2u) != 0;
  psi_ = regs_.cap_field<iommu::cap::PSI>() != 0;
  mamv_ = static_cast<unsigned>(regs_.cap_field<iommu::cap::MAMV>());

  auto rt = frames_->allocate();
  if (!rt) return tl::unexpected(rt.error());
  root_table_ = *rt;
  if (auto ok = regs_.flush_write_buffer(); !ok) return ok;
  std::uint64_t rtaddr = 0;
  rtaddr = iommu::rtaddr::RTA::set(rtaddr, root_table_ >> 12);  // TTM = 00: legacy
  regs_.write64(reg::kRtaddr, rtaddr);
  if (auto ok = regs_.one_shot(static_cast<std::uint32_t>(iommu::gcmd::SRTP::kMask), "RTPS"); !ok) {
    return ok;
  }
  // Without CAP.ESRTPS software invalidates what the old root may have left cached.
  if (regs_.cap_field<iommu::cap::ESRTPS>() == 0) {
    if (auto ok = invalidator_.context_global(); !ok) return ok;
    if (auto ok = invalidator_.iotlb_global(); !ok) return ok;
  }
  if (config_.use_queued_invalidation && regs_.ecap_field<iommu::ecap::QI>() != 0) {
    if (auto ok = invalidator_.enable_queued_invalidation(); !ok) return ok;
  }
  initialised_ = true;
  return {};
}

Status VtdDriver::enable_translation() {
  if (!initialised_) return make_error(ErrorCode::kBusy, "enable_translation before init()");
  return regs_.set_level(static_cast<std::uint32_t>(iommu::gcmd::TE::kMask), true, "TES");
}

Status VtdDriver::disable_translation() {
  return regs_.set_level(static_cast<std::uint32_t>(iommu::gcmd::TE::kMask), false, "TES");
}

Expected<std::uint16_t> VtdDriver::allocate_did() {
  for (unsigned d = 0; d < did_used_.size(); ++d) {
    if (!did_used_[d]) {
      did_used_[d] = true;
      return static_cast<std::uint16_t>(d);
    }
  }
  return make_error(ErrorCode::kExhausted,
                    fmt::format("all {} domain ids (CAP.ND) are in use", domain_ids_));
}

Expected<VtdDriver::Domain*> VtdDriver::domain(std::uint16_t did) {
  auto it = domains_.find(did);
  if (it == domains_.end()) {
    return make_error(ErrorCode::kNotFound, fmt::format("no domain with id {}", did));
  }
  return &it->second;
}

Expected<std::uint16_t> VtdDriver::create_domain() {
  if (!initialised_) return make_error(ErrorCode::kBusy, "create_domain before init()");
  auto did = allocate_did();
  if (!did) return did;
  auto table = SlPageTable::create(*memory_, *frames_, agaw_, sp_2m_, sp_1g_);
  if (!table) {
    did_used_[*did] = false;
    return tl::unexpected(table.error());
  }
  domains_.emplace(*did, Domain{std::move(*table), 0});
  return did;
}

Status VtdDriver::destroy_domain(std::uint16_t did) {
  auto d = domain(did);
  if (!d) return tl::unexpected(d.error());
  if ((*d)->devices != 0) {
    return make_error(ErrorCode::kBusy,
                      fmt::format("domain {} still has {} device(s)", did, (*d)->devices));
  }
  // No device uses the tables; drop any IOTLB entries still tagged with the id before reuse.
  if (auto ok = invalidator_.iotlb_domain(did); !ok) return ok;
  if (auto ok = (*d)->table.destroy(); !ok) return ok;
  domains_.erase(did);
  did_used_[did] = false;
  return {};
}

Expected<std::uint64_t> VtdDriver::context_table_for(unsigned bus) {
  if (context_tables_[bus] != 0) return context_tables_[bus];
  auto page = frames_->allocate();
  if (!page) return page;
  model::Entry128 re;
  re.set<root::P>(1);
  re.set<root::CTP>(*page >> 12);
  if (auto ok = memory_->write(root_table_ + bus * root::kSize, model::U128{re.q[0], re.q[1]});
      !ok) {
    return tl::unexpected(ok.error());
  }
  context_tables_[bus] = *page;
  return *page;
}

std::uint64_t VtdDriver::context_entry_address(model::SourceId sid) const {
  const std::uint64_t table = context_tables_[sid.bus()];
  return table == 0 ? 0 : table + sid.devfn() * ctx::kSize;
}

Status VtdDriver::write_context(model::SourceId sid, std::uint64_t tt, std::uint16_t did,
                                std::uint64_t slptptr, unsigned aw) {
  auto table = context_table_for(sid.bus());
  if (!table) return tl::unexpected(table.error());
  model::Entry128 ce;
  ce.set<ctx::P>(1);
  ce.set<ctx::TT>(tt);
  ce.set<ctx::SLPTPTR>(slptptr >> 12);
  ce.set<ctx::AW>(aw);
  ce.set<ctx::DID>(did);
  const std::uint64_t pa = *table + sid.devfn() * ctx::kSize;
  // Upper half first so the entry never looks present with a stale DID/AW.
  if (auto ok = memory_->write<std::uint64_t>(pa + 8, ce.q[1]); !ok) return ok;
  if (auto ok = memory_->write<std::uint64_t>(pa, ce.q[0]); !ok) return ok;
  if (caching_mode_) {
    // CM = 1: the not-present entry may be cached under DID 0 (facts §1.2).
    if (auto ok = invalidator_.context_device(0, sid, 0); !ok) return ok;
    return invalidator_.iotlb_domain(did);
  }
  return regs_.flush_write_buffer();
}

Status VtdDriver::attach(std::uint16_t did, model::SourceId sid) {
  auto d = domain(did);
  if (!d) return tl::unexpected(d.error());
  if (attached_.count(sid.raw) != 0) {
    return make_error(ErrorCode::kAlreadyExists,
                      fmt::format("device {} is already attached", model::to_string(sid)));
  }
  if (auto ok = write_context(sid, ctx::kTtUntranslatedOnly, did, (*d)->table.root(), agaw_); !ok) {
    return ok;
  }
  ++(*d)->devices;
  attached_.emplace(sid.raw, Attachment{did, false});
  return {};
}

Status VtdDriver::attach_passthrough(model::SourceId sid) {
  if (!initialised_) return make_error(ErrorCode::kBusy, "attach_passthrough before init()");
  if (regs_.ecap_field<iommu::ecap::PT>() == 0) {
    return make_error(ErrorCode::kUnsupported, "pass-through needs ECAP.PT");
  }
  if (attached_.count(sid.raw) != 0) {
    return make_error(ErrorCode::kAlreadyExists,
                      fmt::format("device {} is already attached", model::to_string(sid)));
  }
  if (passthrough_did_ == 0) {
    auto did = allocate_did();
    if (!did) return tl::unexpected(did.error());
    passthrough_did_ = *did;
  }
  if (auto ok = write_context(sid, ctx::kTtPassThrough, passthrough_did_, 0, agaw_); !ok) {
    return ok;
  }
  attached_.emplace(sid.raw, Attachment{passthrough_did_, true});
  return {};
}

Status VtdDriver::detach(model::SourceId sid) {
  auto it = attached_.find(sid.raw);
  if (it == attached_.end()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("device {} is not attached", model::to_string(sid)));
  }
  const std::uint16_t did = it->second.did;
  const std::uint64_t pa = context_entry_address(sid);
  if (auto ok = memory_->write<std::uint64_t>(pa, 0); !ok) return ok;
  if (auto ok = memory_->write<std::uint64_t>(pa + 8, 0); !ok) return ok;
  if (auto ok = invalidator_.context_device(did, sid, 0); !ok) return ok;
  if (auto ok = invalidator_.iotlb_domain(did); !ok) return ok;
  if (!it->second.passthrough) --domains_.at(did).devices;
  attached_.erase(it);
  return {};
}

Status VtdDriver::map(std::uint16_t did, std::uint64_t iova, std::uint64_t hpa, std::uint64_t size,
                      model::Permissions permissions) {
  auto d = domain(did);
  if (!d) return tl::unexpected(d.error());
  const std::uint64_t limit = std::uint64_t{1} << std::min(mgaw_, iommu::width_for_aw(agaw_));
  if (iova >= limit || size > limit - iova) {
    return make_error(ErrorCode::kOutOfRange,
                      fmt::format("map: [{:#x}, +{:#x}) beyond the {}-bit input range", iova, size,
                                  std::min(mgaw_, iommu::width_for_aw(agaw_))));
  }
  if (iommu::overlaps_interrupt_window(iova, size)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("map: [{:#x}, +{:#x}) overlaps the interrupt window "
                                  "0xFEE00000-0xFEEFFFFF (§3.14)",
                                  iova, size));
  }
  if (auto ok = (*d)->table.map(iova, hpa, size, permissions); !ok) return ok;
  if (caching_mode_) return flush_range(did, iova, size, false);
  return regs_.flush_write_buffer();
}

Expected<std::uint64_t> VtdDriver::unmap(std::uint16_t did, std::uint64_t iova, std::uint64_t size,
                                         std::vector<std::uint64_t>& detached) {
  auto d = domain(did);
  if (!d) return tl::unexpected(d.error());
  return (*d)->table.unmap(iova, size, detached);
}

Status VtdDriver::flush_range(std::uint16_t did, std::uint64_t iova, std::uint64_t size,
                              bool tables_freed) {
  if (size == 0) return {};
  const std::uint64_t first = iova >> model::kPageShift;
  const std::uint64_t last = (iova + size - 1) >> model::kPageShift;
  // Smallest naturally aligned power-of-two block of pages holding [first, last].
  unsigned am = 0;
  while (am < 52 && (first >> am) != (last >> am)) ++am;
  if (!psi_ || am > mamv_) return invalidator_.iotlb_domain(did);
  const std::uint64_t address = (first >> am) << (am + model::kPageShift);
  return invalidator_.iotlb_pages(did, address, am, !tables_freed);
}

Status VtdDriver::flush_domain(std::uint16_t did) {
  return invalidator_.iotlb_domain(did);
}

Status VtdDriver::free_tables(const std::vector<std::uint64_t>& pages) {
  for (std::uint64_t pa : pages) {
    if (auto ok = frames_->free(pa); !ok) return ok;
  }
  return {};
}

Status VtdDriver::unmap_sync(std::uint16_t did, std::uint64_t iova, std::uint64_t size) {
  std::vector<std::uint64_t> detached;
  auto r = unmap(did, iova, size, detached);
  if (!r) return tl::unexpected(r.error());
  if (auto ok = flush_range(did, iova, size, !detached.empty()); !ok) return ok;
  return free_tables(detached);
}

Status VtdDriver::map_identity(std::uint16_t did, std::uint64_t base, std::uint64_t size) {
  return map(did, base, base, size, model::Permissions{true, true, false});
}

const SlPageTable* VtdDriver::page_table(std::uint16_t did) const {
  auto it = domains_.find(did);
  return it == domains_.end() ? nullptr : &it->second.table;
}

}  // namespace vtdsim::host
