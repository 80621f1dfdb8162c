// Fuzz target: arbitrary IRTEs (remapped §9.9 and posted §9.10 formats), posted-interrupt
// descriptors (§9.11), IRTA state and MSI address/data (§5.1.2) through
// irq_remap::InterruptRemapper, with the IEC invalidated after each IRTE write (as software
// must).
// Invariants: a defined outcome and fault reason (0x20..0x28); IRE off → pass-through of the
// compatibility decode; a remapped message carries the IRTE's V, DST, DM, TM, DLM and RH for the
// index the MSI names; posting changes only the 64-byte descriptor the IRTE names (PIR[VV] set,
// ON set exactly when a notification is sent, to NV); faults agree with the table (0x21 index
// beyond 2^(S+1), 0x22 P clear).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "irq_remap/interrupt_remapper.h"
#include "irq_remap/irte.h"
#include "model/interrupt_sink.h"
#include "model/physical_memory.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace vtdsim;
using fuzz::FuzzInput;

constexpr std::uint64_t kIrt = 0x100000;  // 256 IRTEs: one frame
constexpr std::uint64_t kPid = 0x101000;  // two frames of posted-interrupt descriptors
constexpr std::uint64_t kRegionEnd = 0x103000;
constexpr unsigned kIrtes = 256;
constexpr unsigned kMaxOps = 256;

std::uint64_t pid_address(FuzzInput& in) {
  return kPid + std::uint64_t{in.u8() % 128u} * 64;
}

void write_irte(FuzzInput& in, model::PhysicalMemory& m, irq_remap::InterruptRemapper& ir) {
  const unsigned index = in.u8();
  const std::uint8_t k = in.u8();
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  switch (k % 4) {
    case 0:
      lo = in.u64();
      hi = in.u64();
      break;
    case 1: {  // remapped: P, FPD, DM, RH, TM, DLM from one byte, V, DST, SID/SQ/SVT
      const std::uint64_t v = in.u8();
      const std::uint64_t dst = in.boolean() ? in.u8() : in.u32();
      const unsigned dst_shift = in.boolean() ? 40 : 32;
      const std::uint64_t dlm = in.u8() & 7u;
      lo = 1u | ((k >> 2) & 0x3Eu) | (v << 16) | (dst << dst_shift) | (dlm << 5);
      const std::uint64_t sid = in.u16();
      hi = sid | (std::uint64_t{in.u8() & 0xFu} << 16);
      break;
    }
    case 2: {  // posted: P, URG, IM, VV, PDA into the descriptor frames
      const std::uint64_t pda = (k & 0x80u) != 0 ? pid_address(in) : in.u64() & ~0x3Full;
      const std::uint64_t vv = in.u8();
      lo = 1u | ((k & 0x40u) != 0 ? 2u : 0u) | ((k & 0x20u) != 0 ? 0x4000u : 0u) | 0x8000u |
           (vv << 16) | (((pda >> 6) & 0x3FFFFFFu) << 38);
      std::uint64_t svt = 0;
      if (!in.boolean()) {
        svt = in.u16();
        svt |= std::uint64_t{in.u8() & 0xFu} << 16;
      }
      hi = svt | ((pda >> 32) << 32);
      break;
    }
    default:  // one bit away from a plain present entry
      lo = (1u | (std::uint64_t{0x40} << 16)) ^ (std::uint64_t{1} << (in.u8() % 64));
      hi = in.boolean() ? 0 : std::uint64_t{1} << (in.u8() % 64);
      break;
  }
  (void)m.write(kIrt + 16 * index, model::U128{lo, hi});
  // Software invalidates the IEC after changing an IRTE (§6.5.2.6 / §5.1.4).
  if ((k & 0x10u) != 0) {
    ir.invalidate_all();
  } else {
    ir.invalidate_index(static_cast<std::uint16_t>(index), in.u8() % 17);
  }
}

void write_pid(FuzzInput& in, model::PhysicalMemory& m) {
  const std::uint64_t pda = pid_address(in);
  std::array<std::uint64_t, 8> d{};
  const std::uint8_t k = in.u8();
  if ((k & 1u) != 0) {
    for (auto& q : d) q = in.u64();
  } else {  // a well-formed descriptor: PIR bits, ON/SN, NV, NDST
    for (unsigned i = 0; i < 4; ++i) d[i] = in.boolean() ? in.u64() : 0;
    const std::uint64_t nv = in.u8();
    const std::uint64_t ndst = in.boolean() ? std::uint32_t{in.u8()} << 8 : in.u32();
    d[4] = ((k >> 1) & 3u) | (nv << 16) | (ndst << 32);
  }
  (void)m.write_bytes(pda, std::as_bytes(std::span(d)));
}

