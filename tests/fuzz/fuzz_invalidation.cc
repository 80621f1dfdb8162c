// Fuzz target: arbitrary descriptors in the invalidation queue (spec §6.5.2; facts §6), mixed
// with descriptors built valid, raw IQT/FSTS/ICS writes, DMA translations over fixed valid
// tables and interrupt remaps over a fixed IRTE table.
// Invariants: a batch either runs to IQT (IQH = IQT) or stops with FSTS.IQE, IQER.IQEI
// defined and IQH at a descriptor the harness did not build valid; after a successful global
// (or matching domain/page) IOTLB invalidation the next translation of a cached page is not an
// IOTLB hit, after a matching context invalidation not a context-cache hit, and after a
// matching IEC invalidation the next remap of a cached index not an IEC hit (DmaRemapStats /
// IrStats before and after); translations and remaps over untouched tables stay exact.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "iommu/registers.h"
#include "iommu/remapping_unit.h"
#include "model/physical_memory.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/unit_checks.h"

namespace {

using namespace vtdsim;
using fuzz::FuzzInput;
namespace ro = iommu::reg_offset;

constexpr std::uint64_t kRoot = 0x100000;  // root table
constexpr std::uint64_t kCtx = 0x101000;   // context table of bus 0
constexpr std::uint64_t kPt = 0x102000;    // second-stage tables: 0x102000.. (one per level)
constexpr std::uint64_t kIrt = 0x108000;   // 16 IRTEs
constexpr std::uint64_t kQueue = 0x110000;
constexpr std::uint64_t kStatus = 0x120000;
constexpr std::uint64_t kTablesEnd = 0x109000;
constexpr std::uint64_t kOutput = 0x4000000;
constexpr unsigned kPages = 8;
constexpr unsigned kIrtes = 16;
constexpr unsigned kEntries = 256;  // QS = 0, 128-bit descriptors
constexpr unsigned kMaxOps = 128;

// Two devices in two domains over the same tables: 00:01.0 DID 1, 00:02.0 DID 2.
constexpr std::array<model::SourceId, 2> kSids = {model::SourceId::make(0, 1, 0),
                                                  model::SourceId::make(0, 2, 0)};
constexpr std::array<std::uint16_t, 2> kDids = {1, 2};

class NullSink final : public model::InterruptSink {
 public:
  void deliver(const model::ApicMessage&) override {}
};

unsigned lowest_aw(const iommu::UnitConfig& c) {
  for (unsigned aw = 1; aw <= 3; ++aw) {
    if (((c.sagaw >> aw) & 1u) != 0) return aw;
  }
  return 2;
}

void build_tables(model::PhysicalMemory& m, unsigned aw) {
  (void)m.write(kRoot, model::U128{kCtx | 1u, 0});
  for (unsigned d = 0; d < kSids.size(); ++d) {
    (void)m.write(kCtx + kSids[d].devfn() * 16,
                  model::U128{kPt | 1u, aw | (std::uint64_t{kDids[d]} << 8)});
  }
  // IOVA i * 4 KiB (i < 8): every upper level uses index 0, one table a level.
  const unsigned levels = aw + 2;
  for (unsigned level = levels; level >= 2; --level) {
    const std::uint64_t table = kPt + (levels - level) * model::kPageSize;
    (void)m.write(table, (table + model::kPageSize) | 3u);
  }
  const std::uint64_t leaf_table = kPt + (levels - 1) * model::kPageSize;
  for (unsigned i = 0; i < kPages; ++i) {
    (void)m.write(leaf_table + 8 * i, (kOutput + i * model::kPageSize) | 3u);
  }
  // Remapped IRTEs: P, vector 0x30 + i, destination 0, no source-id check.
  for (unsigned i = 0; i < kIrtes; ++i) {
    (void)m.write(kIrt + 16 * i, model::U128{1u | (std::uint64_t{0x30 + i} << 16), 0});
  }
}

// Table memory, for detecting a wait descriptor's status write landing in it.
std::vector<std::uint8_t> tables(const model::PhysicalMemory& m) {
  std::vector<std::uint8_t> out(kTablesEnd - kRoot);
  (void)m.read_bytes(kRoot, std::as_writable_bytes(std::span(out)));
  return out;
}

unsigned type_of(std::uint64_t q0) {
  return static_cast<unsigned>((q0 & 0xFu) | (((q0 >> 9) & 7u) << 4));
}

struct Desc {
  model::U128 d;
  bool built_valid = false;
};

// A descriptor: built valid from a template, or raw with a chosen or random type.
Desc make_descriptor(FuzzInput& in, const iommu::UnitConfig& c) {
  const std::uint8_t k = in.u8();
  const std::uint64_t did = kDids[in.u8() & 1u];
  switch (k % 10) {
    case 0: {  // context-cache: global, domain, device (FM 0..3)
      const std::uint64_t g = 1 + in.u8() % 3u;
      const std::uint64_t sid = kSids[in.u8() & 1u].raw;
      const std::uint64_t fm = in.u8() & 3u;
      return {{1u | (g << 4) | (did << 16) | (sid << 32) | (fm << 48), 0}, true};
    }
    case 1:  // IOTLB global
      return {{2u | (1u << 4), 0}, true};
    case 2:  // IOTLB domain
      return {{2u | (2u << 4) | (did << 16), 0}, true};
    case 3: {  // IOTLB page-selective, AM within MAMV
      const std::uint64_t am = in.u8() % (c.mamv + 1);
      const std::uint64_t page = in.u8() % kPages;
      const std::uint64_t ih = (in.u8() & 1u) != 0 ? 0x40u : 0u;
      const std::uint64_t addr = (page << 12) & ~((std::uint64_t{1} << (12 + am)) - 1);
      return {{2u | (3u << 4) | (did << 16), addr | am | ih}, true};
    }
    case 4:  // IEC global or index-selective
      if ((in.u8() & 1u) != 0) return {{4u, 0}, c.interrupt_remapping};
      {
        const std::uint64_t im = in.u8() % (c.mhmv + 1);
        const std::uint64_t index = in.u8() % kIrtes;
        return {{4u | 0x10u | (im << 27) | (index << 32), 0}, c.interrupt_remapping};
      }
    case 5: {  // wait: status write to the status frame, IF/FN from the input
      const std::uint64_t iflag = (in.u8() & 3u) == 1 ? 0x10u : 0u;
      const std::uint64_t fn = in.boolean() ? 0x40u : 0u;
      const std::uint64_t status = std::uint64_t{in.u32()} << 32;
      const std::uint64_t addr = kStatus + (in.u8() & 0xFCu);
      return {{5u | iflag | fn | 0x20u | status, addr}, true};
    }
    case 6: {  // raw, valid type number
      const std::uint64_t bits = in.u64() & ~std::uint64_t{0xE0F};
      const std::uint64_t q0 = bits | (1 + in.u8() % 5u);
      return {{q0, in.u64()}, false};
    }
    case 7:  // raw, template type with a few random bits flipped in
      return {{(2u | (1u << 4)) ^ (std::uint64_t{1} << (in.u8() % 64)),
               in.boolean() ? 0 : std::uint64_t{1} << (in.u8() % 64)},
              false};
    default:
      return {{in.u64(), in.u64()}, false};
  }
}

// Invalidations the harness expects to have removed cached entries.
struct Expect {
  std::array<std::array<bool, kPages>, 2> iotlb_gone{};  // [domain][page]
  std::array<bool, 2> context_gone{};
  std::array<bool, kIrtes> iec_gone{};
  std::array<std::array<bool, kPages>, 2> cached{};
  std::array<bool, 2> context_cached{};
  std::array<bool, kIrtes> iec_cached{};
};

// Records what an executed descriptor invalidated (decoded here, independently of the unit).
void note_executed(const model::U128& d, const iommu::UnitConfig& c, Expect& e) {
  const std::uint64_t q0 = d.lo;
  const std::uint64_t q1 = d.hi;
  const unsigned g = static_cast<unsigned>((q0 >> 4) & 3u);
  const auto did = static_cast<std::uint16_t>((q0 >> 16) & 0xFFFFu);
  switch (type_of(q0)) {
    case 1:
      for (unsigned s = 0; s < 2; ++s) {
        // FM 01/10/11 masks SID[2], SID[2:1], SID[2:0] (facts §2.1).
        const unsigned fm = static_cast<unsigned>((q0 >> 48) & 3u);
        const unsigned masked = fm == 0 ? 0u : (7u << (3 - fm)) & 7u;
        const auto sid = static_cast<std::uint16_t>((q0 >> 32) & 0xFFFFu);
        const bool device = g == 3 && did == kDids[s] && ((sid ^ kSids[s].raw) & ~masked) == 0;
        if (g == 1 || (g == 2 && did == kDids[s]) || device) {
          e.context_gone[s] = true;
        }
      }
      break;
    case 2: {
      const unsigned am = static_cast<unsigned>(q1 & 0x3Fu);
      const std::uint64_t addr = q1 & ~std::uint64_t{0xFFF};
      for (unsigned s = 0; s < 2; ++s) {
        for (unsigned p = 0; p < kPages; ++p) {
          const std::uint64_t iova = std::uint64_t{p} << 12;
          const std::uint64_t mask = 12 + am >= 64 ? 0 : ~((std::uint64_t{1} << (12 + am)) - 1);
          const bool page = g == 3 && did == kDids[s] && (!c.psi || (iova & mask) == (addr & mask));
          if (g == 1 || (g == 2 && did == kDids[s]) || page) e.iotlb_gone[s][p] = true;
        }
      }
      break;
    }
    case 4: {
      const bool global = ((q0 >> 4) & 1u) == 0;
      const unsigned im = static_cast<unsigned>((q0 >> 27) & 0x1Fu);
      const auto index = static_cast<std::uint32_t>((q0 >> 32) & 0xFFFFu);
      for (std::uint32_t i = 0; i < kIrtes; ++i) {
        if (global || ((i ^ index) >> im) == 0) e.iec_gone[i] = true;
      }
      break;
    }
    default:
      break;
  }
}

struct Harness {
  Harness(const iommu::UnitConfig& c)
      : config(c), memory(c.host_address_width), unit(memory, config, &sink, &sink) {}

