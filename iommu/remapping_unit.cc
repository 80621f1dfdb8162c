// RemappingUnit: register side effects, invalidation dispatch, fault recording for DMA and
// interrupt requests (spec ch. 6, 7, 11; facts §1–2, §5–7).
#include "iommu/remapping_unit.h"

#include <stdexcept>

#include "iommu/event_interrupt.h"
#include "iommu/fault_reason.h"
#include "iommu/fault_recorder.h"
#include "iommu/global_command.h"
#include "iommu/invalidation_queue.h"
#include "iommu/register_file.h"
#include "iommu/register_invalidation.h"

namespace vtdsim::iommu {

namespace {

irq_remap::IrConfig ir_config(const UnitConfig& c) {
  irq_remap::IrConfig ir;
  ir.eim = c.eim;
  ir.posted_interrupts = c.posted_interrupts;
  ir.mhmv = c.mhmv;
  ir.iec = c.iec;
  ir.timing = c.timing;
  return ir;
}

const UnitConfig& checked(const UnitConfig& config) {
  if (auto s = config.validate(); !s) throw std::invalid_argument(s.error().message);
  return config;
}

}  // namespace

// Invalidations from registers and from the queue land here: the DMA caches, the interrupt
// entry cache and the device TLBs.
class UnitInvalidationTarget final : public InvalidationTarget {
 public:
  UnitInvalidationTarget(DmaRemapper& dma, irq_remap::InterruptRemapper& ir, UnitStats& stats)
      : dma_(dma), ir_(ir), stats_(stats) {}

  Granularity invalidate_context(const ContextInvalidation& r) override {
    Granularity done = Granularity::kNone;
    switch (r.granularity) {
      case Granularity::kGlobal:
        done = dma_.invalidate_context_global();
        break;
      case Granularity::kDomain:
        done = dma_.invalidate_context_domain(r.did);
        break;
      case Granularity::kSelective:
        done = dma_.invalidate_context_device(r.did, r.sid, r.function_mask);
        break;
      case Granularity::kNone:
        break;
    }
    switch (done) {
      case Granularity::kGlobal:
        ++stats_.ctxt_inv_global;
        break;
      case Granularity::kDomain:
        ++stats_.ctxt_inv_domain;
        break;
      case Granularity::kSelective:
        ++stats_.ctxt_inv_device;
        break;
      case Granularity::kNone:
        break;
    }
    return done;
  }

  Granularity invalidate_iotlb(const IotlbInvalidation& r) override {
    Granularity done = Granularity::kNone;
    switch (r.granularity) {
      case Granularity::kGlobal:
        done = dma_.invalidate_iotlb_global();
        break;
      case Granularity::kDomain:
        done = dma_.invalidate_iotlb_domain(r.did);
        break;
      case Granularity::kSelective:
        done = dma_.invalidate_iotlb_page(r.did, r.address, r.am, r.ih);
        break;
      case Granularity::kNone:
        break;
    }
    switch (done) {
      case Granularity::kGlobal:
        ++stats_.iotlb_inv_global;
        break;
      case Granularity::kDomain:
        ++stats_.iotlb_inv_domain;
        break;
      case Granularity::kSelective:
        ++stats_.iotlb_inv_page;
        break;
      case Granularity::kNone:
        ++stats_.iotlb_inv_failed;
        break;
    }
    return done;
  }

  void invalidate_iec(const IecInvalidation& r) override {
    if (r.global) {
      ir_.invalidate_all();
      ++stats_.int_cache_inv_global;
    } else {
      ir_.invalidate_index(r.index, r.index_mask);
      ++stats_.int_cache_inv_index;
    }
  }

  Granularity invalidate_pasid_cache(const PasidCacheInvalidation& r) override {
    ++stats_.pasid_cache_inv;
    return dma_.invalidate_pasid_cache(r.granularity, r.did, r.pasid);
  }

  Granularity invalidate_pasid_iotlb(const PasidIotlbInvalidation& r) override {
    ++stats_.p_iotlb_inv;
    return dma_.invalidate_pasid_iotlb(r.granularity, r.did, r.pasid, r.address, r.am, r.ih);
  }

  void invalidate_device_tlb(const DeviceTlbInvalidation& r) override {
    ++stats_.dev_tlb_inv;
    last_device_tlb = r;
    if (device_tlb_sink != nullptr) device_tlb_sink->invalidate_device_tlb(r);
  }

  DeviceTlbSink* device_tlb_sink = nullptr;
  DeviceTlbInvalidation last_device_tlb{};

