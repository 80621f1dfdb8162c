// Test helpers for the platform: small machine configs and a programmer that drives one
// remapping unit only through Machine::mmio_write / mmio_read (as a host driver does), with the
// unit's tables built in the machine's memory by tests/iommu/table_builder.h.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "iommu/registers.h"
#include "irq_remap/irte.h"
#include "model/field.h"
#include "platform/machine.h"
#include "tests/iommu/table_builder.h"

namespace vtdsim::platform::test_support {

using iommu::test_support::ContextSpec;
using iommu::test_support::TableBuilder;

// GCMD/GSTS bits (spec §11.4.4).
inline constexpr std::uint32_t kTE = 1u << 31;
inline constexpr std::uint32_t kSRTP = 1u << 30;
inline constexpr std::uint32_t kQIE = 1u << 26;
inline constexpr std::uint32_t kIRE = 1u << 25;
inline constexpr std::uint32_t kSIRTP = 1u << 24;
inline constexpr std::uint32_t kCFI = 1u << 23;

// A unit with INCLUDE_PCI_ALL (the single catch-all DRHD of most client platforms).
inline RemappingUnitConfig catch_all_unit(iommu::UnitConfig u = {}) {
  RemappingUnitConfig r;
  r.name = "drhd-all";
  r.unit = u;
  r.include_pci_all = true;
  return r;
}

// Root ports with ACS at 00:01.0, 00:02.0, ... each with one device at 0.0 below.
inline PciNode port_with(const std::string& port, unsigned dev, PciNode child) {
  return PciNode::bridge(port, NodeKind::kRootPort, dev, 0, pci::kIsolationAcsFlags,
                         {std::move(child)});
}

// Drives unit `index` of a machine through its register window.
class UnitProgrammer {
 public:
  UnitProgrammer(Machine& m, std::size_t index)
      : m_(m), base_(m.unit_register_base(index)), fro_(m.unit(index).config().fro) {}

  std::uint64_t rd32(std::uint32_t off) { return m_.mmio_read(base_ + off, 4); }
  std::uint64_t rd64(std::uint32_t off) { return m_.mmio_read(base_ + off, 8); }
  void wr32(std::uint32_t off, std::uint64_t v) { m_.mmio_write(base_ + off, 4, v); }
  void wr64(std::uint32_t off, std::uint64_t v) { m_.mmio_write(base_ + off, 8, v); }

  std::uint32_t gsts() { return static_cast<std::uint32_t>(rd32(iommu::reg_offset::kGsts)); }
  // GCMD as Linux writes it: the current level bits plus the new command.
  void gcmd(std::uint32_t bit) {
    wr32(iommu::reg_offset::kGcmd, (gsts() & (kTE | kQIE | kIRE | kCFI)) | bit);
  }
  void set_root(std::uint64_t root) {
    wr64(iommu::reg_offset::kRtaddr, root);
    gcmd(kSRTP);
  }
  void enable_translation() { gcmd(kTE); }
  void enable_qi(std::uint64_t queue) {
    wr64(iommu::reg_offset::kIqt, 0);
    wr64(iommu::reg_offset::kIqa, queue);  // QS = 0: 256 descriptors
    gcmd(kQIE);
  }
  // Writes descriptors at IQT in the queue IQA names and advances IQT once.
  void submit(const std::vector<model::U128>& descriptors) {
    const std::uint64_t queue = rd64(iommu::reg_offset::kIqa) & ~std::uint64_t{0xFFF};
    std::uint64_t tail = rd64(iommu::reg_offset::kIqt);
    for (const auto& d : descriptors) {
      ASSERT_TRUE(m_.memory().write(queue + tail, d));
      tail = (tail + 16) % (256 * 16);
    }
    wr64(iommu::reg_offset::kIqt, tail);
  }
  // IRTA with 2^(s+1) entries in x2APIC mode, then SIRTP and IRE.
  void enable_ir(std::uint64_t table, unsigned s = 7) {
    wr64(iommu::reg_offset::kIrta, table | (1u << 11) | s);
    gcmd(kSIRTP);
    gcmd(kIRE);
  }
  // Fault events as MSIs to APIC `dest` with `vector`, unmasked.
  void enable_fault_events(std::uint32_t dest, std::uint8_t vector) {
    wr32(iommu::reg_offset::kFedata, vector);
    wr32(iommu::reg_offset::kFeaddr, 0xFEE00000u | (dest << 12));
    wr32(iommu::reg_offset::kFectl, 0);
  }
  std::uint64_t fsts() { return rd32(iommu::reg_offset::kFsts); }
  std::uint64_t frcd_lo(unsigned i) { return rd64(fro_ * 16 + 16 * i); }
  std::uint64_t frcd_hi(unsigned i) { return rd64(fro_ * 16 + 16 * i + 8); }

 private:
  Machine& m_;
  std::uint64_t base_;
  unsigned fro_;
};

// Fault record high qword (facts §5.3): F, T (1 = read), FR, SID.
inline std::uint64_t frcd_hi(std::uint8_t reason, model::SourceId sid, bool read) {
  return (1ull << 63) | (read ? 1ull << 62 : 0) | (std::uint64_t{reason} << 32) | sid.raw;
}

// A remapped-format IRTE (§9.9) for an x2APIC destination, no source validation.
inline model::U128 remapped_irte(std::uint8_t vector, std::uint32_t dest) {
  model::Entry128 e;
  e.set<irq_remap::irte::P>(1);
  e.set<irq_remap::irte::V>(vector);
  e.set<irq_remap::irte::DST>(dest);
  return {e.q[0], e.q[1]};
}

// A posted-format IRTE (§9.10) posting `vector` to the descriptor at pda.
inline model::U128 posted_irte(std::uint8_t vector, std::uint64_t pda) {
  model::Entry128 e;
  e.set<irq_remap::posted_irte::P>(1);
  e.set<irq_remap::posted_irte::IM>(1);
  e.set<irq_remap::posted_irte::VV>(vector);
  e.set<irq_remap::posted_irte::PDA_L>((pda & 0xFFFFFFFFu) >> 6);
  e.set<irq_remap::posted_irte::PDA_H>(pda >> 32);
  return {e.q[0], e.q[1]};
}

}  // namespace vtdsim::platform::test_support