  std::uint64_t iqh() { return unit.mmio_read(ro::kIqh, 8); }
  std::uint64_t fsts() { return unit.mmio_read(ro::kFsts, 4); }
  void clear_iqe() { unit.mmio_write(ro::kFsts, 4, iommu::fsts::IQE::kMask); }

  // Resets the queue to empty: QIE off (IQH = 0), IQE cleared, IQT = 0, QIE on.
  void reset_queue() {
    fuzz::gcmd(unit, 0, fuzz::kQIE);
    FUZZ_CHECK(iqh() == 0, "IQH 0x%llx after QIE cleared", static_cast<unsigned long long>(iqh()));
    clear_iqe();
    unit.mmio_write(ro::kIqt, 8, 0);
    unit.mmio_write(ro::kIqa, 8, kQueue);
    fuzz::gcmd(unit, fuzz::kQIE);
    tail = 0;
    slots.assign(kEntries, Desc{});
  }

  // Processing stopped or finished: check IQH/IQE and learn what was executed.
  void after_process(std::uint64_t head_before) {
    const std::uint64_t head = iqh();
    const bool iqe = (fsts() & iommu::fsts::IQE::kMask) != 0;
    FUZZ_CHECK(head % 16 == 0 && head < kEntries * 16, "IQH 0x%llx",
               static_cast<unsigned long long>(head));
    if (!iqe) {
      FUZZ_CHECK(head == tail * 16, "no IQE but IQH 0x%llx, IQT 0x%llx",
                 static_cast<unsigned long long>(head), static_cast<unsigned long long>(tail * 16));
    } else {
      const std::uint64_t iqei = unit.mmio_read(ro::kIqer, 8) & 0xFu;
      FUZZ_NOTE("IQE at a raw descriptor");
      FUZZ_CHECK(iqei >= 2 && iqei <= 5, "IQE with IQEI %llu",
                 static_cast<unsigned long long>(iqei));
      FUZZ_CHECK(!slots[head / 16].built_valid,
                 "IQE (IQEI %llu) at IQH 0x%llx, a descriptor built valid (0x%016llx 0x%016llx)",
                 static_cast<unsigned long long>(iqei), static_cast<unsigned long long>(head),
                 static_cast<unsigned long long>(slots[head / 16].d.lo),
                 static_cast<unsigned long long>(slots[head / 16].d.hi));
    }
    for (std::uint64_t i = head_before / 16; i != head / 16; i = (i + 1) % kEntries) {
      note_executed(slots[i].d, config, expect);
    }
    if (iqe) {
      // Software repairs the slot with a plain wait, clears IQE and rewrites IQT.
      const std::uint64_t bad = head / 16;
      slots[bad] = Desc{{5u, 0}, true};
      (void)memory.write(kQueue + bad * 16, slots[bad].d);
      clear_iqe();
      unit.mmio_write(ro::kIqt, 8, tail * 16);
      after_process(head);
    }
  }

