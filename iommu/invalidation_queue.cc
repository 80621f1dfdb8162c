// Queued invalidation: fetch loop, descriptor checks and dispatch (spec §6.5.2; facts §6).
#include "iommu/invalidation_queue.h"

#include "iommu/scalable_descriptors.h"

namespace vtdsim::iommu {

namespace {

// Granularity encodings shared by CCMD/IOTLB and descriptors: 01 global, 10 domain, 11
// device/page; 00 is invalid.
constexpr Granularity granularity_of(std::uint64_t g) {
  return static_cast<Granularity>(g & 3u);
}

template <class L>
constexpr bool reserved_set(std::uint64_t q0, std::uint64_t q1) {
  return ((q0 & L::kReserved[0]) | (q1 & L::kReserved[1])) != 0;
}

}  // namespace

InvalidationQueue::InvalidationQueue(RegisterFile& regs, const UnitConfig& config,
                                     model::PhysicalMemory& memory, InvalidationTarget& target,
                                     FaultRecorder& faults, EventInterrupt& completion_event,
                                     UnitStats& stats)
    : regs_(regs),
      memory_(memory),
      target_(target),
      faults_(faults),
      event_(completion_event),
      stats_(stats),
      dt_(config.device_tlb),
      sm_(config.scalable_mode),
      ir_(config.interrupt_remapping),
      psi_(config.psi),
      mamv_(config.mamv),
      mhmv_(config.mhmv) {}

void InvalidationQueue::fail(QueueError error, model::Cycle now) {
  regs_.set_field<iqer::IQEI>(Reg::kIqer, static_cast<std::uint64_t>(error));
  ++stats_.qi_errors;
  faults_.set_error(fsts::IQE::kMask, now);
}

void InvalidationQueue::process(bool scalable_ttm, model::Cycle now) {
  if (regs_.field<gsts::QIES>(Reg::kGsts) == 0) return;
  if (regs_.field<fsts::IQE>(Reg::kFsts) != 0) return;
  const std::uint64_t iqa_value = regs_.get(Reg::kIqa);
  const bool wide = iqa::DW::get(iqa_value) != 0;
  const unsigned shift = wide ? 5 : 4;
  const std::uint64_t entries = std::uint64_t{1} << (iqa::QS::get(iqa_value) + (wide ? 7 : 8));
  const std::uint64_t base = iqa::IQA::raw(iqa_value);
  const std::uint64_t tail_offset = queue_pointer::QO::raw(regs_.get(Reg::kIqt));
  std::uint64_t head = queue_pointer::QO::raw(regs_.get(Reg::kIqh)) >> shift;
  if (wide && (tail_offset & 0x10) != 0) return fail(QueueError::kInvalidTail, now);
  const std::uint64_t tail = tail_offset >> shift;
  if (tail >= entries) return fail(QueueError::kInvalidTail, now);
  if (head == tail) return;
  if (scalable_ttm && !wide) return fail(QueueError::kInvalidWidth, now);
  while (head != tail) {
    const std::uint64_t at = base + (head << shift);
    model::U128 d;
    if (!memory_.read_into(at, d)) {
      fail(QueueError::kFetchError, now);
      break;
    }
    QueueError error = QueueError::kNone;
    if (wide) {
      model::U128 upper;
      if (!memory_.read_into(at + 16, upper)) {
        error = QueueError::kFetchError;
      } else if ((upper.lo | upper.hi) != 0 && desc::type_of(d.lo) <= desc::kPasidDeviceTlb &&
                 desc::type_of(d.lo) != 0) {
        error = QueueError::kReservedField;  // bits 255:128 of types 1–8 are reserved
      }
    }
    if (error == QueueError::kNone) error = execute(d.lo, d.hi, wide, now);
    if (error != QueueError::kNone) {
      fail(error, now);
      break;
    }
    ++stats_.qi_descriptors;
    head = head + 1 == entries ? 0 : head + 1;
  }
  regs_.set(Reg::kIqh, head << shift);
}

QueueError InvalidationQueue::execute(std::uint64_t q0, std::uint64_t q1, bool wide,
                                      model::Cycle now) {
  const unsigned type = desc::type_of(q0);
  if (type >= desc::kPasidIotlb && type <= desc::kPasidDeviceTlb) {
    // 256-bit-only types: invalid in a 128-bit queue or on a unit without ECAP.SMTS.
    if (!wide || !sm_) return QueueError::kInvalidType;
    return execute_scalable(type, q0, q1);
  }
  switch (type) {
    case desc::kContextCache: {
      if (reserved_set<cc_desc::Layout>(q0, q1)) return QueueError::kReservedField;
      const Granularity g = granularity_of(cc_desc::G::get(q0));
      if (g == Granularity::kNone) return QueueError::kReservedField;
      target_.invalidate_context(
          ContextInvalidation{g, static_cast<std::uint16_t>(cc_desc::DID::get(q0)),
                              model::SourceId{static_cast<std::uint16_t>(cc_desc::SID::get(q0))},
                              static_cast<unsigned>(cc_desc::FM::get(q0))});
      return QueueError::kNone;
    }
    case desc::kIotlb: {
      if (reserved_set<iotlb_desc::Layout>(q0, q1)) return QueueError::kReservedField;
      Granularity g = granularity_of(iotlb_desc::G::get(q0));
      if (g == Granularity::kNone) return QueueError::kReservedField;
      const auto am = static_cast<unsigned>(iotlb_desc::AM::get(q1));
      if (g == Granularity::kSelective && am > mamv_) return QueueError::kReservedField;
      // MODEL: without CAP.PSI a page-selective request is performed domain-selective (a
      // coarser granularity the spec permits).
      if (g == Granularity::kSelective && !psi_) g = Granularity::kDomain;
      target_.invalidate_iotlb(
          IotlbInvalidation{g, static_cast<std::uint16_t>(iotlb_desc::DID::get(q0)),
                            iotlb_desc::ADDR::raw(q1), am, iotlb_desc::IH::get(q1) != 0,
                            iotlb_desc::DR::get(q0) != 0, iotlb_desc::DW::get(q0) != 0});
      return QueueError::kNone;
    }
    case desc::kDeviceTlb: {
      if (!dt_) return QueueError::kInvalidType;
      if (reserved_set<dev_tlb_desc::Layout>(q0, q1)) return QueueError::kReservedField;
      target_.invalidate_device_tlb(decode_device_tlb_range(
          model::SourceId{static_cast<std::uint16_t>(dev_tlb_desc::SID::get(q0))},
          static_cast<unsigned>(dev_tlb_desc::MIP::get(q0)), dev_tlb_desc::ADDR::get(q1),
          dev_tlb_desc::S::get(q1) != 0));
      return QueueError::kNone;
    }
    case desc::kIec: {
      if (!ir_) return QueueError::kInvalidType;
      if (reserved_set<iec_desc::Layout>(q0, q1)) return QueueError::kReservedField;
      const bool global = iec_desc::G::get(q0) == 0;
      const auto im = static_cast<unsigned>(iec_desc::IM::get(q0));
      if (!global && im > mhmv_) return QueueError::kReservedField;
      target_.invalidate_iec(
          IecInvalidation{global, static_cast<std::uint16_t>(iec_desc::IIDX::get(q0)), im});
      return QueueError::kNone;
    }
    case desc::kWait:
      return wait(q0, q1, now);
    default:
      return QueueError::kInvalidType;
  }
}

QueueError InvalidationQueue::execute_scalable(unsigned type, std::uint64_t q0, std::uint64_t q1) {
  switch (type) {
    case desc::kPasidIotlb: {
      if (reserved_set<p_iotlb_desc::Layout>(q0, q1)) return QueueError::kReservedField;
      const std::uint64_t g = p_iotlb_desc::G::get(q0);
      if (g != p_iotlb_desc::kAllOfPasid && g != p_iotlb_desc::kPageSelective) {
        return QueueError::kReservedField;  // G 00/01 invalid (facts §6.8)
      }
      // CAP.PSI/MAMV do not limit P_IOTLB (facts §6.8 [O]).
      target_.invalidate_pasid_iotlb(PasidIotlbInvalidation{
          g == p_iotlb_desc::kPageSelective ? Granularity::kSelective : Granularity::kDomain,
          static_cast<std::uint16_t>(p_iotlb_desc::DID::get(q0)),
          static_cast<std::uint32_t>(p_iotlb_desc::PASID::get(q0)), p_iotlb_desc::ADDR::raw(q1),
          static_cast<unsigned>(p_iotlb_desc::AM::get(q1)), p_iotlb_desc::IH::get(q1) != 0});
      return QueueError::kNone;
    }
    case desc::kPasidCache: {
      if (reserved_set<pc_desc::Layout>(q0, q1)) return QueueError::kReservedField;
      const std::uint64_t g = pc_desc::G::get(q0);
      Granularity done = Granularity::kNone;
      if (g == pc_desc::kDomain) done = Granularity::kDomain;
      if (g == pc_desc::kPasidSelective) done = Granularity::kSelective;
      if (g == pc_desc::kGlobal) done = Granularity::kGlobal;
      if (done == Granularity::kNone) return QueueError::kReservedField;  // G = 10 invalid
      target_.invalidate_pasid_cache(
          PasidCacheInvalidation{done, static_cast<std::uint16_t>(pc_desc::DID::get(q0)),
                                 static_cast<std::uint32_t>(pc_desc::PASID::get(q0))});
      return QueueError::kNone;
    }
    default: {  // desc::kPasidDeviceTlb
      if (!dt_) return QueueError::kInvalidType;
      if (reserved_set<p_dev_tlb_desc::Layout>(q0, q1)) return QueueError::kReservedField;
      DeviceTlbInvalidation d = decode_device_tlb_range(
          model::SourceId{static_cast<std::uint16_t>(p_dev_tlb_desc::SID::get(q0))},
          static_cast<unsigned>(p_dev_tlb_desc::MIP::get(q0)), p_dev_tlb_desc::ADDR::get(q1),
          p_dev_tlb_desc::S::get(q1) != 0);
      d.has_pasid = true;
      d.pasid = static_cast<std::uint32_t>(p_dev_tlb_desc::PASID::get(q0));
      d.global = p_dev_tlb_desc::G::get(q1) != 0;
      target_.invalidate_device_tlb(d);
      return QueueError::kNone;
    }
  }
}

QueueError InvalidationQueue::wait(std::uint64_t q0, std::uint64_t q1, model::Cycle now) {
  if (reserved_set<wait_desc::Layout>(q0, q1)) return QueueError::kReservedField;
  ++stats_.qi_wait_descriptors;
  if (wait_desc::SW::get(q0) != 0) {
    // MODEL: a status write beyond the physical address width is dropped.
    (void)memory_.write(wait_desc::STATUS_ADDR::raw(q1),
                        static_cast<std::uint32_t>(wait_desc::STATUS_DATA::get(q0)));
  }
  if (wait_desc::IF::get(q0) != 0 && regs_.field<ics::IWC>(Reg::kIcs) == 0) {
    regs_.set_field<ics::IWC>(Reg::kIcs, 1);
    event_.raise(now);
  }
  return QueueError::kNone;
}

void InvalidationQueue::after_ics_write() {
  if (regs_.field<ics::IWC>(Reg::kIcs) == 0) event_.clear_pending();
}

}  // namespace vtdsim::iommu
