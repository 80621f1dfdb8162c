#include "host/cache_invalidator.h"

#include <array>

#include <fmt/format.h>

#include "iommu/descriptors.h"
#include "iommu/registers.h"

namespace vtdsim::host {

namespace reg = iommu::reg_offset;

// Granularity encodings shared by CCMD.CIRG, IOTLB.IIRG and the descriptors' G fields
// (facts §2.1, §2.2, §6.3, §6.4).
constexpr std::uint64_t kGlobal = 1;
constexpr std::uint64_t kDomain = 2;
constexpr std::uint64_t kSelective = 3;  // device (context) / page (IOTLB)

CacheInvalidator::CacheInvalidator(UnitAccess& regs, model::PhysicalMemory& memory,
                                   model::FrameAllocator& frames)
    : regs_(&regs), memory_(&memory), frames_(&frames) {}

Status CacheInvalidator::enable_queued_invalidation() {
  if (queued_) return {};
  if (regs_->ecap_field<iommu::ecap::QI>() == 0) {
    return make_error(ErrorCode::kUnsupported, "queued invalidation: ECAP.QI = 0");
  }
  auto queue = frames_->allocate();
  if (!queue) return tl::unexpected(queue.error());
  auto status = frames_->allocate();
  if (!status) {
    (void)frames_->free(*queue);
    return tl::unexpected(status.error());
  }
  queue_base_ = *queue;
  status_address_ = *status;
  tail_ = 0;
  // Linux order (facts §1.4): IQT = 0, then IQA (base, QS = 0, DW = 0), then QIE.
  regs_->write64(reg::kIqt, 0);
  std::uint64_t iqa = 0;
  iqa = iommu::iqa::IQA::set(iqa, queue_base_ >> 12);
  regs_->write64(reg::kIqa, iqa);
  if (auto ok = regs_->set_level(static_cast<std::uint32_t>(iommu::gcmd::QIE::kMask), true, "QIES");
      !ok) {
    return ok;
  }
  queued_ = true;
  return {};
}

std::uint64_t CacheInvalidator::drain_bits_desc() const {
  std::uint64_t q0 = 0;
  if (regs_->cap_field<iommu::cap::DRD>() != 0) q0 = iommu::iotlb_desc::DR::set(q0, 1);
  if (regs_->cap_field<iommu::cap::DWD>() != 0) q0 = iommu::iotlb_desc::DW::set(q0, 1);
  return q0;
}

Status CacheInvalidator::submit(std::span<const model::Entry128> descriptors) {
  if (!queued_) {
    return make_error(ErrorCode::kUnsupported,
                      "CacheInvalidator::submit: queued invalidation is not enabled");
  }
  // One slot stays free (IQT must not catch up with IQH); the model drains the queue at each
  // tail write, so a batch only has to fit the queue.
  if (descriptors.size() + 1 >= kQueueEntries) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("CacheInvalidator::submit: {} descriptors exceed the queue",
                                  descriptors.size()));
  }
  auto put = [&](const model::Entry128& d) -> Status {
    const std::uint64_t slot = queue_base_ + std::uint64_t{tail_} * 16;
    if (auto ok = memory_->write<std::uint64_t>(slot, d.q[0]); !ok) return ok;
    if (auto ok = memory_->write<std::uint64_t>(slot + 8, d.q[1]); !ok) return ok;
    tail_ = (tail_ + 1) % kQueueEntries;
    return {};
  };
  for (const model::Entry128& d : descriptors) {
    if (auto ok = put(d); !ok) return ok;
    ++stats_.descriptors;
  }
  // Wait descriptor: status write of a fresh sequence number, fenced (facts §6.7).
  const std::uint32_t seq = ++sequence_;
  if (auto ok = memory_->write<std::uint32_t>(status_address_, 0); !ok) return ok;
  model::Entry128 wait;
  wait.set<iommu::desc::Type>(iommu::desc::kWait);
  wait.set<iommu::wait_desc::SW>(1);
  wait.set<iommu::wait_desc::FN>(1);
  wait.set<iommu::wait_desc::STATUS_DATA>(seq);
  wait.set<iommu::wait_desc::STATUS_ADDR>(status_address_ >> 2);
  if (auto ok = put(wait); !ok) return ok;
  ++stats_.waits;
  regs_->write64(reg::kIqt, iommu::queue_pointer::QO::set(0, tail_));
  for (unsigned i = 0; i < 1000; ++i) {
    const std::uint32_t fsts = regs_->read32(reg::kFsts);
    if (iommu::fsts::IQE::get(fsts) != 0) {
      ++stats_.queue_errors;
      const std::uint64_t iqer = regs_->read64(reg::kIqer);
      const std::uint64_t head = iommu::queue_pointer::QO::get(regs_->read64(reg::kIqh));
      // Abandon the rest of the batch: tail back to the faulting slot, then clear IQE.
      tail_ = static_cast<unsigned>(head);
      regs_->write64(reg::kIqt, iommu::queue_pointer::QO::set(0, tail_));
      regs_->write32(reg::kFsts, static_cast<std::uint32_t>(iommu::fsts::IQE::kMask));
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("invalidation queue error IQEI={} at descriptor {}",
                                    iommu::iqer::IQEI::get(iqer), head));
    }
    auto status = memory_->read<std::uint32_t>(status_address_);
    if (status && *status == seq) return {};
  }
  return make_error(ErrorCode::kBusy, "invalidation wait descriptor never completed");
}

