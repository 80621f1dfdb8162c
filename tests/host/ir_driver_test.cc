// IrDriver end to end against iommu::RemappingUnit: IRTA/SIRTP/IRE/CFI bring-up, remapped
// IRTEs delivering the programmed vector and destination, multi-vector blocks selected by the
// sub-handle, source validation (exact and bus range), posted IRTEs, IEC invalidation on
// reprogramming, clearing, and misuse.
#include "host/ir_driver.h"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "host/vtd_driver.h"
#include "iommu/registers.h"
#include "iommu/remapping_unit.h"
#include "irq_remap/interrupt_remapper.h"
#include "irq_remap/irte.h"
#include "model/frame_allocator.h"
#include "model/physical_memory.h"

namespace vtdsim::host {
namespace {

constexpr model::SourceId kNic = model::SourceId::make(0, 3, 0);

struct Sink : model::InterruptSink {
  void deliver(const model::ApicMessage& m) override { got.push_back(m); }
  std::vector<model::ApicMessage> got;
};

struct Rig {
  explicit Rig(iommu::UnitConfig cfg = {}, IrDriverConfig ir = {})
      : memory(46),
        frames(memory, 0x1000'0000, 16ull << 20),
        unit(memory, cfg, &events, &sink),
        dma(unit, memory, frames),
        irq(dma.regs(), dma.invalidator(), memory, frames, ir) {
    EXPECT_TRUE(dma.init());
    EXPECT_TRUE(irq.enable());
  }
  irq_remap::IrResult fire(model::SourceId source, const irq_remap::MsiMessage& msi) {
    return unit.remap_interrupt(source, msi.address, msi.data);
  }

  model::PhysicalMemory memory;
  model::FrameAllocator frames;
  Sink events;
  Sink sink;
  iommu::RemappingUnit unit;
  VtdDriver dma;
  IrDriver irq;
};

TEST(IrDriver, EnableProgramsIrtaAndHandshakes) {
  Rig rig;
  const std::uint64_t irta = rig.unit.mmio_read(iommu::reg_offset::kIrta, 8);
  EXPECT_EQ(irta, rig.irq.table() | (1u << 11) | 7u);  // base, EIME, S = 7
  const auto gsts = rig.unit.mmio_read(iommu::reg_offset::kGsts, 4);
  EXPECT_EQ(
      gsts & (iommu::gsts::IRTPS::kMask | iommu::gsts::IRES::kMask | iommu::gsts::CFIS::kMask),
      iommu::gsts::IRTPS::kMask | iommu::gsts::IRES::kMask);
  EXPECT_EQ(rig.unit.stats().sirtp, 1u);
  EXPECT_EQ(rig.unit.stats().int_cache_inv_global, 1u);
  EXPECT_EQ(rig.irq.entries(), 256u);
  EXPECT_TRUE(rig.unit.ir_state().enabled);
  EXPECT_EQ(rig.dma.regs().gcmd_shadow(), iommu::gcmd::QIE::kMask | iommu::gcmd::IRE::kMask);
}

TEST(IrDriver, RemappedIrteDeliversTheProgrammedVector) {
  Rig rig;
  const std::uint16_t h = rig.irq.allocate().value();
  EXPECT_EQ(h, 0u);
  ASSERT_TRUE(
      rig.irq.program_remapped(h, RemappedTarget{0x1005, 0x41}, SourceValidation::exact(kNic)));
  EXPECT_EQ(rig.unit.stats().int_cache_inv_index, 1u);
  const auto msi = rig.irq.compose_msi(h);
  EXPECT_EQ(msi.address, 0xFEE0'0018u);  // handle 0, SHV, IF
  EXPECT_EQ(msi.data, 0u);
  auto r = rig.fire(kNic, msi);
  ASSERT_EQ(r.outcome, irq_remap::IrOutcome::kRemapped);
  EXPECT_EQ(r.message.vector, 0x41);
  EXPECT_EQ(r.message.destination, 0x1005u);
  ASSERT_EQ(rig.sink.got.size(), 1u);
  EXPECT_EQ(rig.sink.got[0].vector, 0x41);
  // Another requester fails source validation.
  auto bad = rig.fire(model::SourceId::make(0, 4, 0), msi);
  EXPECT_EQ(bad.outcome, irq_remap::IrOutcome::kFault);
  EXPECT_EQ(bad.fault_reason, 0x26);
  // Reprogramming invalidates the cached entry: the new vector is delivered.
  ASSERT_TRUE(
      rig.irq.program_remapped(h, RemappedTarget{0x1005, 0x42}, SourceValidation::exact(kNic)));
  EXPECT_EQ(rig.fire(kNic, msi).message.vector, 0x42);
  ASSERT_TRUE(rig.irq.clear(h));
  auto gone = rig.fire(kNic, msi);
  EXPECT_EQ(gone.outcome, irq_remap::IrOutcome::kFault);
  EXPECT_EQ(gone.fault_reason, 0x22);
}

TEST(IrDriver, MultiVectorBlockIsAlignedAndSelectedBySubhandle) {
  Rig rig;
  EXPECT_EQ(rig.irq.allocate().value(), 0u);
  const std::uint16_t base = rig.irq.allocate(4).value();
  EXPECT_EQ(base, 4u);  // aligned to 4, skipping 1..3
  EXPECT_EQ(rig.irq.allocate().value(), 1u);
  for (std::uint16_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(rig.irq.program_remapped(static_cast<std::uint16_t>(base + i),
                                         RemappedTarget{2, static_cast<std::uint8_t>(0x50 + i)},
                                         SourceValidation::exact(kNic)));
  }
  // The device adds the vector number to the data: sub-handle 2 → entry 6.
  auto msi = rig.irq.compose_msi(base);
  EXPECT_EQ(msi.address, 0xFEE0'0098u);  // handle 4 in bits 19:5
  msi.data += 2;
  auto r = rig.fire(kNic, msi);
  ASSERT_EQ(r.outcome, irq_remap::IrOutcome::kRemapped);
  EXPECT_EQ(r.message.vector, 0x52);
  EXPECT_EQ(r.index, 6u);
  ASSERT_TRUE(rig.irq.free(base, 4));
  EXPECT_EQ(rig.fire(kNic, msi).fault_reason, 0x22);
  EXPECT_EQ(rig.irq.allocate(4).value(), 4u);  // the block is free again
}

TEST(IrDriver, BusRangeValidationForDevicesBehindABridge) {
  Rig rig;
  const std::uint16_t h = rig.irq.allocate().value();
  ASSERT_TRUE(
      rig.irq.program_remapped(h, RemappedTarget{1, 0x60}, SourceValidation::bus_range(2, 3)));
  const auto msi = rig.irq.compose_msi(h);
  EXPECT_EQ(rig.fire(model::SourceId::make(3, 1, 0), msi).message.vector, 0x60);
  EXPECT_EQ(rig.fire(model::SourceId::make(2, 0, 0), msi).message.vector, 0x60);
  EXPECT_EQ(rig.fire(model::SourceId::make(4, 0, 0), msi).fault_reason, 0x26);
}

TEST(IrDriver, PostedIrteSetsThePirBitAndNotifies) {
  Rig rig;
  const std::uint64_t pda = 0x2000'0040;
  model::Entry512 pid;
  pid.set<irq_remap::pid::NV>(0xF2);
  pid.set<irq_remap::pid::NDST>(7);
  for (std::size_t i = 0; i < 8; ++i) ASSERT_TRUE(rig.memory.write(pda + 8 * i, pid.q[i]));
  const std::uint16_t h = rig.irq.allocate().value();
  ASSERT_TRUE(rig.irq.program_posted(h, pda, 0x33, false, SourceValidation::exact(kNic)));
  auto r = rig.fire(kNic, rig.irq.compose_msi(h));
  ASSERT_EQ(r.outcome, irq_remap::IrOutcome::kPosted);
  EXPECT_TRUE(r.notify);
  EXPECT_EQ(r.notification.vector, 0xF2);
  EXPECT_EQ(r.notification.destination, 7u);
  EXPECT_EQ(rig.memory.read<std::uint64_t>(pda).value(), std::uint64_t{1} << 0x33);
  EXPECT_EQ(rig.memory.read<std::uint64_t>(pda + 32).value() & 1u, 1u);  // ON
  EXPECT_FALSE(rig.irq.program_posted(h, pda + 8, 0x33, false, SourceValidation::none()));
}

TEST(IrDriver, XapicModeAndMisuse) {
  iommu::UnitConfig cfg;
  cfg.eim = false;
  Rig rig(cfg);
  EXPECT_EQ(rig.unit.mmio_read(iommu::reg_offset::kIrta, 8) & (1u << 11), 0u);
  const std::uint16_t h = rig.irq.allocate().value();
  EXPECT_FALSE(rig.irq.program_remapped(h, RemappedTarget{0x100, 0x30}, SourceValidation::none()));
  ASSERT_TRUE(rig.irq.program_remapped(h, RemappedTarget{0x12, 0x30}, SourceValidation::none()));
  auto irte = rig.memory.read<std::uint64_t>(rig.irq.irte_address(h)).value();
  EXPECT_EQ(irq_remap::irte::DST_XAPIC::get(irte), 0x12u);
  auto r = rig.fire(model::SourceId::make(5, 0, 0), rig.irq.compose_msi(h));
  ASSERT_EQ(r.outcome, irq_remap::IrOutcome::kRemapped);
  EXPECT_EQ(r.message.destination, 0x12u);
  EXPECT_FALSE(rig.irq.allocate(3));         // not a power of two
  EXPECT_FALSE(rig.irq.allocate(1u << 16));  // beyond 2^MHMV
  EXPECT_FALSE(rig.irq.program_remapped(200, RemappedTarget{}, SourceValidation::none()));
  EXPECT_FALSE(rig.irq.free(2, 2));  // not allocated
  EXPECT_FALSE(rig.irq.free(1, 2));  // unaligned
}

}  // namespace
}  // namespace vtdsim::host
