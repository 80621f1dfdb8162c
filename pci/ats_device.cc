// ATS device with a device-TLB (see ats_device.h).
// Spec sections and what is not modelled: see pci/ats_device.h.
#include "pci/ats_device.h"

#include <algorithm>
#include <array>
#include <vector>

namespace vtdsim::pci {

AtsDevice::AtsDevice(const AtsDeviceConfig& config)
    : Function(config.identity),
      tlb_(config.device_tlb),
      invalidation_latency_(config.invalidation_latency) {
  (void)define_bar(0, BarSpec{BarKind::kMemory64, 0x4000, true});
  (void)add_pm_capability();
  (void)add_pcie_capability(PortType::kEndpoint);
  (void)add_msix_capability(MsixConfig{4, 0, 0x2000, 0, 0x3000});
  (void)add_ats_capability(config.ats);
  if (config.pasid) (void)add_pasid_capability(*config.pasid);
}

std::uint64_t AtsDevice::smallest_translation_unit() const {
  if (!ats_offset()) return model::kPageSize;
  return model::kPageSize << ats::STU::get(config().get16(*ats_offset() + ats::kControl));
}

DmaResult AtsDevice::read(std::uint64_t address, std::span<std::byte> out,
                          std::optional<std::uint32_t> pasid) {
  return transfer(address, out, {}, false, pasid);
}

DmaResult AtsDevice::write(std::uint64_t address, std::span<const std::byte> in,
                           std::optional<std::uint32_t> pasid) {
  return transfer(address, {}, in, true, pasid);
}

DmaResult AtsDevice::transfer(std::uint64_t address, std::span<std::byte> rbuf,
                              std::span<const std::byte> wbuf, bool write,
                              std::optional<std::uint32_t> pasid) {
  DmaAttrs attrs = attrs_now();
  if (pasid) {
    if (!pasid_enabled()) {
      // A function must not send a PASID prefix unless PASID is enabled (PCIe 4.0 §7.8.8.3).
      return DmaResult{DmaStatus::kNotConnected, 0, address, false, 0, now()};
    }
    attrs.has_pasid = true;
    attrs.pasid = *pasid & 0xFFFFFu;
  }
  const std::size_t total = write ? wbuf.size() : rbuf.size();
  if (!ats_enabled()) {
    ++stats_.untranslated_requests;
    DmaResult r = write ? dma().write(address, wbuf, attrs) : dma().read(address, rbuf, attrs);
    if (!r.ok()) note_dma_error(r, !write);
    return r;
  }
  // Translate every page first (device-TLB, then translation requests on a miss).
  struct Span {
    std::uint64_t hpa;
    std::size_t offset;
    std::size_t size;
  };
  std::vector<Span> spans;
  model::Cycle ready = attrs.arrival;
  std::uint32_t pieces = 0;
  const model::AccessType access = write ? model::AccessType::kWrite : model::AccessType::kRead;
  for (std::size_t done = 0; done < total;) {
    const std::uint64_t at = address + done;
    const std::size_t chunk =
        std::min<std::size_t>(total - done, model::kPageSize - (at & (model::kPageSize - 1)));
    const DevTlbKey key{at >> model::kPageShift, attrs.pasid, attrs.has_pasid};
    const DevTlbEntry* hit = tlb_.lookup(key);
    const bool usable = hit != nullptr && (write ? hit->permissions.write : hit->permissions.read);
    DevTlbEntry entry;
    if (usable) {
      entry = *hit;
    } else {
      DmaAttrs ta = attrs;
      ta.arrival = ready;
      ++stats_.translation_requests;
      ++pieces;
      const model::Translation t = dma().translation_request(at, access, ta);
      ready = std::max(ready, t.completion);
      const bool granted = t.ok() && (write ? t.permissions.write : t.permissions.read);
      if (!granted) {
        ++stats_.translation_failures;
        DmaResult r{DmaStatus::kFault, t.fault_reason, at, false, pieces, ready};
        if (!dma().bus_master()) r.status = DmaStatus::kBusMasterDisabled;
        note_dma_error(r, !write);
        return r;
      }
      entry.hpa_page = t.hpa & ~(model::kPageSize - 1);
      entry.permissions = t.permissions;
      tlb_.insert(key, entry);
    }
    spans.push_back(Span{entry.hpa_page | (at & (model::kPageSize - 1)), done, chunk});
    done += chunk;
  }
  // MODEL: one translated request per page; a root-complex rejection of a later page does not
  // undo earlier posted writes.
  DmaAttrs xa = attrs;
  xa.address_type = model::AddressType::kTranslated;
  xa.arrival = ready;
  DmaResult result{DmaStatus::kOk, 0, 0, false, pieces, ready};
  for (const Span& s : spans) {
    ++stats_.translated_requests;
    DmaResult r = write ? dma().write(s.hpa, wbuf.subspan(s.offset, s.size), xa)
                        : dma().read(s.hpa, rbuf.subspan(s.offset, s.size), xa);
    result.pieces += r.pieces;
    result.completion = std::max(result.completion, r.completion);
    if (!r.ok()) {
      r.pieces = result.pieces;
      note_dma_error(r, !write);
      return r;
    }
  }
  return result;
}

model::Cycle AtsDevice::invalidate_device_tlb(const DeviceTlbInvalidation& request) {
  ++stats_.invalidations;
  if (request.source_id != dma().source_id()) {
    ++stats_.invalidations_ignored;
    return request.time;
  }
  const AtsRange range = decode_ats_range(request.address, request.size_bit);
  // MODEL: an invalidation without PASID removes matching pages of every PASID (a superset of
  // what the spec requires, so never stale); with PASID and G=0 only that PASID's pages.
  const std::size_t removed = tlb_.invalidate_if([&](const DevTlbKey& key, const DevTlbEntry&) {
    if (!range.contains(key.page << model::kPageShift)) return false;
    if (!request.has_pasid || request.global) return true;
    return key.has_pasid && key.pasid == request.pasid;
  });
  stats_.entries_invalidated += removed;
  return request.time + invalidation_latency_;
}

}  // namespace vtdsim::pci
