// Queued-invalidation throughput (target ≥ 5 million descriptors/s, items_per_second): batches
// of 256 descriptors submitted with one IQT write, through the whole RemappingUnit (DMA caches
// and IEC behind it) and through the queue alone with a null target (queue overhead).
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include "iommu/descriptors.h"
#include "iommu/event_interrupt.h"
#include "iommu/fault_recorder.h"
#include "iommu/invalidation_queue.h"
#include "iommu/register_file.h"
#include "iommu/registers.h"
#include "iommu/remapping_unit.h"
#include "model/physical_memory.h"

namespace {

using namespace vtdsim;
using namespace vtdsim::iommu;

constexpr std::uint64_t kQueue = 0x100000;
constexpr std::uint64_t kStatus = 0x9000;
constexpr std::uint64_t kEntries = 256;  // IQA.QS = 0
constexpr std::uint64_t kBatch = 255;    // one slot stays free, as drivers keep it

model::U128 iotlb_psi(std::uint16_t did, std::uint64_t page) {
  return {2u | (3u << 4) | (std::uint64_t{did} << 16), page << 12};
}
model::U128 context_device(std::uint16_t did, std::uint16_t sid) {
  return {1u | (3u << 4) | (std::uint64_t{did} << 16) | (std::uint64_t{sid} << 32), 0};
}
model::U128 iec_index(std::uint16_t index) {
  return {4u | 0x10u | (std::uint64_t{index} << 32), 0};
}
model::U128 wait_sw(std::uint32_t data) {
  return {5u | 0x20u | (std::uint64_t{data} << 32), kStatus};
}

// Fills the ring: `mix` selects the pattern (0: mixed types, 1: IOTLB PSI + wait pairs).
void fill_queue(model::PhysicalMemory& mem, int mix) {
  for (std::uint64_t i = 0; i < kEntries; ++i) {
    model::U128 d;
    if (mix == 1) {
      d = (i % 2 == 0) ? iotlb_psi(1, i) : wait_sw(static_cast<std::uint32_t>(i));
    } else {
      switch (i % 4) {
        case 0:
          d = iotlb_psi(static_cast<std::uint16_t>(1 + i % 8), i);
          break;
        case 1:
          d = context_device(1, static_cast<std::uint16_t>(i));
          break;
        case 2:
          d = iec_index(static_cast<std::uint16_t>(i));
          break;
        default:
          d = wait_sw(static_cast<std::uint32_t>(i));
          break;
      }
    }
    (void)mem.write(kQueue + 16 * i, d);
  }
}

void run_unit(benchmark::State& state, int mix) {
  model::PhysicalMemory mem(40);
  RemappingUnit unit(mem, UnitConfig{});
  fill_queue(mem, mix);
  unit.mmio_write(reg_offset::kIqt, 8, 0);
  unit.mmio_write(reg_offset::kIqa, 8, kQueue);
  unit.mmio_write(reg_offset::kGcmd, 4, 1u << 26);  // QIE
  std::uint64_t tail = 0;
  for (auto _ : state) {
    tail = (tail + kBatch) % kEntries;
    unit.mmio_write(reg_offset::kIqt, 8, tail << 4);
  }
  if (unit.stats().qi_errors != 0) state.SkipWithError("invalidation queue error");
  state.SetItemsProcessed(static_cast<std::int64_t>(unit.stats().qi_descriptors));
}

void BM_QiUnitMixed(benchmark::State& state) {
  run_unit(state, 0);
}
void BM_QiUnitIotlbPsiWait(benchmark::State& state) {
  run_unit(state, 1);
}

class NullTarget final : public InvalidationTarget {
 public:
  Granularity invalidate_context(const ContextInvalidation& r) override {
    benchmark::DoNotOptimize(r);
    return r.granularity;
  }
  Granularity invalidate_iotlb(const IotlbInvalidation& r) override {
    benchmark::DoNotOptimize(r);
    return r.granularity;
  }
  void invalidate_iec(const IecInvalidation& r) override { benchmark::DoNotOptimize(r); }
  void invalidate_device_tlb(const DeviceTlbInvalidation& r) override {
    benchmark::DoNotOptimize(r);
  }
};

void BM_QiQueueOnly(benchmark::State& state) {
  model::PhysicalMemory mem(40);
  UnitConfig config;
  UnitStats stats{};
  RegisterFile regs(config);
  EventInterrupt fe(regs, Reg::kFectl, Reg::kFedata, Reg::kFeaddr, Reg::kFeuaddr,
                    stats.fault_events);
  EventInterrupt ie(regs, Reg::kIectl, Reg::kIedata, Reg::kIeaddr, Reg::kIeuaddr,
                    stats.invalidation_events);
  FaultRecorder recorder(regs, config, fe, stats);
  NullTarget target;
  InvalidationQueue queue(regs, config, mem, target, recorder, ie, stats);
  fill_queue(mem, 0);
  regs.set(Reg::kIqa, kQueue);
  regs.set_field<gsts::QIES>(Reg::kGsts, 1);
  std::uint64_t tail = 0;
  for (auto _ : state) {
    tail = (tail + kBatch) % kEntries;
    regs.set(Reg::kIqt, tail << 4);
    queue.process(false, 0);
  }
  if (stats.qi_errors != 0) state.SkipWithError("invalidation queue error");
  state.SetItemsProcessed(static_cast<std::int64_t>(stats.qi_descriptors));
}

BENCHMARK(BM_QiUnitMixed);
BENCHMARK(BM_QiUnitIotlbPsiWait);
BENCHMARK(BM_QiQueueOnly);

}  // namespace