Status CacheInvalidator::register_context(std::uint64_t cirg, std::uint16_t did, std::uint16_t sid,
                                          unsigned fm) {
  ++stats_.register_invalidations;
  std::uint64_t v = 0;
  v = iommu::ccmd::ICC::set(v, 1);
  v = iommu::ccmd::CIRG::set(v, cirg);
  v = iommu::ccmd::DID::set(v, did);
  v = iommu::ccmd::SID::set(v, sid);
  v = iommu::ccmd::FM::set(v, fm);
  regs_->write64(reg::kCcmd, v);
  return regs_->wait64(reg::kCcmd, iommu::ccmd::ICC::kMask, 0, "CCMD.ICC");
}

Status CacheInvalidator::register_iotlb(std::uint64_t iirg, std::uint16_t did, std::uint64_t iva) {
  ++stats_.register_invalidations;
  const std::uint32_t iva_off = regs_->iva_offset();
  const std::uint32_t iotlb_off = iva_off + 8;
  if (iirg == kSelective) regs_->write64(iva_off, iva);
  std::uint64_t v = 0;
  v = iommu::iotlb_reg::IVT::set(v, 1);
  v = iommu::iotlb_reg::IIRG::set(v, iirg);
  v = iommu::iotlb_reg::DID::set(v, did);
  if (regs_->cap_field<iommu::cap::DRD>() != 0) v = iommu::iotlb_reg::DR::set(v, 1);
  if (regs_->cap_field<iommu::cap::DWD>() != 0) v = iommu::iotlb_reg::DW::set(v, 1);
  regs_->write64(iotlb_off, v);
  if (auto ok = regs_->wait64(iotlb_off, iommu::iotlb_reg::IVT::kMask, 0, "IOTLB.IVT"); !ok) {
    return ok;
  }
  if (iommu::iotlb_reg::IAIG::get(regs_->read64(iotlb_off)) == 0) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("IOTLB invalidation (IIRG={}, DID={}) not performed (IAIG=0)", iirg, did));
  }
  return {};
}

namespace {
model::Entry128 context_descriptor(std::uint64_t g, std::uint16_t did, std::uint16_t sid,
                                   unsigned fm) {
  model::Entry128 d;
  d.set<iommu::desc::Type>(iommu::desc::kContextCache);
  d.set<iommu::cc_desc::G>(g);
  d.set<iommu::cc_desc::DID>(did);
  d.set<iommu::cc_desc::SID>(sid);
  d.set<iommu::cc_desc::FM>(fm);
  return d;
}
}  // namespace

