// Queued-invalidation descriptors, 128-bit legacy formats types 1–5 (spec §6.5.2; facts
// §6.2–6.7), the invalidation requests they decode to, and the interfaces the queue and the
// register-based commands dispatch to: InvalidationTarget (the unit's caches) and
// DeviceTlbSink (ATS devices, implemented later by the PCI/platform layer).
// The 256-bit scalable-mode types 6–8 are laid out in scalable_descriptors.h; their decoded
// requests are here. Not modelled: page-group responses (type 9).
#pragma once

#include <cstdint>

#include "iommu/dma_remapper.h"
#include "model/field.h"
#include "model/types.h"

namespace vtdsim::iommu {

// Type = bits 3:0 plus bits 11:9 as type[6:4] (facts §6.2).
namespace desc {
using Type = model::Field<3, 0>;
using TypeHi = model::Field<11, 9>;
inline constexpr unsigned kContextCache = 1;
inline constexpr unsigned kIotlb = 2;
inline constexpr unsigned kDeviceTlb = 3;
inline constexpr unsigned kIec = 4;
inline constexpr unsigned kWait = 5;
inline constexpr unsigned kPasidIotlb = 6;      // 256-bit only
inline constexpr unsigned kPasidCache = 7;      // 256-bit only
inline constexpr unsigned kPasidDeviceTlb = 8;  // 256-bit only
constexpr unsigned type_of(std::uint64_t q0) {
  return static_cast<unsigned>(Type::get(q0) | (TypeHi::get(q0) << 4));
}
}  // namespace desc

// Context-cache invalidate, type 1 (facts §6.3).
namespace cc_desc {
using G = model::Field<5, 4>;
using DID = model::Field<31, 16>;
using SID = model::Field<47, 32>;
using FM = model::Field<49, 48>;
using Layout = model::Layout<2, desc::Type, G, desc::TypeHi, DID, SID, FM>;
static_assert(model::valid_layout<Layout>());
}  // namespace cc_desc

// IOTLB invalidate, type 2 (facts §6.4).
namespace iotlb_desc {
using G = model::Field<5, 4>;
using DW = model::Field<6, 6>;
using DR = model::Field<7, 7>;
using DID = model::Field<31, 16>;
using AM = model::Field<69, 64>;
using IH = model::Field<70, 70>;
using ADDR = model::Field<127, 76>;
using Layout = model::Layout<2, desc::Type, G, DW, DR, desc::TypeHi, DID, AM, IH, ADDR>;
static_assert(model::valid_layout<Layout>());
}  // namespace iotlb_desc

// Device-TLB invalidate, type 3 (facts §6.5). PFSID is reserved: the unit does not advertise
// ECAP.DIT.
namespace dev_tlb_desc {
using MIP = model::Field<20, 16>;
using SID = model::Field<47, 32>;
using S = model::Field<64, 64>;
using ADDR = model::Field<127, 76>;
using Layout = model::Layout<2, desc::Type, desc::TypeHi, MIP, SID, S, ADDR>;
static_assert(model::valid_layout<Layout>());
}  // namespace dev_tlb_desc

// Interrupt-entry-cache invalidate, type 4 (facts §6.6).
namespace iec_desc {
using G = model::Field<4, 4>;  // 0 global, 1 index-selective
using IM = model::Field<31, 27>;
using IIDX = model::Field<47, 32>;
using Layout = model::Layout<2, desc::Type, G, desc::TypeHi, IM, IIDX>;
static_assert(model::valid_layout<Layout>());
}  // namespace iec_desc

// Invalidation wait, type 5 (facts §6.7). PD is reserved: the unit does not advertise
// ECAP.PDS.
namespace wait_desc {
using IF = model::Field<4, 4>;
using SW = model::Field<5, 5>;
using FN = model::Field<6, 6>;
using STATUS_DATA = model::Field<63, 32>;
using STATUS_ADDR = model::Field<127, 66>;
using Layout = model::Layout<2, desc::Type, IF, SW, FN, desc::TypeHi, STATUS_DATA, STATUS_ADDR>;
static_assert(model::valid_layout<Layout>());
}  // namespace wait_desc

// Decoded invalidation requests (from registers or descriptors).
struct ContextInvalidation {
  Granularity granularity = Granularity::kGlobal;  // kSelective = device-selective
  std::uint16_t did = 0;
  model::SourceId sid{};
  unsigned function_mask = 0;  // CCMD.FM / descriptor FM
};

struct IotlbInvalidation {
  Granularity granularity = Granularity::kGlobal;  // kSelective = page-selective
  std::uint16_t did = 0;
  std::uint64_t address = 0;  // page-selective: input address (bits 63:12)
  unsigned am = 0;            // 2^AM pages
  bool ih = false;
  bool drain_reads = false;
  bool drain_writes = false;
};

struct IecInvalidation {
  bool global = true;
  std::uint16_t index = 0;
  unsigned index_mask = 0;  // 2^IM entries from index
};

struct DeviceTlbInvalidation {
  model::SourceId sid{};
  unsigned max_pending = 0;   // MIP / QDEP
  std::uint64_t address = 0;  // first byte of the range, aligned to its size
  unsigned size_order = 12;   // the range covers 2^size_order bytes (12 = one 4 KiB page)
  // PASID-based device-TLB invalidation (type 8; facts §6.10).
  bool has_pasid = false;
  std::uint32_t pasid = 0;
  bool global = false;  // G: every PASID of the device (and translations without PASID)
  friend constexpr bool operator==(const DeviceTlbInvalidation&,
                                   const DeviceTlbInvalidation&) = default;
};

// PASID-cache invalidation, type 7 (facts §6.9): kDomain = all PASIDs of DID, kSelective =
// DID + PASID, kGlobal = everything.
struct PasidCacheInvalidation {
  Granularity granularity = Granularity::kGlobal;
  std::uint16_t did = 0;
  std::uint32_t pasid = 0;
};

// PASID-based IOTLB invalidation, type 6 (facts §6.8): kDomain = every first-stage/nested
// mapping of (DID, PASID), kSelective = 2^AM pages at ADDR within the PASID.
struct PasidIotlbInvalidation {
  Granularity granularity = Granularity::kDomain;
  std::uint16_t did = 0;
  std::uint32_t pasid = 0;
  std::uint64_t address = 0;
  unsigned am = 0;
  bool ih = false;
};

// Decodes the S/ADDR range encoding of a device-TLB invalidation (PCIe ATS; facts §6.5):
// S=0 one page; S=1 the number of trailing 1s of ADDR[63:12] gives 8 KiB << n.
constexpr DeviceTlbInvalidation decode_device_tlb_range(model::SourceId sid, unsigned mip,
                                                        std::uint64_t addr_63_12, bool s) {
  DeviceTlbInvalidation d{sid, mip, addr_63_12 << 12, 12};
  if (s) {
    unsigned ones = 0;
    while (ones < 52 && ((addr_63_12 >> ones) & 1u) != 0) ++ones;
    d.size_order = 13 + ones > 64 ? 64 : 13 + ones;
    const std::uint64_t mask =
        d.size_order >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << d.size_order) - 1;
    d.address &= ~mask;
  }
  return d;
}

