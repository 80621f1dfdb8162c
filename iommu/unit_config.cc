// CAP/ECAP values advertised by a UnitConfig (spec §11.4, facts §1.2–1.3), its MMIO window
// size and its consistency checks.
#include "iommu/unit_config.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "iommu/registers.h"

namespace vtdsim::iommu {

namespace {

std::uint64_t bit(bool b) {
  return b ? 1u : 0u;
}

Status invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, "UnitConfig: " + std::move(message));
}

Status check_geometry(const model::CacheGeometry& g, const char* name) {
  if (auto s = g.validate(); !s) return invalid(fmt::format("{}: {}", name, s.error().message));
  return {};
}

}  // namespace

std::uint64_t UnitConfig::cap() const {
  std::uint64_t v = 0;
  v = cap::ND::set(v, nd);
  v = cap::RWBF::set(v, bit(rwbf));
  v = cap::CM::set(v, bit(caching_mode));
  v = cap::SAGAW::set(v, sagaw);
  v = cap::MGAW::set(v, mgaw - 1);
  v = cap::ZLR::set(v, bit(zlr));
  v = cap::FRO::set(v, fro);
  v = cap::SLLPS::set(v, bit(sl_2m_pages) | (bit(sl_1g_pages) << 1));
  v = cap::PSI::set(v, bit(psi));
  v = cap::NFR::set(v, nfr - 1);
  v = cap::MAMV::set(v, mamv);
  v = cap::DWD::set(v, bit(dwd));
  v = cap::DRD::set(v, bit(drd));
  v = cap::FL1GP::set(v, bit(fs_1g_pages));
  v = cap::PI::set(v, bit(posted_interrupts));
  v = cap::FL5LP::set(v, bit(fs_5level));
  v = cap::ESIRTPS::set(v, bit(esirtps));
  v = cap::ESRTPS::set(v, bit(esrtps));
  return v;
}

std::uint64_t UnitConfig::ecap() const {
  std::uint64_t v = 0;
  v = ecap::C::set(v, bit(coherent));
  v = ecap::QI::set(v, bit(queued_invalidation));
  v = ecap::DT::set(v, bit(device_tlb));
  v = ecap::IR::set(v, bit(interrupt_remapping));
  v = ecap::EIM::set(v, bit(eim));
  v = ecap::PT::set(v, bit(pass_through));
  v = ecap::SC::set(v, bit(snoop_control));
  v = ecap::IRO::set(v, iro);
  v = ecap::MHMV::set(v, mhmv);
  v = ecap::NEST::set(v, bit(nested));
  v = ecap::SRS::set(v, bit(supervisor_requests));
  v = ecap::PSS::set(v, pasid ? pss : 0);
  v = ecap::PASID::set(v, bit(pasid));
  v = ecap::SMTS::set(v, bit(scalable_mode));
  v = ecap::SLADS::set(v, bit(ss_ad));
  v = ecap::SLTS::set(v, bit(ss_translation));
  v = ecap::FLTS::set(v, bit(fs_translation));
  v = ecap::RPS::set(v, bit(rid_pasid));
  v = ecap::ERS::set(v, bit(execute_requests));
  v = ecap::EAFS::set(v, bit(eafs));
  v = ecap::SMPWCS::set(v, bit(scalable_mode && sm_page_walk_coherent));
  return v;
}

std::uint64_t UnitConfig::mmio_window_size() const {
  const std::uint64_t end = std::max<std::uint64_t>(
      {reg_offset::kFixedEnd, std::uint64_t{iro} * 16 + 16, std::uint64_t{fro} * 16 + 16 * nfr});
  return (end + 0xFFF) & ~std::uint64_t{0xFFF};
}

Status UnitConfig::validate() const {
  if (version == 0) return invalid("version must not be 0");
  if (nd > 6) return invalid(fmt::format("nd = {} (CAP.ND allows 0..6)", nd));
  if (sagaw == 0 || (sagaw & ~0b1110u) != 0) {
    return invalid(fmt::format("sagaw = {:#x} (bits 1..3 only, at least one)", sagaw));
  }
  if (mgaw < 30 || mgaw > 57) return invalid(fmt::format("mgaw = {} (30..57)", mgaw));
  if (host_address_width < 30 || host_address_width > 52) {
    return invalid(fmt::format("host_address_width = {} (30..52)", host_address_width));
  }
  if (nfr < 1 || nfr > 256) return invalid(fmt::format("nfr = {} (1..256)", nfr));
  if (fro > cap::FRO::kMax) return invalid(fmt::format("fro = {:#x} (10 bits)", fro));
  if (iro > ecap::IRO::kMax) return invalid(fmt::format("iro = {:#x} (10 bits)", iro));
  const std::uint64_t iva = std::uint64_t{iro} * 16;
  const std::uint64_t frcd = std::uint64_t{fro} * 16;
  const std::uint64_t frcd_end = frcd + 16 * std::uint64_t{nfr};
  if (iva < reg_offset::kFixedEnd) {
    return invalid(
        fmt::format("iro = {:#x} places IVA at {:#x}, inside the fixed registers", iro, iva));
  }
  if (frcd < reg_offset::kFixedEnd) {
    return invalid(
        fmt::format("fro = {:#x} places FRCD at {:#x}, inside the fixed registers", fro, frcd));
  }
  if (iva < frcd_end && frcd < iva + 16) {
    return invalid(fmt::format("iro = {:#x} and fro = {:#x}/nfr = {} overlap", iro, fro, nfr));
  }
  if (mamv > cap::MAMV::kMax) return invalid(fmt::format("mamv = {} (0..63)", mamv));
  if (mhmv > ecap::MHMV::kMax) return invalid(fmt::format("mhmv = {} (0..15)", mhmv));
  if (pss > ecap::PSS::kMax) return invalid(fmt::format("pss = {} (0..31)", pss));
  if (!interrupt_remapping && (eim || posted_interrupts)) {
    return invalid("eim and posted_interrupts need interrupt_remapping");
  }
  if (!scalable_mode && (ss_translation || fs_translation || ss_ad || rid_pasid || eafs)) {
    return invalid("ss_translation/fs_translation/ss_ad/rid_pasid/eafs need scalable_mode");
  }
  if (nested && scalable_mode && !(ss_translation && fs_translation)) {
    return invalid("nested in scalable mode needs ss_translation and fs_translation");
  }
  if (auto s = check_geometry(context_cache, "context_cache"); !s) return s;
  if (auto s = check_geometry(iotlb, "iotlb"); !s) return s;
  for (std::size_t i = 0; i < pwc.size(); ++i) {
    if (pwc[i].ways == 0) continue;
    const std::string name = fmt::format("pwc[{}]", i);
    if (auto s = check_geometry(pwc[i], name.c_str()); !s) return s;
  }
  if (auto s = check_geometry(pasid_cache, "pasid_cache"); !s) return s;
  if (auto s = check_geometry(iec, "iec"); !s) return s;
  return {};
}

}  // namespace vtdsim::iommu