Status CacheInvalidator::context_global() {
  ++stats_.context;
  if (!queued_) return register_context(kGlobal, 0, 0, 0);
  const std::array d{context_descriptor(kGlobal, 0, 0, 0)};
  return submit(d);
}

Status CacheInvalidator::context_domain(std::uint16_t did) {
  ++stats_.context;
  if (!queued_) return register_context(kDomain, did, 0, 0);
  const std::array d{context_descriptor(kDomain, did, 0, 0)};
  return submit(d);
}

Status CacheInvalidator::context_device(std::uint16_t did, model::SourceId sid,
                                        unsigned function_mask) {
  ++stats_.context;
  if (!queued_) return register_context(kSelective, did, sid.raw, function_mask);
  const std::array d{context_descriptor(kSelective, did, sid.raw, function_mask)};
  return submit(d);
}

Status CacheInvalidator::iotlb_global() {
  ++stats_.iotlb_global;
  if (!queued_) return register_iotlb(kGlobal, 0, 0);
  model::Entry128 d;
  d.q[0] = drain_bits_desc();
  d.set<iommu::desc::Type>(iommu::desc::kIotlb);
  d.set<iommu::iotlb_desc::G>(kGlobal);
  const std::array ds{d};
  return submit(ds);
}

Status CacheInvalidator::iotlb_domain(std::uint16_t did) {
  ++stats_.iotlb_domain;
  if (!queued_) return register_iotlb(kDomain, did, 0);
  model::Entry128 d;
  d.q[0] = drain_bits_desc();
  d.set<iommu::desc::Type>(iommu::desc::kIotlb);
  d.set<iommu::iotlb_desc::G>(kDomain);
  d.set<iommu::iotlb_desc::DID>(did);
  const std::array ds{d};
  return submit(ds);
}

Status CacheInvalidator::iotlb_pages(std::uint16_t did, std::uint64_t address, unsigned am,
                                     bool ih) {
  if ((address & ((std::uint64_t{1} << (12 + am)) - 1)) != 0) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("iotlb_pages: address {:#x} not aligned to 2^{} pages", address, am));
  }
  ++stats_.iotlb_page;
  if (!queued_) {
    std::uint64_t iva = 0;
    iva = iommu::iva::ADDR::set(iva, address >> 12);
    iva = iommu::iva::AM::set(iva, am);
    iva = iommu::iva::IH::set(iva, ih ? 1 : 0);
    return register_iotlb(kSelective, did, iva);
  }
  model::Entry128 d;
  d.q[0] = drain_bits_desc();
  d.set<iommu::desc::Type>(iommu::desc::kIotlb);
  d.set<iommu::iotlb_desc::G>(kSelective);
  d.set<iommu::iotlb_desc::DID>(did);
  d.set<iommu::iotlb_desc::AM>(am);
  d.set<iommu::iotlb_desc::IH>(ih ? 1 : 0);
  d.set<iommu::iotlb_desc::ADDR>(address >> 12);
  const std::array ds{d};
  return submit(ds);
}

Status CacheInvalidator::iec_global() {
  ++stats_.iec;
  if (!queued_) {
    return make_error(ErrorCode::kUnsupported,
                      "IEC invalidation needs queued invalidation (there is no register form)");
  }
  model::Entry128 d;
  d.set<iommu::desc::Type>(iommu::desc::kIec);
  d.set<iommu::iec_desc::G>(0);
  const std::array ds{d};
  return submit(ds);
}

Status CacheInvalidator::iec_index(std::uint16_t index, unsigned index_mask) {
  ++stats_.iec;
  if (!queued_) {
    return make_error(ErrorCode::kUnsupported,
                      "IEC invalidation needs queued invalidation (there is no register form)");
  }
  model::Entry128 d;
  d.set<iommu::desc::Type>(iommu::desc::kIec);
  d.set<iommu::iec_desc::G>(1);
  d.set<iommu::iec_desc::IM>(index_mask);
  d.set<iommu::iec_desc::IIDX>(index);
  const std::array ds{d};
  return submit(ds);
}

}  // namespace vtdsim::host
