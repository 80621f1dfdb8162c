// Scalable-mode queued-invalidation descriptors, 256-bit (spec 4.x §6.5.2.4, §6.5.2.6,
// §6.5.2.7; facts §6.2, §6.8–6.10): PASID-based IOTLB (type 6), PASID-cache (type 7) and
// PASID-based device-TLB (type 8). Bits 255:128 are reserved in all three (checked by the
// queue). PFSID is reserved: the unit does not advertise ECAP.DIT.
#pragma once

#include "iommu/descriptors.h"
#include "model/field.h"

namespace vtdsim::iommu {

// PASID-based IOTLB invalidate, type 6 (facts §6.8): G 10 all of the PASID, 11 page-selective.
namespace p_iotlb_desc {
using G = model::Field<5, 4>;
using DID = model::Field<31, 16>;
using PASID = model::Field<51, 32>;
using AM = model::Field<69, 64>;
using IH = model::Field<70, 70>;
using ADDR = model::Field<127, 76>;
using Layout = model::Layout<2, desc::Type, G, desc::TypeHi, DID, PASID, AM, IH, ADDR>;
static_assert(model::valid_layout<Layout>());
inline constexpr std::uint64_t kAllOfPasid = 0b10;
inline constexpr std::uint64_t kPageSelective = 0b11;
}  // namespace p_iotlb_desc

// PASID-cache invalidate, type 7 (facts §6.9): G 00 domain, 01 PASID-selective, 11 global.
namespace pc_desc {
using G = model::Field<5, 4>;
using DID = model::Field<31, 16>;
using PASID = model::Field<51, 32>;
using Layout = model::Layout<2, desc::Type, G, desc::TypeHi, DID, PASID>;
static_assert(model::valid_layout<Layout>());
inline constexpr std::uint64_t kDomain = 0b00;
inline constexpr std::uint64_t kPasidSelective = 0b01;
inline constexpr std::uint64_t kGlobal = 0b11;
}  // namespace pc_desc

// PASID-based device-TLB invalidate, type 8 (facts §6.10).
namespace p_dev_tlb_desc {
using MIP = model::Field<8, 4>;
using SID = model::Field<31, 16>;
using PASID = model::Field<51, 32>;
using G = model::Field<64, 64>;
using S = model::Field<75, 75>;
using ADDR = model::Field<127, 76>;
using Layout = model::Layout<2, desc::Type, MIP, desc::TypeHi, SID, PASID, G, S, ADDR>;
static_assert(model::valid_layout<Layout>());
}  // namespace p_dev_tlb_desc

}  // namespace vtdsim::iommu
