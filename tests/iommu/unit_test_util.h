// Test helpers for the remapping unit's register side: a fake interrupt sink, a fake
// invalidation target, and a rig holding a RemappingUnit programmed only through MMIO.
#pragma once

#include <cstdint>
#include <vector>

#include "iommu/descriptors.h"
#include "iommu/registers.h"
#include "iommu/remapping_unit.h"
#include "model/interrupt_sink.h"
#include "model/physical_memory.h"

namespace vtdsim::iommu::test_support {

class FakeSink final : public model::InterruptSink {
 public:
  void deliver(const model::ApicMessage& m) override { messages.push_back(m); }
  std::vector<model::ApicMessage> messages;
};

class FakeTarget final : public InvalidationTarget {
 public:
  Granularity invalidate_context(const ContextInvalidation& r) override {
    contexts.push_back(r);
    return context_result == Granularity::kNone ? r.granularity : context_result;
  }
  Granularity invalidate_iotlb(const IotlbInvalidation& r) override {
    iotlbs.push_back(r);
    return r.granularity;
  }
  void invalidate_iec(const IecInvalidation& r) override { iecs.push_back(r); }
  void invalidate_device_tlb(const DeviceTlbInvalidation& r) override { dev_tlbs.push_back(r); }
  std::size_t total() const {
    return contexts.size() + iotlbs.size() + iecs.size() + dev_tlbs.size();
  }

  Granularity context_result = Granularity::kNone;  // kNone: report what was requested
  std::vector<ContextInvalidation> contexts;
  std::vector<IotlbInvalidation> iotlbs;
  std::vector<IecInvalidation> iecs;
  std::vector<DeviceTlbInvalidation> dev_tlbs;
};

// GCMD/GSTS bit values.
inline constexpr std::uint32_t kTE = 1u << 31;
inline constexpr std::uint32_t kSRTP = 1u << 30;
inline constexpr std::uint32_t kWBF = 1u << 27;
inline constexpr std::uint32_t kQIE = 1u << 26;
inline constexpr std::uint32_t kIRE = 1u << 25;
inline constexpr std::uint32_t kSIRTP = 1u << 24;
inline constexpr std::uint32_t kCFI = 1u << 23;

// Descriptor builders (facts §6.3–6.7).
inline model::U128 cc_descriptor(unsigned g, std::uint16_t did = 0, std::uint16_t sid = 0,
                                 unsigned fm = 0) {
  return {1u | (std::uint64_t{g} << 4) | (std::uint64_t{did} << 16) | (std::uint64_t{sid} << 32) |
              (std::uint64_t{fm} << 48),
          0};
}
inline model::U128 iotlb_descriptor(unsigned g, std::uint16_t did = 0, std::uint64_t addr = 0,
                                    unsigned am = 0, bool ih = false) {
  return {2u | (std::uint64_t{g} << 4) | (std::uint64_t{did} << 16),
          (addr & ~std::uint64_t{0xFFF}) | am | (ih ? 0x40u : 0u)};
}
inline model::U128 dev_tlb_descriptor(std::uint16_t sid, std::uint64_t addr, bool s,
                                      unsigned mip = 0) {
  return {3u | (std::uint64_t{mip} << 16) | (std::uint64_t{sid} << 32),
          (addr & ~std::uint64_t{0xFFF}) | (s ? 1u : 0u)};
}
inline model::U128 iec_descriptor(bool index_selective, std::uint16_t index = 0, unsigned im = 0) {
  return {4u | (index_selective ? 0x10u : 0u) | (std::uint64_t{im} << 27) |
              (std::uint64_t{index} << 32),
          0};
}
inline model::U128 wait_descriptor(bool sw, bool iflag, std::uint32_t data = 0,
                                   std::uint64_t addr = 0, bool fn = false) {
  return {5u | (iflag ? 0x10u : 0u) | (sw ? 0x20u : 0u) | (fn ? 0x40u : 0u) |
              (std::uint64_t{data} << 32),
          addr & ~std::uint64_t{3}};
}

// A unit programmed only through MMIO, with its memory and sinks.
struct UnitRig {
  explicit UnitRig(const UnitConfig& c = UnitConfig{}, unsigned width = 40)
      : memory(width), config(c), unit(memory, config, &events, &interrupts) {}

  std::uint64_t rd32(std::uint32_t off) { return unit.mmio_read(off, 4); }
  std::uint64_t rd64(std::uint32_t off) { return unit.mmio_read(off, 8); }
  void wr32(std::uint32_t off, std::uint64_t v) { unit.mmio_write(off, 4, v); }
  void wr64(std::uint32_t off, std::uint64_t v) { unit.mmio_write(off, 8, v); }

  // Linux-style GCMD: shadow of level bits | one-shot.
  void gcmd(std::uint32_t v) { wr32(reg_offset::kGcmd, v); }
  std::uint32_t gsts() { return static_cast<std::uint32_t>(rd32(reg_offset::kGsts)); }
  std::uint32_t level_bits() { return gsts() & (kTE | kQIE | kIRE | kCFI); }

  void set_root(std::uint64_t root) {
    wr64(reg_offset::kRtaddr, root);
    gcmd(level_bits() | kSRTP);
  }
  void enable_te() { gcmd(level_bits() | kTE); }

  // Queue at qbase with QS=0 (256 entries); QIE set.
  void enable_qi(std::uint64_t base) {
    wr64(reg_offset::kIqt, 0);
    wr64(reg_offset::kIqa, base);
    gcmd(level_bits() | kQIE);
    qbase = base;
  }
  // Writes descriptors at the current tail and advances IQT (one tail write).
  void submit(const std::vector<model::U128>& ds) {
    std::uint64_t tail = rd64(reg_offset::kIqt);
    for (const auto& d : ds) {
      (void)memory.write(qbase + tail, d);
      tail = (tail + 16) % (256 * 16);
    }
    wr64(reg_offset::kIqt, tail);
  }
  std::uint64_t fsts() { return rd32(reg_offset::kFsts); }
  std::uint64_t frcd_lo(unsigned i) { return rd64(config.fro * 16 + 16 * i); }
  std::uint64_t frcd_hi(unsigned i) { return rd64(config.fro * 16 + 16 * i + 8); }

  model::PhysicalMemory memory;
  UnitConfig config;
  FakeSink events;
  FakeSink interrupts;
  RemappingUnit unit;
  std::uint64_t qbase = 0;
};

}  // namespace vtdsim::iommu::test_support