  void submit(FuzzInput& in) {
    const unsigned n = 1 + in.u8() % 4;
    for (unsigned i = 0; i < n; ++i) {
      const Desc d = make_descriptor(in, config);
      slots[tail] = d;
      (void)memory.write(kQueue + tail * 16, d.d);
      tail = (tail + 1) % kEntries;
      if (tail * 16 == iqh()) break;  // full
    }
    const std::uint64_t head = iqh();
    unit.mmio_write(ro::kIqt, 8, tail * 16);
    after_process(head);
  }

  void translate(FuzzInput& in) {
    const unsigned s = in.u8() & 1u;
    const unsigned p = in.u8() % kPages;
    model::DmaRequest r;
    r.source_id = kSids[s];
    r.address = (std::uint64_t{p} << 12) | (in.u16() & 0xFFFu);
    r.access = in.boolean() ? model::AccessType::kWrite : model::AccessType::kRead;
    const iommu::DmaRemapStats before = unit.dma_remapper().stats();
    const model::Translation t = unit.translate(r);
    const iommu::DmaRemapStats& after = unit.dma_remapper().stats();
    fuzz::check_translation_shape(r, t);
    fuzz::check_and_clear_fault_log(unit, r, t);
    if (tables(memory) != pristine) return;  // a status write landed in the tables
    FUZZ_CHECK(t.ok() && t.hpa == kOutput + (r.address & ~0xFFFull) + (r.address & 0xFFFu),
               "translation of a mapped page: status %d hpa 0x%llx", static_cast<int>(t.status),
               static_cast<unsigned long long>(t.hpa));
    if (expect.cached[s][p] && expect.iotlb_gone[s][p]) {
      FUZZ_NOTE("iotlb miss after invalidation");
      FUZZ_CHECK(after.iotlb_hit == before.iotlb_hit,
                 "IOTLB hit for sid %u page %u after an invalidation that removed it", s, p);
    }
    if (expect.context_cached[s] && expect.context_gone[s]) {
      FUZZ_NOTE("context miss after invalidation");
      FUZZ_CHECK(after.ctxt_cache_hit == before.ctxt_cache_hit,
                 "context-cache hit for sid %u after an invalidation that removed it", s);
    }
    expect.cached[s][p] = true;
    expect.iotlb_gone[s][p] = false;
    expect.context_cached[s] = true;
    expect.context_gone[s] = false;
  }

