// Interrupt remapping engine (VT-d spec §5.1.4 hardware operation, §5.2.3 posting): request
// decoding, IEC lookup, IRTE fetch and checks, source-id verification, remapped message or
// posted-descriptor update, in the fault order of facts §7.5.
// Not modelled: IRTE fetch snooping (ECAP.C) and memory types; the vector/trigger mismatch of
// SHV=0 (IOAPIC) requests, which the spec leaves to software (§5.1.5.1).
#include "irq_remap/interrupt_remapper.h"

#include <limits>
#include <optional>

#include "irq_remap/interrupt_entry_cache.h"
#include "irq_remap/irte.h"
#include "irq_remap/msi.h"
#include "irq_remap/posted.h"
#include "irq_remap/source_id.h"

namespace vtdsim::irq_remap {

Status validate(const IrConfig& config) {
  return config.iec.validate();
}

struct InterruptRemapper::Impl {
  Impl(model::PhysicalMemory& m, const IrConfig& c) : memory(m), config(c), iec(c.iec) {}

  model::PhysicalMemory& memory;
  IrConfig config;
  InterruptEntryCache iec;
  IrStats stats;

  IrResult fault(IrResult r, IrFaultReason reason, bool fpd) {
    r.outcome = IrOutcome::kFault;
    r.fault_reason = static_cast<std::uint8_t>(reason);
    r.fpd = fpd && is_qualified(reason);
    ++stats.blocked;
    if (r.fpd) ++stats.blocked_fpd;
    switch (reason) {
      case IrFaultReason::kRequestReservedField:
        ++stats.fault_request_reserved;
        break;
      case IrFaultReason::kIndexBeyondTable:
        ++stats.fault_index_beyond;
        break;
      case IrFaultReason::kIrteNotPresent:
        ++stats.fault_irte_not_present;
        break;
      case IrFaultReason::kIrteAccessError:
        ++stats.fault_irte_access;
        break;
      case IrFaultReason::kIrteReservedField:
        ++stats.fault_irte_reserved;
        break;
      case IrFaultReason::kCompatibilityBlocked:
        ++stats.fault_compat_blocked;
        break;
      case IrFaultReason::kSourceIdInvalid:
        ++stats.fault_source_id;
        break;
      case IrFaultReason::kPidAccessError:
        ++stats.fault_pid_access;
        break;
      case IrFaultReason::kPidReservedField:
        ++stats.fault_pid_reserved;
        break;
    }
    return r;
  }

  IrResult passthrough(IrResult r, std::uint64_t address, std::uint32_t data) {
    r.outcome = IrOutcome::kPassThrough;
    r.message = model::decode_compat_msi(address, data);
    r.message.time = r.completion;
    ++stats.passthrough;
    return r;
  }

