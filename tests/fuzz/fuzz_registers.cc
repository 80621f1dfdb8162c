// Fuzz target: arbitrary sequences of 4/8-byte MMIO reads and writes (any offset in the window
// and beyond, any size) to a RemappingUnit, interleaved with DMA translations, interrupt remaps
// and writes of fuzzer-chosen memory contents (spec §11.4 registers, ch. 3, 5, 6, 7).
// Invariants: reads of bad sizes/offsets return 0; VER/CAP/ECAP never change; an 8-byte read of
// a 64-bit register equals its two 4-byte halves; GSTS agrees with the latched state the
// translation and interrupt pipelines use; results have defined outcomes; every pending fault
// record holds a defined reason.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "iommu/registers.h"
#include "iommu/remapping_unit.h"
#include "model/physical_memory.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/unit_checks.h"

namespace {

using namespace vtdsim;
using fuzz::FuzzInput;
namespace ro = iommu::reg_offset;

constexpr std::uint64_t kPoolBase = 0x10000;  // 16 frames the input fills with tables
constexpr unsigned kPoolFrames = 16;
constexpr unsigned kMaxOps = 512;

class NullSink final : public model::InterruptSink {
 public:
  void deliver(const model::ApicMessage&) override { ++delivered; }
  std::uint64_t delivered = 0;
};

std::uint64_t pool_pointer(FuzzInput& in) {
  return kPoolBase + std::uint64_t{in.u8() % kPoolFrames} * model::kPageSize;
}

// An offset the register file decodes, or one next to it.
std::uint64_t interesting_offset(FuzzInput& in, const iommu::UnitConfig& c) {
  static constexpr std::array<std::uint32_t, 22> kFixed = {
      ro::kVer,    ro::kCap,     ro::kEcap,  ro::kGcmd,   ro::kGsts,   ro::kRtaddr,
      ro::kCcmd,   ro::kFsts,    ro::kFectl, ro::kFedata, ro::kFeaddr, ro::kFeuaddr,
      ro::kIqh,    ro::kIqt,     ro::kIqa,   ro::kIcs,    ro::kIectl,  ro::kIedata,
      ro::kIeaddr, ro::kIeuaddr, ro::kIqer,  ro::kIrta};
  const std::uint8_t k = in.u8();
  std::uint64_t off = 0;
  if (k < 160) {
    off = kFixed[k % kFixed.size()];
  } else if (k < 200) {
    off = std::uint64_t{c.iro} * 16 + (k & 1u) * 8;  // IVA, IOTLB
  } else {
    off = fuzz::frcd_offset(c, 0) + (k % (16 * c.nfr));
  }
  return (off + ((k & 0x40u) != 0 ? 4 : 0)) & ~std::uint64_t{3};
}

void check_constant_registers(iommu::RemappingUnit& u, std::uint64_t ver, std::uint64_t cap,
                              std::uint64_t ecap) {
  FUZZ_CHECK(u.mmio_read(ro::kVer, 4) == ver, "VER changed");
  FUZZ_CHECK(u.mmio_read(ro::kCap, 8) == cap, "CAP changed");
  FUZZ_CHECK(u.mmio_read(ro::kEcap, 8) == ecap, "ECAP changed");
}

void check_gsts(iommu::RemappingUnit& u) {
  const std::uint32_t g = fuzz::gsts(u);
  const iommu::RootState& root = u.root_state();
  const irq_remap::IrState& ir = u.ir_state();
  FUZZ_CHECK(((g & fuzz::kTE) != 0) == root.translation_enabled, "GSTS.TES %u vs TE state %d",
             g >> 31, root.translation_enabled ? 1 : 0);
  FUZZ_CHECK(((g & fuzz::kSRTP) != 0) == root.root_table_pointer_set, "GSTS.RTPS vs state");
  FUZZ_CHECK(((g & fuzz::kIRE) != 0) == ir.enabled, "GSTS.IRES vs state");
  FUZZ_CHECK(((g & fuzz::kSIRTP) != 0) == ir.table_set, "GSTS.IRTPS vs state");
  FUZZ_CHECK(((g & fuzz::kCFI) != 0) == ir.cfi, "GSTS.CFIS vs state");
  const iommu::UnitConfig& c = u.config();
  if (!c.queued_invalidation) FUZZ_CHECK((g & fuzz::kQIE) == 0, "QIES without ECAP.QI");
  if (!c.interrupt_remapping) {
    FUZZ_CHECK((g & (fuzz::kIRE | fuzz::kSIRTP | fuzz::kCFI)) == 0, "IR status without ECAP.IR");
  }
}

void check_records(iommu::RemappingUnit& u) {
  const iommu::UnitConfig& c = u.config();
  bool any = false;
  for (unsigned i = 0; i < c.nfr; ++i) {
    const std::uint64_t hi = u.mmio_read(fuzz::frcd_offset(c, i) + 8, 8);
    if ((hi >> 63) == 0) continue;
    any = true;
    const auto fr = static_cast<std::uint8_t>((hi >> 32) & 0xFFu);
    FUZZ_CHECK(fuzz::defined_reason(fr) || fuzz::defined_ir_reason(fr), "record %u FR 0x%02x", i,
               fr);
  }
  const std::uint64_t fsts = u.mmio_read(ro::kFsts, 4);
  FUZZ_CHECK(((fsts & iommu::fsts::PPF::kMask) != 0) == any, "FSTS.PPF %d, records pending %d",
             (fsts & iommu::fsts::PPF::kMask) != 0 ? 1 : 0, any ? 1 : 0);
}

void do_read(iommu::RemappingUnit& u, std::uint64_t off, unsigned size) {
  const std::uint64_t v = u.mmio_read(off, size);
  if ((size != 4 && size != 8) || (off % size) != 0 || off >= u.mmio_size()) {
    FUZZ_CHECK(v == 0, "bad read (offset 0x%llx size %u) returned 0x%llx",
               static_cast<unsigned long long>(off), size, static_cast<unsigned long long>(v));
    return;
  }
  if (size == 4) {
    FUZZ_CHECK(v <= 0xFFFFFFFFu, "4-byte read returned 0x%llx", static_cast<unsigned long long>(v));
    return;
  }
  // An 8-byte read is 0 (a 32-bit register, rejected) or the register's two halves.
  if (v != 0) {
    const std::uint64_t halves = u.mmio_read(off, 4) | (u.mmio_read(off + 4, 4) << 32);
    FUZZ_CHECK(v == halves, "8-byte read at 0x%llx: 0x%llx, halves 0x%llx",
               static_cast<unsigned long long>(off), static_cast<unsigned long long>(v),
               static_cast<unsigned long long>(halves));
  }
}

model::DmaRequest request_from(FuzzInput& in) {
  model::DmaRequest r;
  const std::uint8_t f = in.u8();
  r.source_id =
      model::SourceId{(f & 1u) != 0 ? in.u16() : static_cast<std::uint16_t>(in.u8() & 7u)};
  switch ((f >> 1) & 3u) {
    case 0:
      r.address = std::uint64_t{in.u16()} << 12;
      r.address |= in.u16() & 0xFFFu;
      break;
    case 1:
      r.address = in.u64();
      break;
    case 2:
      r.address = 0xFEE00000u | (in.u32() & 0xFFFFFu);
      break;
    default:
      r.address = std::uint64_t{in.u32()} << 12;
      break;
  }
  r.access = (f & 8u) != 0 ? model::AccessType::kWrite : model::AccessType::kRead;
  r.address_type = static_cast<model::AddressType>((f >> 4) % 3u);
  r.has_pasid = (f & 0x40u) != 0;
  if (r.has_pasid) r.pasid = in.u32() & 0xFFFFFu;
  r.arrival = in.u16();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  const iommu::UnitConfig config = fuzz::config_from(in);
  model::PhysicalMemory memory(config.host_address_width);
  NullSink sink;
  iommu::RemappingUnit unit(memory, config, &sink, &sink);
  const std::uint64_t ver = unit.mmio_read(ro::kVer, 4);
  const std::uint64_t cap = unit.mmio_read(ro::kCap, 8);
  const std::uint64_t ecap = unit.mmio_read(ro::kEcap, 8);
  FUZZ_CHECK(cap == config.cap() && ecap == config.ecap(), "CAP/ECAP differ from the config");

  for (unsigned op = 0; op < kMaxOps && !in.empty(); ++op) {
    switch (in.u8() % 8) {
      case 0:
      case 1: {  // a write to a decoded register; table pointers usually into the pool
        const std::uint64_t off = interesting_offset(in, config);
        const unsigned sz = (off % 8 == 0 && in.boolean()) ? 8 : 4;
        std::uint64_t v = in.u64();
        if ((off == ro::kRtaddr || off == ro::kIqa || off == ro::kIrta) && (v & 1u) != 0) {
          v = pool_pointer(in) | (v & 0xFFEu);
        } else if (off == ro::kGcmd) {
          v &= 0xFF800000u;
        }
        unit.mmio_write(off, sz, v);
        break;
      }
      case 2: {  // any offset, any size
        static constexpr std::array<unsigned, 7> kSizes = {4, 8, 4, 8, 1, 2, 16};
        const std::uint64_t off = in.boolean() ? in.u16() : in.u64();
        const unsigned sz = in.pick(std::span<const unsigned>(kSizes));
        unit.mmio_write(off, sz, in.u64());
        break;
      }
      case 3: {
        static constexpr std::array<unsigned, 6> kSizes = {4, 8, 4, 8, 2, 0};
        const std::uint64_t off = in.boolean() ? interesting_offset(in, config) : in.u16();
        do_read(unit, off, in.pick(std::span<const unsigned>(kSizes)));
        break;
      }
      case 4: {  // memory contents: a qword in the pool, pointers usually into the pool
        const std::uint64_t pa = pool_pointer(in) + (in.u16() & 0xFF8u);
        std::uint64_t v = in.u64();
        if ((v & 0x800u) != 0) v = pool_pointer(in) | (v & 0xFFFu);
        (void)memory.write(pa, v);
        break;
      }
      case 5: {
        const model::DmaRequest r = request_from(in);
        const model::Translation t = unit.translate(r);
        fuzz::check_translation_shape(r, t);
        if (t.ok() && !unit.root_state().translation_enabled) {
          FUZZ_CHECK(t.hpa == r.address, "TE=0 changed the address");
        }
        break;
      }
      case 6: {
        const auto sid = model::SourceId{in.u16()};
        const std::uint64_t addr = in.boolean() ? 0xFEE00000u | (in.u32() & 0xFFFFFu) : in.u64();
        const std::uint32_t d = in.u32();
        const irq_remap::IrResult r = unit.remap_interrupt(sid, addr, d, in.u16());
        switch (r.outcome) {
          case irq_remap::IrOutcome::kPassThrough:
          case irq_remap::IrOutcome::kRemapped:
          case irq_remap::IrOutcome::kPosted:
            break;
          case irq_remap::IrOutcome::kFault:
            FUZZ_CHECK(fuzz::defined_ir_reason(r.fault_reason), "IR fault 0x%02x", r.fault_reason);
            break;
          default:
            FUZZ_CHECK(false, "undefined IR outcome %d", static_cast<int>(r.outcome));
        }
        break;
      }
      default:
        check_gsts(unit);
        check_records(unit);
        break;
    }
    check_constant_registers(unit, ver, cap, ecap);
  }
  check_gsts(unit);
  check_records(unit);
  return 0;
}
