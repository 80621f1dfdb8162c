// Register storage, decoding and access masks (spec §11.4; facts §1–2, §5.3, §6.1, §7.1).
#include "iommu/register_file.h"

namespace vtdsim::iommu {

namespace {

// Bits [width-1:12]: an address field limited to a width (bits above it are not implemented).
constexpr std::uint64_t address_bits(unsigned width) {
  const std::uint64_t below = width >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
  return below & ~std::uint64_t{0xFFF};
}

constexpr std::uint64_t if_set(bool b, std::uint64_t mask) {
  return b ? mask : 0;
}

}  // namespace

RegisterFile::RegisterFile(const UnitConfig& c) {
  const bool qi = c.queued_invalidation;
  const bool ir = c.interrupt_remapping;
  const std::uint64_t haw = address_bits(c.host_address_width);
  auto def = [&](Reg r, std::uint32_t offset, std::uint8_t width, std::uint64_t reset,
                 std::uint64_t rw, std::uint64_t rw1c = 0, bool command = false) {
    specs_[index(r)] = RegisterSpec{offset, width, reset, rw, rw1c, command};
  };
  using namespace reg_offset;
  def(Reg::kVer, kVer, 4, c.version, 0);
  def(Reg::kCap, kCap, 8, c.cap(), 0);
  def(Reg::kEcap, kEcap, 8, c.ecap(), 0);
  def(Reg::kGcmd, kGcmd, 4, 0, 0, 0, /*command=*/true);
  def(Reg::kGsts, kGsts, 4, 0, 0);
  def(Reg::kRtaddr, kRtaddr, 8, 0,
      (rtaddr::RTA::kMask & haw) | if_set(c.scalable_mode, std::uint64_t{1} << 10));
  def(Reg::kCcmd, kCcmd, 8, 0,
      ccmd::DID::kMask | ccmd::SID::kMask | ccmd::FM::kMask | ccmd::CIRG::kMask | ccmd::ICC::kMask);
  def(Reg::kFsts, kFsts, 4, 0, 0,
      fsts::PFO::kMask | if_set(qi, fsts::IQE::kMask) |
          if_set(c.device_tlb, fsts::ICE::kMask | fsts::ITE::kMask));
  def(Reg::kFectl, kFectl, 4, event_ctl::IM::kMask, event_ctl::IM::kMask);
  def(Reg::kFedata, kFedata, 4, 0, event_data::IMD::kMask);
  def(Reg::kFeaddr, kFeaddr, 4, 0, event_addr::MA::kMask);
  def(Reg::kFeuaddr, kFeuaddr, 4, 0, if_set(c.eim, event_uaddr::MUA::kMask));
  if (qi) {
    def(Reg::kIqh, kIqh, 8, 0, 0);
    def(Reg::kIqt, kIqt, 8, 0, queue_pointer::QO::kMask);
    def(Reg::kIqa, kIqa, 8, 0,
        (iqa::IQA::kMask & haw) | iqa::QS::kMask | if_set(c.scalable_mode, iqa::DW::kMask));
    def(Reg::kIcs, kIcs, 4, 0, 0, ics::IWC::kMask);
    def(Reg::kIectl, kIectl, 4, event_ctl::IM::kMask, event_ctl::IM::kMask);
    def(Reg::kIedata, kIedata, 4, 0, event_data::IMD::kMask);
    def(Reg::kIeaddr, kIeaddr, 4, 0, event_addr::MA::kMask);
    def(Reg::kIeuaddr, kIeuaddr, 4, 0, if_set(c.eim, event_uaddr::MUA::kMask));
    def(Reg::kIqer, kIqer, 8, 0, 0);
  }
  if (ir) {
    def(Reg::kIrta, kIrta, 8, 0,
        (irta::IRTA::kMask & haw) | irta::S::kMask | if_set(c.eim, irta::EIME::kMask));
  }
  const std::uint32_t iva = c.iro * 16;
  def(Reg::kIva, iva, 8, 0,
      (iva::ADDR::kMask & address_bits(c.mgaw)) | iva::IH::kMask | iva::AM::kMask);
  def(Reg::kIotlb, iva + 8, 8, 0,
      iotlb_reg::DID::kMask | if_set(c.dwd, iotlb_reg::DW::kMask) |
          if_set(c.drd, iotlb_reg::DR::kMask) | iotlb_reg::IIRG::kMask | iotlb_reg::IVT::kMask);

  window_ = c.mmio_window_size();
  slots_.assign(window_ / 4, 0);
  for (std::size_t r = 0; r < kRegCount; ++r) {
    const RegisterSpec& s = specs_[r];
    if (s.width == 0 || s.offset + s.width > window_) continue;
    for (unsigned half = 0; half < s.width / 4u; ++half) {
      slots_[s.offset / 4 + half] = static_cast<std::uint16_t>(1 + 2 * r + half);
    }
  }
  frcd_.assign(std::size_t{c.nfr} * 2, 0);
  for (unsigned rec = 0; rec < c.nfr; ++rec) {
    for (unsigned dw = 0; dw < 4; ++dw) {
      slots_[(c.fro * 16 + rec * 16) / 4 + dw] =
          static_cast<std::uint16_t>(kFrcdTag | (rec * 4 + dw));
    }
  }
  reset();
}

void RegisterFile::reset() {
  for (std::size_t r = 0; r < kRegCount; ++r) values_[r] = specs_[r].reset;
  std::fill(frcd_.begin(), frcd_.end(), 0);
}

std::uint64_t RegisterFile::read(std::uint64_t offset, unsigned size) const {
  if ((size != 4 && size != 8) || (offset & (size - 1)) != 0) return 0;
  const std::uint16_t s = slot(offset);
  if (s == 0) return 0;
  if ((s & kFrcdTag) != 0) {
    const unsigned rec = (s & (kFrcdTag - 1u)) / 4u;
    const unsigned dw = s & 3u;
    const std::uint64_t word = frcd_[rec * 2 + dw / 2];
    if (size == 8) return word;  // offset 8-aligned: dw is 0 or 2
    return (dw & 1u) != 0 ? word >> 32 : word & 0xFFFFFFFFu;
  }
  const std::size_t r = (s - 1u) / 2;
  const unsigned half = (s - 1u) % 2;
  const RegisterSpec& spec = specs_[r];
  if (size == 8 && spec.width != 8) return 0;
  const std::uint64_t v = spec.command ? 0 : values_[r];
  if (size == 8) return v;
  return half != 0 ? v >> 32 : v & 0xFFFFFFFFu;
}

WriteResult RegisterFile::write(std::uint64_t offset, unsigned size, std::uint64_t value) {
  WriteResult out;
  if ((size != 4 && size != 8) || (offset & (size - 1)) != 0) {
    out.bad_access = true;
    return out;
  }
  const std::uint16_t s = slot(offset);
  if (s == 0) {
    out.bad_access = true;
    return out;
  }
  std::uint64_t span = ~std::uint64_t{0};
  std::uint64_t placed = value;
  if ((s & kFrcdTag) != 0) {
    const unsigned rec = (s & (kFrcdTag - 1u)) / 4u;
    const unsigned dw = s & 3u;
    if (dw < 2) return out;  // bits 63:0 are read-only
    if (size == 4) {
      span = (dw & 1u) != 0 ? 0xFFFFFFFF00000000u : 0xFFFFFFFFu;
      placed = (dw & 1u) != 0 ? (value & 0xFFFFFFFFu) << 32 : value & 0xFFFFFFFFu;
    }
    std::uint64_t& word = frcd_[rec * 2 + 1];
    out.kind = WriteResult::Kind::kFaultRecord;
    out.record = rec;
    out.old = word;
    out.value = placed;
    out.low = (span & 0xFFFFFFFFu) != 0;
    out.high = (span >> 32) != 0;
    word &= ~(placed & span & frcd::F::kMask);
    return out;
  }
  const std::size_t r = (s - 1u) / 2;
  const unsigned half = (s - 1u) % 2;
  const RegisterSpec& spec = specs_[r];
  if (size == 8 && spec.width != 8) {
    out.bad_access = true;
    return out;
  }
  if (spec.rw == 0 && spec.rw1c == 0 && !spec.command) return out;  // read-only register
  if (size == 4) {
    span = half != 0 ? 0xFFFFFFFF00000000u : 0xFFFFFFFFu;
    placed = half != 0 ? (value & 0xFFFFFFFFu) << 32 : value & 0xFFFFFFFFu;
  }
  out.kind = WriteResult::Kind::kRegister;
  out.reg = static_cast<Reg>(r);
  out.low = (span & 0xFFFFFFFFu) != 0;
  out.high = spec.width == 8 && (span >> 32) != 0;
  out.value = placed & span;
  std::uint64_t& v = values_[r];
  out.old = v;
  if (spec.command) return out;
  v = (v & ~(spec.rw & span)) | (placed & spec.rw & span);
  v &= ~(placed & spec.rw1c & span);
  return out;
}

}  // namespace vtdsim::iommu
