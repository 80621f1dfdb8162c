// An ATS-capable endpoint with its own device-TLB (address translation cache, PCIe 4.0 §10):
// with ATS enabled it sends translation requests (AddressType::kTranslationRequest) on a miss,
// caches the answer, and issues translated requests (kTranslated) with the cached address;
// with ATS disabled it issues untranslated requests. It honours Invalidate Requests through
// DeviceTlbInvalidationTarget (VT-d 4.x §6.5.2.5 / §6.5.2.7).
// Not modelled: page request interface (PRI), ATS translation-completion page sizes above
// 4 KiB (every entry covers one 4 KiB page), invalidation queue back-pressure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "model/set_assoc_cache.h"
#include "pci/device_tlb_invalidation.h"
#include "pci/function.h"

namespace vtdsim::pci {

struct DevTlbKey {
  std::uint64_t page = 0;  // address >> 12
  std::uint32_t pasid = 0;
  bool has_pasid = false;
  std::uint64_t index_hash() const { return page ^ (std::uint64_t{pasid} << 7); }
  friend bool operator==(const DevTlbKey&, const DevTlbKey&) = default;
};

struct DevTlbEntry {
  std::uint64_t hpa_page = 0;  // translated address of the page (bits 63:12)
  model::Permissions permissions{};
};

struct AtsDeviceConfig {
  FunctionIdentity identity{0x8086, 0x0ADE, 0x120000, 0};
  model::CacheGeometry device_tlb{16, 4, model::ReplacementPolicy::kLru, 1};
  AtsConfig ats{};
  std::optional<PasidConfig> pasid = PasidConfig{};
  model::Cycle invalidation_latency = 100;  // cycles from request to Invalidate Completion
};

struct AtsDeviceStats {
  std::uint64_t translation_requests = 0;
  std::uint64_t translation_failures = 0;
  std::uint64_t translated_requests = 0;
  std::uint64_t untranslated_requests = 0;
  std::uint64_t invalidations = 0;
  std::uint64_t invalidations_ignored = 0;  // addressed to another source-id
  std::uint64_t entries_invalidated = 0;
  static constexpr auto kFields = std::to_array<model::StatField<AtsDeviceStats>>({
      {"translation_requests", "requests", "ATS translation requests sent",
       &AtsDeviceStats::translation_requests},
      {"translation_failures", "requests", "translation requests answered without the access",
       &AtsDeviceStats::translation_failures},
      {"translated_requests", "transfers", "transfers sent with translated addresses",
       &AtsDeviceStats::translated_requests},
      {"untranslated_requests", "transfers", "transfers sent untranslated (ATS disabled)",
       &AtsDeviceStats::untranslated_requests},
      {"invalidations", "requests", "invalidate requests received", &AtsDeviceStats::invalidations},
      {"invalidations_ignored", "requests", "invalidate requests for another source-id",
       &AtsDeviceStats::invalidations_ignored},
      {"entries_invalidated", "entries", "device-TLB entries removed by invalidation",
       &AtsDeviceStats::entries_invalidated},
  });
};

class AtsDevice : public Function, public DeviceTlbInvalidationTarget {
 public:
  explicit AtsDevice(const AtsDeviceConfig& config = {});

  // A device-initiated transfer at a device (IO virtual) address; pasid when the request
  // carries a PASID prefix (needs PASID enabled). A fault leaves memory untouched unless
  // an earlier page's translated write was already posted.
  DmaResult read(std::uint64_t address, std::span<std::byte> out,
                 std::optional<std::uint32_t> pasid = std::nullopt);
  DmaResult write(std::uint64_t address, std::span<const std::byte> in,
                  std::optional<std::uint32_t> pasid = std::nullopt);

  model::Cycle invalidate_device_tlb(const DeviceTlbInvalidation& request) override;

  const model::CacheStats& device_tlb_stats() const { return tlb_.stats(); }
  std::size_t device_tlb_size() const { return tlb_.size(); }
  const AtsDeviceStats& stats() const { return stats_; }
  // Smallest translation unit the host programmed: 2^(STU+12) bytes.
  std::uint64_t smallest_translation_unit() const;

 private:
  DmaResult transfer(std::uint64_t address, std::span<std::byte> rbuf,
                     std::span<const std::byte> wbuf, bool write,
                     std::optional<std::uint32_t> pasid);

  model::SetAssocCache<DevTlbKey, DevTlbEntry> tlb_;
  model::Cycle invalidation_latency_;
  AtsDeviceStats stats_;
};

}  // namespace vtdsim::pci