 private:
  DmaRemapper& dma_;
  irq_remap::InterruptRemapper& ir_;
  UnitStats& stats_;
};

struct RemappingUnit::Impl {
  Impl(model::PhysicalMemory& memory, const UnitConfig& c, model::InterruptSink* events,
       model::InterruptSink* interrupts)
      : config(checked(c)),
        regs(config),
        fault_event(regs, Reg::kFectl, Reg::kFedata, Reg::kFeaddr, Reg::kFeuaddr,
                    stats.fault_events),
        completion_event(regs, Reg::kIectl, Reg::kIedata, Reg::kIeaddr, Reg::kIeuaddr,
                         stats.invalidation_events),
        recorder(regs, config, fault_event, stats),
        gcmd(regs, config),
        dma(memory, config),
        ir(memory, ir_config(config)),
        target(dma, ir, stats),
        queue(regs, config, memory, target, recorder, completion_event, stats),
        register_invalidation(regs, config, target, stats),
        interrupt_sink(interrupts != nullptr ? interrupts : events) {
    fault_event.set_sink(events);
    completion_event.set_sink(events);
  }

  void on_gcmd(std::uint32_t value);
  void on_register_write(const WriteResult& w);

  UnitConfig config;
  UnitStats stats{};
  RegisterFile regs;
  EventInterrupt fault_event;
  EventInterrupt completion_event;
  FaultRecorder recorder;
  GlobalCommand gcmd;
  DmaRemapper dma;
  irq_remap::InterruptRemapper ir;
  UnitInvalidationTarget target;
  InvalidationQueue queue;
  RegisterInvalidation register_invalidation;
  model::InterruptSink* interrupt_sink;
  // MODEL: register accesses carry no cycle; events they cause are stamped with the latest
  // request arrival seen by the unit.
  model::Cycle now = 0;
};

void RemappingUnit::Impl::on_gcmd(std::uint32_t value) {
  const GcmdActions a = gcmd.write(value);
  if (a.ignored) ++stats.register_writes_ignored;
  if (a.root_latched) {
    ++stats.srtp;
    if (config.esrtps) dma.invalidate_all();
  }
  if (a.irt_latched) {
    ++stats.sirtp;
    if (config.esirtps) ir.invalidate_all();
  }
  if (a.qie_disabled) queue.on_disable();
  if (a.qie_enabled) queue.process(gcmd.root().ttm == 1, now);
  if ((a.te_changed || a.ire_changed) && regs.field<gsts::TES>(Reg::kGsts) == 0 &&
      regs.field<gsts::IRES>(Reg::kGsts) == 0) {
    recorder.reset_index();
  }
}

void RemappingUnit::Impl::on_register_write(const WriteResult& w) {
  switch (w.reg) {
    case Reg::kGcmd:
      on_gcmd(static_cast<std::uint32_t>(w.value));
      break;
    case Reg::kCcmd:
    case Reg::kIotlb:
      // While queued invalidation is enabled, register-based invalidation is ignored.
      if (regs.field<gsts::QIES>(Reg::kGsts) != 0) {
        regs.set(w.reg, w.old);
        ++stats.register_writes_ignored;
        break;
      }
      if (!w.high) break;  // the command starts with the write of the upper dword
      if (w.reg == Reg::kCcmd) {
        register_invalidation.on_ccmd_write();
      } else {
        register_invalidation.on_iotlb_write();
      }
      break;
    case Reg::kFsts:
      recorder.after_status_write();
      break;
    case Reg::kFectl:
      fault_event.on_control_write(now);
      break;
    case Reg::kIectl:
      completion_event.on_control_write(now);
      break;
    case Reg::kIcs:
      queue.after_ics_write();
      break;
    case Reg::kIqt:
      if (w.low) queue.process(gcmd.root().ttm == 1, now);
      break;
    default:
      break;
  }
}

RemappingUnit::RemappingUnit(model::PhysicalMemory& memory, const UnitConfig& config,
                             model::InterruptSink* event_sink, model::InterruptSink* interrupt_sink)
    : impl_(std::make_unique<Impl>(memory, config, event_sink, interrupt_sink)) {}

RemappingUnit::~RemappingUnit() = default;

Expected<std::unique_ptr<RemappingUnit>> RemappingUnit::create(
    model::PhysicalMemory& memory, const UnitConfig& config, model::InterruptSink* event_sink,
    model::InterruptSink* interrupt_sink) {
  if (auto s = config.validate(); !s) return tl::unexpected(s.error());
  return std::make_unique<RemappingUnit>(memory, config, event_sink, interrupt_sink);
}

std::uint64_t RemappingUnit::mmio_read(std::uint64_t offset, unsigned size) {
  ++impl_->stats.mmio_reads;
  return impl_->regs.read(offset, size);
}

void RemappingUnit::mmio_write(std::uint64_t offset, unsigned size, std::uint64_t value) {
  Impl& u = *impl_;
  ++u.stats.mmio_writes;
  const WriteResult w = u.regs.write(offset, size, value);
  switch (w.kind) {
    case WriteResult::Kind::kIgnored:
      ++u.stats.register_writes_ignored;
      if (w.bad_access) ++u.stats.bad_accesses;
      return;
    case WriteResult::Kind::kFaultRecord:
      u.recorder.after_status_write();
      return;
    case WriteResult::Kind::kRegister:
      u.on_register_write(w);
      return;
  }
}

std::uint64_t RemappingUnit::mmio_size() const {
  return impl_->regs.window_size();
}

model::Translation RemappingUnit::translate(const model::DmaRequest& request) {
  Impl& u = *impl_;
  RemapResult r = u.dma.translate(request, u.gcmd.root());
  if (r.translation.status != model::TranslationStatus::kFault) [[likely]] {
    return r.translation;
  }
  if (request.arrival > u.now) u.now = request.arrival;
  FaultReason reason = r.reason;
  if (reason == FaultReason::kNone) reason = static_cast<FaultReason>(r.translation.fault_reason);
  r.translation.fault_reason = code(reason);
  if (r.fpd && is_qualified(reason)) {
    ++u.stats.faults_suppressed;
    r.translation.fault_recorded = false;
    return r.translation;
  }
  FaultInfo f;
  f.source = request.source_id;
  f.reason = code(reason);
  f.address = request.address;
  f.access = request.access;
  f.address_type = request.address_type;
  f.has_pasid = request.has_pasid;
  f.pasid = request.pasid;
  f.privileged = request.privileged;
  f.execute = request.execute;
  r.translation.fault_recorded = u.recorder.record(f, r.translation.completion);
  return r.translation;
}

irq_remap::IrResult RemappingUnit::remap_interrupt(model::SourceId source, std::uint64_t address,
                                                   std::uint32_t data, model::Cycle arrival) {
  Impl& u = *impl_;
  if (arrival > u.now) u.now = arrival;
  irq_remap::IrResult r = u.ir.remap(source, address, data, u.gcmd.ir_state(), arrival);
  switch (r.outcome) {
    case irq_remap::IrOutcome::kPassThrough:
    case irq_remap::IrOutcome::kRemapped: {
      model::ApicMessage m = r.message;
      m.time = r.completion;
      ++u.stats.interrupts_delivered;
      if (u.interrupt_sink != nullptr) u.interrupt_sink->deliver(m);
      break;
    }
    case irq_remap::IrOutcome::kPosted:
      if (r.notify) {
        model::ApicMessage m = r.notification;
        m.time = r.completion;
        ++u.stats.posted_notifications;
        if (u.interrupt_sink != nullptr) u.interrupt_sink->deliver(m);
      }
      break;
    case irq_remap::IrOutcome::kFault: {
      const auto reason = static_cast<FaultReason>(r.fault_reason);
      if (r.fpd && is_qualified(reason)) {
        ++u.stats.faults_suppressed;
        break;
      }
      FaultInfo f;
      f.source = source;
      f.reason = r.fault_reason;
      f.interrupt = true;
      f.index = r.index;
      f.access = model::AccessType::kWrite;
      u.recorder.record(f, r.completion);
      break;
    }
  }
  return r;
}

void RemappingUnit::set_event_sink(model::InterruptSink* sink) {
  impl_->fault_event.set_sink(sink);
  impl_->completion_event.set_sink(sink);
}
void RemappingUnit::set_interrupt_sink(model::InterruptSink* sink) {
  impl_->interrupt_sink = sink;
}
void RemappingUnit::set_device_tlb_sink(DeviceTlbSink* sink) {
  impl_->target.device_tlb_sink = sink;
}
const DeviceTlbInvalidation& RemappingUnit::last_device_tlb_invalidation() const {
  return impl_->target.last_device_tlb;
}
const UnitConfig& RemappingUnit::config() const {
  return impl_->config;
}
const UnitStats& RemappingUnit::stats() const {
  return impl_->stats;
}
void RemappingUnit::reset_stats() {
  impl_->stats = UnitStats{};
}
const RootState& RemappingUnit::root_state() const {
  return impl_->gcmd.root();
}
const irq_remap::IrState& RemappingUnit::ir_state() const {
  return impl_->gcmd.ir_state();
}
const DmaRemapper& RemappingUnit::dma_remapper() const {
  return impl_->dma;
}
DmaRemapper& RemappingUnit::dma_remapper() {
  return impl_->dma;
}
const irq_remap::InterruptRemapper& RemappingUnit::interrupt_remapper() const {
  return impl_->ir;
}
irq_remap::InterruptRemapper& RemappingUnit::interrupt_remapper() {
  return impl_->ir;
}

}  // namespace vtdsim::iommu