// Contract: what queued and register-based invalidation act on. Returns the granularity
// actually performed (reported back in CAIG/IAIG); kNone when nothing was done.
class InvalidationTarget {
 public:
  virtual ~InvalidationTarget() = default;
  virtual Granularity invalidate_context(const ContextInvalidation& request) = 0;
  virtual Granularity invalidate_iotlb(const IotlbInvalidation& request) = 0;
  virtual void invalidate_iec(const IecInvalidation& request) = 0;
  virtual void invalidate_device_tlb(const DeviceTlbInvalidation& request) = 0;
  // Scalable-mode types 7 and 6 (PASID-based device-TLB invalidations arrive through
  // invalidate_device_tlb with has_pasid). Defaults do nothing and report kNone.
  virtual Granularity invalidate_pasid_cache(const PasidCacheInvalidation&) {
    return Granularity::kNone;
  }
  virtual Granularity invalidate_pasid_iotlb(const PasidIotlbInvalidation&) {
    return Granularity::kNone;
  }
};

// Contract: an ATS-capable endpoint's translation cache. The platform connects the unit to
// the devices in its scope; invalidations complete synchronously (no ITE/ICE).
class DeviceTlbSink {
 public:
  virtual ~DeviceTlbSink() = default;
  virtual void invalidate_device_tlb(const DeviceTlbInvalidation& request) = 0;
};

}  // namespace vtdsim::iommu
