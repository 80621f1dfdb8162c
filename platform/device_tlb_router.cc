// Device-TLB invalidation forwarding (see device_tlb_router.h).
#include "platform/device_tlb_router.h"

namespace vtdsim::platform {

pci::DeviceTlbInvalidation to_ats_invalidation(const iommu::DeviceTlbInvalidation& request) {
  pci::DeviceTlbInvalidation out;
  out.source_id = request.sid;
  out.has_pasid = request.has_pasid;
  out.pasid = request.pasid;
  out.global = request.global;
  if (request.size_order <= 12) {
    out.address = request.address & ~std::uint64_t{0xFFF};
    out.size_bit = false;
    return out;
  }
  // 2^size_order bytes = 8 KiB << n, n = number of 1 bits from bit 12 (PCIe 4.0 §10.2.3.2).
  const unsigned n = request.size_order >= 64 ? 51 : request.size_order - 13;
  const std::uint64_t ones = ((std::uint64_t{1} << n) - 1) << 12;
  out.address = (request.address & ~std::uint64_t{0xFFF}) | ones;
  out.size_bit = true;
  return out;
}

void DeviceTlbRouter::invalidate_device_tlb(const iommu::DeviceTlbInvalidation& request) {
  for (auto& [sid, target] : targets_) {
    if (sid == request.sid) {
      (void)target->invalidate_device_tlb(to_ats_invalidation(request));
      ++stats_.forwarded;
      return;
    }
  }
  ++stats_.unclaimed;
}

}  // namespace vtdsim::platform
