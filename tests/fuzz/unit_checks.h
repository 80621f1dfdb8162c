// Invariants on a RemappingUnit's results shared by the DMA-side fuzz targets: a translation's
// shape (spec §3.6, §7.1.3), the fault record it leaves (spec §11.4 FRCD; facts §5.3), and the
// register programming the targets use to reach a known state.
#pragma once

#include <cstdint>

#include "iommu/fault_reason.h"
#include "iommu/registers.h"
#include "iommu/remapping_unit.h"
#include "model/dma_translator.h"
#include "model/interrupt_sink.h"
#include "tests/fuzz/fuzz_input.h"

namespace vtdsim::fuzz {

// GCMD/GSTS bits (spec §11.4).
inline constexpr std::uint32_t kTE = 1u << 31;
inline constexpr std::uint32_t kSRTP = 1u << 30;
inline constexpr std::uint32_t kQIE = 1u << 26;
inline constexpr std::uint32_t kIRE = 1u << 25;
inline constexpr std::uint32_t kSIRTP = 1u << 24;
inline constexpr std::uint32_t kCFI = 1u << 23;
inline constexpr std::uint32_t kLevelBits = kTE | kQIE | kIRE | kCFI;

// A unit configuration chosen by two input bytes (features the walk and the register file
// depend on, small caches so that evictions happen); the default when the choice is invalid.
inline iommu::UnitConfig config_from(FuzzInput& in) {
  iommu::UnitConfig c;
  const std::uint16_t f = in.u16();
  c.caching_mode = (f & 1u) != 0;
  c.rwbf = (f & 2u) != 0;
  c.sl_2m_pages = (f & 4u) == 0;
  c.sl_1g_pages = (f & 8u) == 0;
  c.psi = (f & 16u) == 0;
  c.device_tlb = (f & 32u) == 0;
  c.pass_through = (f & 64u) == 0;
  c.esrtps = (f & 128u) != 0;
  c.esirtps = (f & 256u) != 0;
  c.eim = (f & 512u) == 0;
  c.posted_interrupts = (f & 1024u) == 0;
  c.sagaw = static_cast<std::uint8_t>((f >> 11) & 0b1110u);
  if (c.sagaw == 0) c.sagaw = 0b0100;
  c.mgaw = c.sagaw >= 0b1000 ? 57 : 48;
  c.nfr = 1 + ((f >> 14) & 3u);
  c.host_address_width = c.caching_mode ? 39 : 46;
  c.iotlb = model::CacheGeometry{.sets = 2, .ways = 2};
  c.context_cache = model::CacheGeometry{.sets = 1, .ways = 2};
  if (!c.validate()) return iommu::UnitConfig{};
  return c;
}

inline bool defined_ir_reason(std::uint8_t reason) {
  return reason >= 0x20 && reason <= 0x28;
}

inline bool defined_reason(std::uint8_t reason) {
  return reason != 0 &&
         iommu::describe(static_cast<iommu::FaultReason>(reason)) != "unknown fault reason";
}

inline std::uint32_t gsts(iommu::RemappingUnit& u) {
  return static_cast<std::uint32_t>(u.mmio_read(iommu::reg_offset::kGsts, 4));
}
// Linux-style GCMD write: the current level bits plus `set`, minus `clear`.
inline void gcmd(iommu::RemappingUnit& u, std::uint32_t set, std::uint32_t clear = 0) {
  u.mmio_write(iommu::reg_offset::kGcmd, 4, ((gsts(u) & kLevelBits) | set) & ~clear);
}

inline std::uint64_t frcd_offset(const iommu::UnitConfig& c, unsigned i) {
  return std::uint64_t{c.fro} * 16 + 16 * std::uint64_t{i};
}

// Shape of any translation result: a defined status; kFault with a defined reason; kOk with a
// power-of-two page of at least 4 KiB and hpa carrying the request's offset into that page.
inline void check_translation_shape(const model::DmaRequest& req, const model::Translation& t) {
  switch (t.status) {
    case model::TranslationStatus::kFault:
      FUZZ_CHECK(defined_reason(t.fault_reason), "fault reason 0x%02x is not a defined reason",
                 t.fault_reason);
      break;
    case model::TranslationStatus::kOk:
      FUZZ_CHECK(t.page_size >= model::kPageSize && (t.page_size & (t.page_size - 1)) == 0,
                 "page size 0x%llx", static_cast<unsigned long long>(t.page_size));
      FUZZ_CHECK(((t.hpa ^ req.address) & (t.page_size - 1)) == 0 || t.hpa == 0,
                 "hpa 0x%llx does not keep the offset of 0x%llx in a 0x%llx page",
                 static_cast<unsigned long long>(t.hpa),
                 static_cast<unsigned long long>(req.address),
                 static_cast<unsigned long long>(t.page_size));
      break;
    case model::TranslationStatus::kInterruptWindow:
      FUZZ_CHECK(!req.has_pasid && model::in_interrupt_window(req.address),
                 "kInterruptWindow for 0x%llx (pasid %d)",
                 static_cast<unsigned long long>(req.address), req.has_pasid ? 1 : 0);
      break;
    default:
      FUZZ_CHECK(false, "undefined translation status %d", static_cast<int>(t.status));
  }
  FUZZ_CHECK(
      t.completion >= req.arrival && t.latency == t.completion - req.arrival,
      "completion %llu latency %llu arrival %llu", static_cast<unsigned long long>(t.completion),
      static_cast<unsigned long long>(t.latency), static_cast<unsigned long long>(req.arrival));
}

// For a harness that keeps the fault log empty between requests: after `t`, the unit holds
// exactly one pending record when the fault was recorded and none otherwise; that record is
// well formed (F set, FR the fault's reason, SID the request's, T/AT/FI/PP/PV as the request).
// Clears the record and FSTS afterwards so that the next request starts from an empty log.
inline void check_and_clear_fault_log(iommu::RemappingUnit& u, const model::DmaRequest& req,
                                      const model::Translation& t) {
  using namespace iommu;
  const UnitConfig& c = u.config();
  const std::uint64_t fsts = u.mmio_read(reg_offset::kFsts, 4);
  unsigned pending = 0;
  for (unsigned i = 0; i < c.nfr; ++i) {
    const std::uint64_t lo = u.mmio_read(frcd_offset(c, i), 8);
    const std::uint64_t hi = u.mmio_read(frcd_offset(c, i) + 8, 8);
    if (((hi >> 63) & 1u) == 0) continue;  // serviced records keep their old content
    ++pending;
    FUZZ_NOTE("fault record well formed");
    FUZZ_CHECK(t.status == model::TranslationStatus::kFault && t.fault_recorded,
               "record %u pending but the request's fault was not recorded", i);
    const auto fr = static_cast<std::uint8_t>((hi >> 32) & 0xFFu);
    const auto sid = static_cast<std::uint16_t>(hi & 0xFFFFu);
    FUZZ_CHECK(fr == t.fault_reason, "record FR 0x%02x, translation reason 0x%02x", fr,
               t.fault_reason);
    FUZZ_CHECK(sid == req.source_id.raw, "record SID 0x%04x, request 0x%04x", sid,
               req.source_id.raw);
    const unsigned tbit = static_cast<unsigned>((hi >> 62) & 1u);
    FUZZ_CHECK(tbit == (req.access == model::AccessType::kRead ? 1u : 0u), "record T=%u", tbit);
    const unsigned at = static_cast<unsigned>((hi >> 60) & 3u);
    FUZZ_CHECK(at == static_cast<unsigned>(req.address_type), "record AT=%u", at);
    const std::uint64_t fi_mask = ~std::uint64_t{0xFFF} & ((std::uint64_t{1} << c.mgaw) - 1);
    FUZZ_CHECK((lo & 0xFFF) == 0 && lo == (req.address & fi_mask),
               "record FI 0x%llx for address 0x%llx", static_cast<unsigned long long>(lo),
               static_cast<unsigned long long>(req.address));
    const unsigned pp = static_cast<unsigned>((hi >> 31) & 1u);
    FUZZ_CHECK(pp == (req.has_pasid ? 1u : 0u), "record PP=%u", pp);
    if (req.has_pasid) {
      const auto pv = static_cast<std::uint32_t>((hi >> 40) & 0xFFFFFu);
      FUZZ_CHECK(pv == (req.pasid & 0xFFFFFu), "record PV 0x%x, request 0x%x", pv, req.pasid);
    }
    // Clear F (RW1C, bit 31 of the record's last dword) and check that it cleared.
    u.mmio_write(frcd_offset(c, i) + 12, 4, 0x80000000u);
    FUZZ_CHECK(((u.mmio_read(frcd_offset(c, i) + 8, 8) >> 63) & 1u) == 0,
               "writing 1 to FRCD[%u].F did not clear it", i);
  }
  FUZZ_CHECK(
      pending == ((t.status == model::TranslationStatus::kFault && t.fault_recorded) ? 1u : 0u),
      "%u records pending after one request (recorded=%d)", pending, t.fault_recorded ? 1 : 0);
  FUZZ_CHECK(pending == 0 || (fsts & fsts::PPF::kMask) != 0, "PPF clear with a pending record");
  // Clear PFO/IQE/ICE/ITE; PPF must follow the records (all clear now).
  u.mmio_write(reg_offset::kFsts, 4,
               fsts::PFO::kMask | fsts::IQE::kMask | fsts::ICE::kMask | fsts::ITE::kMask);
  FUZZ_CHECK((u.mmio_read(reg_offset::kFsts, 4) & (fsts::PPF::kMask | fsts::PFO::kMask)) == 0,
             "FSTS 0x%llx after clearing every record",
             static_cast<unsigned long long>(u.mmio_read(reg_offset::kFsts, 4)));
}

}  // namespace vtdsim::fuzz