  void remap(FuzzInput& in) {
    const unsigned i = in.u8() % kIrtes;
    const std::uint64_t before = unit.interrupt_remapper().stats().int_cache_hit;
    const irq_remap::IrResult r =
        unit.remap_interrupt(kSids[0], 0xFEE00000u | (std::uint64_t{i} << 5) | 0x10u, 0);
    const std::uint64_t after = unit.interrupt_remapper().stats().int_cache_hit;
    if (tables(memory) != pristine) return;
    FUZZ_CHECK(r.outcome == irq_remap::IrOutcome::kRemapped && r.message.vector == 0x30 + i,
               "remap of index %u: outcome %d vector 0x%x", i, static_cast<int>(r.outcome),
               r.message.vector);
    if (expect.iec_cached[i] && expect.iec_gone[i]) {
      FUZZ_NOTE("iec miss after invalidation");
      FUZZ_CHECK(after == before, "IEC hit for index %u after an invalidation that removed it", i);
    }
    expect.iec_cached[i] = true;
    expect.iec_gone[i] = false;
  }

  iommu::UnitConfig config;
  model::PhysicalMemory memory;
  NullSink sink;
  iommu::RemappingUnit unit;
  std::vector<Desc> slots = std::vector<Desc>(kEntries);
  std::uint64_t tail = 0;
  Expect expect;
  std::vector<std::uint8_t> pristine;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  iommu::UnitConfig config = fuzz::config_from(in);
  config.queued_invalidation = true;
  config.interrupt_remapping = true;
  Harness h(config);
  build_tables(h.memory, lowest_aw(config));
  h.pristine = tables(h.memory);
  iommu::RemappingUnit& u = h.unit;
  u.mmio_write(ro::kRtaddr, 8, kRoot);
  fuzz::gcmd(u, fuzz::kSRTP);
  u.mmio_write(ro::kIrta, 8, kIrt | 3u | (config.eim ? 0x800u : 0u));  // 16 entries
  fuzz::gcmd(u, fuzz::kSIRTP);
  fuzz::gcmd(u, fuzz::kTE | fuzz::kIRE);
  h.reset_queue();

  for (unsigned op = 0; op < kMaxOps && !in.empty(); ++op) {
    switch (in.u8() % 8) {
      case 0:
      case 1:
      case 2:
        h.submit(in);
        break;
      case 3:
      case 4:
        h.translate(in);
        break;
      case 5:
        h.remap(in);
        break;
      case 6: {  // raw tail: IQEI 1 (invalid tail) leaves IQH where it was
        const std::uint64_t head = h.iqh();
        const std::uint64_t raw = in.u64();
        u.mmio_write(ro::kIqt, in.boolean() ? 8 : 4, raw);
        if ((h.fsts() & iommu::fsts::IQE::kMask) != 0 && (u.mmio_read(ro::kIqer, 8) & 0xFu) == 1) {
          FUZZ_CHECK(h.iqh() == head, "invalid tail moved IQH");
        }
        h.expect = Expect{};  // stale descriptors may have run: forget what was cached
        h.reset_queue();
        break;
      }
      default:  // status registers: RW1C writes of arbitrary bits
        const std::uint32_t reg = in.boolean() ? ro::kFsts : ro::kIcs;
        u.mmio_write(reg, 4, in.u32());
        if ((h.fsts() & iommu::fsts::IQE::kMask) == 0 && h.iqh() != h.tail * 16) {
          h.unit.mmio_write(ro::kIqt, 8, h.tail * 16);  // resume after clearing IQE
          h.after_process(h.iqh());
        }
        break;
    }
  }
  return 0;
}
