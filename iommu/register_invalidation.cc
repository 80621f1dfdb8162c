// CCMD and IOTLB/IVA command execution (spec §6.5.1; facts §2.1–2.3).
#include "iommu/register_invalidation.h"

namespace vtdsim::iommu {

void RegisterInvalidation::on_ccmd_write() {
  std::uint64_t v = regs_.get(Reg::kCcmd);
  if (ccmd::ICC::get(v) == 0) return;
  const auto requested = static_cast<Granularity>(ccmd::CIRG::get(v));
  Granularity done = Granularity::kNone;
  if (requested != Granularity::kNone) {
    ++stats_.register_invalidations;
    done = target_.invalidate_context(
        ContextInvalidation{requested, static_cast<std::uint16_t>(ccmd::DID::get(v)),
                            model::SourceId{static_cast<std::uint16_t>(ccmd::SID::get(v))},
                            static_cast<unsigned>(ccmd::FM::get(v))});
  }
  v = ccmd::CAIG::set(v, static_cast<std::uint64_t>(done));
  v = ccmd::ICC::set(v, 0);
  regs_.set(Reg::kCcmd, v);
}

void RegisterInvalidation::on_iotlb_write() {
  std::uint64_t v = regs_.get(Reg::kIotlb);
  if (iotlb_reg::IVT::get(v) == 0) return;
  Granularity requested = static_cast<Granularity>(iotlb_reg::IIRG::get(v));
  const std::uint64_t address = regs_.get(Reg::kIva);
  const auto am = static_cast<unsigned>(iva::AM::get(address));
  Granularity done = Granularity::kNone;
  const bool valid = requested != Granularity::kNone &&
                     !(requested == Granularity::kSelective && psi_ && am > mamv_);
  if (valid) {
    // MODEL: without CAP.PSI a page-selective request is performed domain-selective and
    // reported so in IAIG.
    if (requested == Granularity::kSelective && !psi_) requested = Granularity::kDomain;
    ++stats_.register_invalidations;
    done = target_.invalidate_iotlb(IotlbInvalidation{
        requested, static_cast<std::uint16_t>(iotlb_reg::DID::get(v)), iva::ADDR::raw(address), am,
        iva::IH::get(address) != 0, iotlb_reg::DR::get(v) != 0, iotlb_reg::DW::get(v) != 0});
  } else {
    ++stats_.iotlb_inv_failed;
  }
  v = iotlb_reg::IAIG::set(v, static_cast<std::uint64_t>(done));
  v = iotlb_reg::IVT::set(v, 0);
  regs_.set(Reg::kIotlb, v);
}

}  // namespace vtdsim::iommu
