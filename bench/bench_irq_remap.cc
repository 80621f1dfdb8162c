// Interrupt remapping speed: one remappable MSI through InterruptRemapper::remap with an IEC
// hit (target ≤ 20 ns) and with an IEC miss plus IRTE fetch (target ≤ 100 ns), and a posted
// interrupt (descriptor update) for reference.
#include <cstdint>

#include <benchmark/benchmark.h>

#include "irq_remap/interrupt_remapper.h"
#include "irq_remap/irte.h"
#include "irq_remap/msi.h"
#include "model/physical_memory.h"

namespace {

using namespace vtdsim;
using irq_remap::InterruptRemapper;

constexpr std::uint64_t kTable = 0x100000;
constexpr std::uint64_t kPid = 0x400000;
constexpr unsigned kEntries = 4096;  // IRTA.S = 11
const model::SourceId kSource = model::SourceId::make(1, 0, 0);

struct Setup {
  model::PhysicalMemory mem{46};
  InterruptRemapper ir{mem, irq_remap::IrConfig{}};  // IEC 1 set x 32 ways, LRU
  irq_remap::IrState state{};

  explicit Setup(bool posted) {
    state.table = kTable;
    state.size_field = 11;
    state.eime = true;
    state.table_set = true;
    state.enabled = true;
    for (std::uint32_t i = 0; i < kEntries; ++i) {
      model::Entry128 e;
      if (posted) {
        e.set<irq_remap::posted_irte::P>(1);
        e.set<irq_remap::posted_irte::IM>(1);
        e.set<irq_remap::posted_irte::VV>(i & 0xFF);
        e.set<irq_remap::posted_irte::PDA_L>(kPid >> 6);
      } else {
        e.set<irq_remap::irte::P>(1);
        e.set<irq_remap::irte::V>(0x20 + (i & 0x7F));
        e.set<irq_remap::irte::DST>(i);
      }
      e.set<irq_remap::irte::SVT>(1);
      e.set<irq_remap::irte::SID>(kSource.raw);
      (void)mem.write(kTable + 16ull * i, model::U128{e.q[0], e.q[1]});
    }
  }
};

void BM_remap_interrupt_iec_hit(benchmark::State& st) {
  Setup s(false);
  const auto msi = irq_remap::encode_remappable_msi(17, true, 0);
  model::Cycle t = 0;
  for (auto _ : st) {
    auto r = s.ir.remap(kSource, msi.address, msi.data, s.state, t++);
    benchmark::DoNotOptimize(r);
  }
  st.counters["hit_rate"] = static_cast<double>(s.ir.stats().int_cache_hit) /
                            static_cast<double>(s.ir.stats().int_cache_lookup);
}
BENCHMARK(BM_remap_interrupt_iec_hit);

void BM_remap_interrupt_iec_miss(benchmark::State& st) {
  Setup s(false);
  // Cycling through 4096 indices with a 32-entry LRU IEC: every lookup misses.
  std::uint32_t i = 0;
  model::Cycle t = 0;
  for (auto _ : st) {
    const auto msi = irq_remap::encode_remappable_msi(static_cast<std::uint16_t>(i), true, 0);
    auto r = s.ir.remap(kSource, msi.address, msi.data, s.state, t++);
    benchmark::DoNotOptimize(r);
    i = (i + 1) & (kEntries - 1);
  }
  st.counters["hit_rate"] = static_cast<double>(s.ir.stats().int_cache_hit) /
                            static_cast<double>(s.ir.stats().int_cache_lookup);
}
BENCHMARK(BM_remap_interrupt_iec_miss);

void BM_remap_interrupt_posted_hit(benchmark::State& st) {
  Setup s(true);
  const auto msi = irq_remap::encode_remappable_msi(5, true, 0);
  model::Cycle t = 0;
  for (auto _ : st) {
    auto r = s.ir.remap(kSource, msi.address, msi.data, s.state, t++);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_remap_interrupt_posted_hit);

}  // namespace