std::vector<std::uint8_t> region(const model::PhysicalMemory& m) {
  std::vector<std::uint8_t> out(kRegionEnd - kIrt);
  (void)m.read_bytes(kIrt, std::as_writable_bytes(std::span(out)));
  return out;
}

void check_remap(const model::PhysicalMemory& memory, const irq_remap::IrState& st,
                 model::SourceId source, std::uint64_t address, std::uint32_t data,
                 const irq_remap::IrResult& r, const std::vector<std::uint8_t>& before,
                 std::uint64_t resident_before) {
  using irq_remap::IrOutcome;
  // Independent decode of the request (§5.1.2.2).
  const bool remappable = ((address >> 4) & 1u) != 0;
  const bool shv = ((address >> 3) & 1u) != 0;
  const std::uint32_t handle =
      static_cast<std::uint32_t>(((address >> 5) & 0x7FFFu) | (((address >> 2) & 1u) << 15));
  const std::uint32_t index = handle + (shv ? (data & 0xFFFFu) : 0u);
  model::U128 e{};
  const bool in_table = index < kIrtes && st.table == kIrt;
  if (in_table) (void)memory.read_into(kIrt + 16 * index, e);
  const std::vector<std::uint8_t> after = region(memory);

  switch (r.outcome) {
    case IrOutcome::kPassThrough:
      FUZZ_NOTE("pass-through");
      FUZZ_CHECK(!st.enabled || (!remappable && st.cfi && !st.eime),
                 "pass-through with IRE on (remappable %d cfi %d eime %d)", remappable ? 1 : 0,
                 st.cfi ? 1 : 0, st.eime ? 1 : 0);
      FUZZ_CHECK(
          r.message.vector == (data & 0xFFu) && r.message.destination == ((address >> 12) & 0xFFu),
          "pass-through message differs from the compatibility decode");
      break;
    case IrOutcome::kRemapped: {
      FUZZ_CHECK(st.enabled && remappable, "remapped without IRE or a remappable request");
      FUZZ_CHECK(index < (std::uint32_t{2} << (st.size_field & 0xFu)), "index %u beyond table",
                 index);
      if (!in_table) break;
      FUZZ_NOTE("remapped message matches the IRTE");
      FUZZ_CHECK((e.lo & 1u) != 0 && ((e.lo >> 15) & 1u) == 0, "remapped with IRTE 0x%016llx",
                 static_cast<unsigned long long>(e.lo));
      FUZZ_CHECK(r.message.vector == ((e.lo >> 16) & 0xFFu), "vector 0x%x, IRTE.V 0x%x",
                 r.message.vector, static_cast<unsigned>((e.lo >> 16) & 0xFFu));
      const std::uint64_t dst = st.eime ? (e.lo >> 32) : ((e.lo >> 40) & 0xFFu);
      FUZZ_CHECK(r.message.destination == dst, "destination 0x%x, IRTE gives 0x%llx",
                 r.message.destination, static_cast<unsigned long long>(dst));
      FUZZ_CHECK(r.message.logical == (((e.lo >> 2) & 1u) != 0) &&
                     r.message.redirection_hint == (((e.lo >> 3) & 1u) != 0) &&
                     r.message.level == (((e.lo >> 4) & 1u) != 0) &&
                     static_cast<unsigned>(r.message.delivery_mode) == ((e.lo >> 5) & 7u),
                 "DM/RH/TM/DLM differ from the IRTE");
      FUZZ_CHECK(after == before && memory.frames_resident() == resident_before,
                 "a remapped interrupt wrote memory");
      break;
    }
    case IrOutcome::kPosted: {
      FUZZ_CHECK(st.enabled && remappable, "posted without IRE or a remappable request");
      if (!in_table) break;
      FUZZ_CHECK((e.lo & 1u) != 0 && ((e.lo >> 15) & 1u) != 0, "posted with IRTE 0x%016llx",
                 static_cast<unsigned long long>(e.lo));
      const std::uint64_t pda = (e.hi & 0xFFFFFFFF00000000ull) | (((e.lo >> 38) & 0x3FFFFFFu) << 6);
      const auto vv = static_cast<unsigned>((e.lo >> 16) & 0xFFu);
      if (pda < kPid || pda + 64 > kRegionEnd) {
        // Outside the snapshot: the region must be untouched, at most one frame allocated.
        FUZZ_CHECK(after == before, "posting to 0x%llx changed the IRT/descriptor frames",
                   static_cast<unsigned long long>(pda));
        FUZZ_CHECK(memory.frames_resident() <= resident_before + 1, "posting allocated frames");
        break;
      }
      FUZZ_NOTE("posting changes only its descriptor");
      const std::size_t off = pda - kIrt;
      for (std::size_t i = 0; i < before.size(); ++i) {
        if (i >= off && i < off + 64) continue;
        FUZZ_CHECK(before[i] == after[i], "posting to 0x%llx changed byte 0x%llx",
                   static_cast<unsigned long long>(pda), static_cast<unsigned long long>(kIrt + i));
      }
      std::array<std::uint64_t, 8> d0{};
      std::array<std::uint64_t, 8> d1{};
      std::memcpy(d0.data(), &before[off], 64);
      std::memcpy(d1.data(), &after[off], 64);
      const std::uint64_t bit = std::uint64_t{1} << (vv & 63u);
      FUZZ_CHECK((d1[vv >> 6] & bit) != 0, "PIR[0x%x] not set", vv);
      d0[vv >> 6] |= bit;
      const bool on_before = (d0[4] & 1u) != 0;
      if (r.notify) {
        FUZZ_CHECK(!on_before && (d1[4] & 1u) != 0, "notification but ON was %d / is %d",
                   on_before ? 1 : 0, static_cast<int>(d1[4] & 1u));
        FUZZ_CHECK(r.notification.vector == ((d1[4] >> 16) & 0xFFu), "notification vector");
        d0[4] |= 1u;
      }
      FUZZ_CHECK(d0 == d1, "posting changed descriptor bits other than PIR[VV] and ON");
      break;
    }
    case IrOutcome::kFault: {
      FUZZ_CHECK(r.fault_reason >= 0x20 && r.fault_reason <= 0x28, "IR fault 0x%02x",
                 r.fault_reason);
      FUZZ_CHECK(st.enabled, "IR fault with IRE off");
      if (r.fault_reason == 0x21) {
        FUZZ_CHECK(index >= (std::uint32_t{2} << (st.size_field & 0xFu)),
                   "0x21 for index %u of a 2^(%u+1) table", index, st.size_field);
      }
      if (r.fault_reason == 0x22 && in_table) {
        FUZZ_CHECK((e.lo & 1u) == 0, "0x22 but IRTE %u has P set", index);
      }
      FUZZ_CHECK(after == before && memory.frames_resident() == resident_before,
                 "a blocked interrupt wrote memory");
      break;
    }
    default:
      FUZZ_CHECK(false, "undefined outcome %d", static_cast<int>(r.outcome));
  }
  (void)source;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  const std::uint8_t f = in.u8();
  irq_remap::IrConfig config;
  config.eim = (f & 1u) == 0;
  config.posted_interrupts = (f & 2u) == 0;
  if ((f & 4u) != 0) config.iec = model::CacheGeometry{.sets = 1, .ways = 2};
  model::PhysicalMemory memory((f & 8u) != 0 ? 39 : 46);
  irq_remap::InterruptRemapper ir(memory, config);

  irq_remap::IrState st;
  const std::uint8_t s = in.u8();
  st.table = (s & 0x80u) != 0 ? (in.u64() & ~0xFFFull) : kIrt;
  st.size_field = s & 0xFu;
  st.eime = config.eim && (s & 0x10u) != 0;
  st.table_set = true;
  st.enabled = (s & 0x20u) == 0;
  st.cfi = (s & 0x40u) != 0;

  for (unsigned op = 0; op < kMaxOps && !in.empty(); ++op) {
    switch (in.u8() % 4) {
      case 0:
        write_irte(in, memory, ir);
        break;
      case 1:
        write_pid(in, memory);
        break;
      default: {
        const model::SourceId source{in.boolean() ? in.u16() : std::uint16_t{0x0100}};
        std::uint64_t address = 0;
        const std::uint8_t k = in.u8();
        if ((k & 3u) == 0) {
          address = in.u64();
        } else {  // 0xFEE, handle bits, IF, SHV from the input
          address = 0xFEE00000u | ((std::uint64_t{in.u8()} << 5) & 0xFFFE0u) |
                    ((k & 4u) != 0 ? 4u : 0u) | ((k & 8u) != 0 ? 8u : 0u) |
                    ((k & 0x30u) != 0 ? 0x10u : 0u);
        }
        const std::uint32_t d = (k & 0x40u) != 0 ? in.u32() : in.u8();
        const std::vector<std::uint8_t> before = region(memory);
        const std::uint64_t resident = memory.frames_resident();
        const irq_remap::IrResult r = ir.remap(source, address, d, st, in.u16());
        check_remap(memory, st, source, address, d, r, before, resident);
        break;
      }
    }
  }
  return 0;
}