  // Reserved-bit check of a present IRTE (§9.9 / §9.10), including the conditional ones: IM
  // without CAP.PI, xAPIC-mode DST bits, reserved DLM encodings.
  bool irte_reserved(const model::Entry128& e, bool eime) const {
    if (e.get<irte::IM>() != 0) {
      if (!config.posted_interrupts) return true;
      return posted_irte::Layout::reserved_bits_set(e);
    }
    if (irte::Layout::reserved_bits_set(e)) return true;
    if (!eime && (e.q[0] & irte::kXapicDstReserved) != 0) return true;
    return irte::dlm_reserved(e.get<irte::DLM>());
  }
};

InterruptRemapper::InterruptRemapper(model::PhysicalMemory& memory, const IrConfig& config)
    : impl_(std::make_unique<Impl>(memory, config)) {}

InterruptRemapper::~InterruptRemapper() = default;

Expected<std::unique_ptr<InterruptRemapper>> InterruptRemapper::create(
    model::PhysicalMemory& memory, const IrConfig& config) {
  if (auto ok = validate(config); !ok) {
    return make_error(ok.error().code, "interrupt remapper: iec " + ok.error().message);
  }
  return std::make_unique<InterruptRemapper>(memory, config);
}

IrResult InterruptRemapper::remap(model::SourceId source, std::uint64_t address, std::uint32_t data,
                                  const IrState& state, model::Cycle arrival) {
  Impl& s = *impl_;
  ++s.stats.requests;
  IrResult r;
  r.completion = arrival;
  // MODEL: decoding the request and the checks that need no IRTE take no time.
  // §5.1.4: with IRES clear every request is handled as compatibility format.
  if (!state.enabled) return s.passthrough(r, address, data);

  const MsiRequest req = decode_msi(address, data);
  // Address 63:32 / 31:20, and for remappable SHV requests data 31:16 (§5.1.2.2).
  if (req.reserved_violation) return s.fault(r, IrFaultReason::kRequestReservedField, false);
  // §5.1.4: compatibility format is blocked when IRTA.EIME is set or GSTS.CFIS is clear.
  if (!req.remappable) {
    if (state.eime || !state.cfi) {
      return s.fault(r, IrFaultReason::kCompatibilityBlocked, false);
    }
    return s.passthrough(r, address, data);
  }
  r.index = static_cast<std::uint16_t>(req.index);                              // FI holds 16 bits
  const std::uint32_t entries = std::uint32_t{2} << (state.size_field & 0xFu);  // 2^(S+1)
  if (req.index >= entries) return s.fault(r, IrFaultReason::kIndexBeyondTable, false);

  const auto index = static_cast<std::uint16_t>(req.index);
  const model::TimingParams& t = s.config.timing;
  r.completion += t.iec_lookup;
  ++s.stats.int_cache_lookup;
  model::Entry128 e;
  bool fill = false;
  if (const model::Entry128* cached = s.iec.lookup(index)) {
    ++s.stats.int_cache_hit;
    e = *cached;
  } else {
    ++s.stats.int_cache_miss;
    ++s.stats.irte_fetch;
    r.completion += t.irte_fetch;
    // §5.1.4: the IRTE is read as one 128-bit access.
    const std::uint64_t offset = std::uint64_t{index} * kIrteSize;
    model::U128 raw;
    if (state.table > std::numeric_limits<std::uint64_t>::max() - offset ||
        !s.memory.read_into(state.table + offset, raw)) {
      return s.fault(r, IrFaultReason::kIrteAccessError, false);
    }
    e.q = {raw.lo, raw.hi};
    fill = true;
  }

  const bool fpd = e.get<irte::FPD>() != 0;
  if (e.get<irte::P>() == 0) return s.fault(r, IrFaultReason::kIrteNotPresent, fpd);
  if (s.irte_reserved(e, state.eime)) return s.fault(r, IrFaultReason::kIrteReservedField, fpd);
  if (fill) {
    s.iec.fill(index, e);
    ++s.stats.int_cache_fill;
  }
  // SID/SQ/SVT sit at the same positions in both formats.
  if (!source_id_valid(source, static_cast<unsigned>(e.get<irte::SVT>()),
                       static_cast<unsigned>(e.get<irte::SQ>()),
                       static_cast<std::uint16_t>(e.get<irte::SID>()))) {
    return s.fault(r, IrFaultReason::kSourceIdInvalid, fpd);
  }

  if (e.get<irte::IM>() == 0) {
    // §5.1.4 / §9.9: the remapped request takes every attribute from the IRTE.
    r.outcome = IrOutcome::kRemapped;
    model::ApicMessage& m = r.message;
    m.destination = state.eime ? static_cast<std::uint32_t>(e.get<irte::DST>())
                               : static_cast<std::uint32_t>(e.get<irte::DST_XAPIC>());
    m.logical = e.get<irte::DM>() != 0;
    m.redirection_hint = e.get<irte::RH>() != 0;
    m.level = e.get<irte::TM>() != 0;
    m.delivery_mode = static_cast<model::DeliveryMode>(e.get<irte::DLM>());
    m.vector = static_cast<std::uint8_t>(e.get<irte::V>());
    m.time = r.completion;
    ++s.stats.remapped;
    return r;
  }

  // §5.2.3: posting. MODEL: the descriptor read-modify-write costs one memory_write.
  r.completion += t.memory_write;
  const PostOutcome p = post_interrupt(s.memory, posted_irte::descriptor_address(e),
                                       static_cast<std::uint8_t>(e.get<posted_irte::VV>()),
                                       e.get<posted_irte::URG>() != 0, state.eime);
  if (p.fault) return s.fault(r, *p.fault, fpd);
  r.outcome = IrOutcome::kPosted;
  r.notify = p.notify;
  ++s.stats.posted;
  if (p.notify) {
    r.notification = p.notification;
    r.notification.time = r.completion;
    ++s.stats.notifications;
  } else {
    ++s.stats.notifications_suppressed;
  }
  return r;
}

void InterruptRemapper::invalidate_all() {
  ++impl_->stats.iec_inv_global;
  impl_->stats.iec_entries_invalidated += impl_->iec.invalidate_all();
}

void InterruptRemapper::invalidate_index(std::uint16_t index, unsigned index_mask) {
  ++impl_->stats.iec_inv_selective;
  impl_->stats.iec_entries_invalidated += impl_->iec.invalidate_index(index, index_mask);
}

const IrStats& InterruptRemapper::stats() const {
  return impl_->stats;
}

void InterruptRemapper::reset_stats() {
  impl_->stats = IrStats{};
  impl_->iec.reset_stats();
}

const IrConfig& InterruptRemapper::config() const {
  return impl_->config;
}
const model::CacheStats& InterruptRemapper::iec_stats() const {
  return impl_->iec.stats();
}
std::size_t InterruptRemapper::iec_size() const {
  return impl_->iec.size();
}
const model::Entry128* InterruptRemapper::iec_probe(std::uint16_t index) const {
  return impl_->iec.probe(index);
}

}  // namespace vtdsim::irq_remap
