// The host's window on one remapping unit: 32/64-bit MMIO at the spec offsets, CAP/ECAP as
// read at probe time, and the GCMD/GSTS handshake (spec §11.4.4; facts §1.4) the way Linux
// does it: software keeps a shadow of the level bits it wants (TE, QIE, IRE, CFI), writes
// shadow | at most one one-shot bit, changes one thing per write, and polls GSTS.
// Shared by the DMA-remapping driver and the interrupt-remapping driver of the same unit.
// Not modelled: real time in polling loops; a poll gives up after poll_limit reads.
#pragma once

#include <cstdint>

#include "iommu/remapping_unit.h"
#include "model/error.h"
#include "model/stats.h"

namespace vtdsim::host {

struct UnitAccessStats {
  std::uint64_t mmio_reads = 0;
  std::uint64_t mmio_writes = 0;
  std::uint64_t gcmd_writes = 0;
  std::uint64_t status_polls = 0;  // register reads spent waiting for a status change

  static constexpr auto kFields = std::to_array<model::StatField<UnitAccessStats>>({
      {"mmio_reads", "ops", "register reads by the host", &UnitAccessStats::mmio_reads},
      {"mmio_writes", "ops", "register writes by the host", &UnitAccessStats::mmio_writes},
      {"gcmd_writes", "ops", "GCMD writes", &UnitAccessStats::gcmd_writes},
      {"status_polls", "ops", "status reads while waiting", &UnitAccessStats::status_polls},
  });
};

class UnitAccess {
 public:
  // Reads CAP and ECAP once (they are read-only). poll_limit >= 1.
  explicit UnitAccess(iommu::RemappingUnit& unit, unsigned poll_limit = 1000);

  std::uint32_t read32(std::uint32_t offset);
  std::uint64_t read64(std::uint32_t offset);
  void write32(std::uint32_t offset, std::uint32_t value);
  void write64(std::uint32_t offset, std::uint64_t value);

  std::uint64_t cap() const { return cap_; }
  std::uint64_t ecap() const { return ecap_; }
  template <class F>
  std::uint64_t cap_field() const {
    return F::get(cap_);
  }
  template <class F>
  std::uint64_t ecap_field() const {
    return F::get(ecap_);
  }

  // Level bits (TE, QIE, IRE, CFI: a gcmd:: field mask): updates the shadow, writes GCMD and
  // waits for the matching GSTS bit to follow. kBusy (naming the bit) if it never does.
  Status set_level(std::uint32_t bit, bool on, const char* name);
  // One-shot bits (SRTP, SIRTP): writes shadow | bit and waits for the status bit to be set.
  Status one_shot(std::uint32_t bit, const char* name);
  // Write-buffer flush when CAP.RWBF = 1 (spec §6.8): writes WBF, waits for WBFS to clear.
  Status flush_write_buffer();
  // Polls a 64-bit register until (value & mask) == expected.
  Status wait64(std::uint32_t offset, std::uint64_t mask, std::uint64_t expected, const char* what);

  std::uint32_t gcmd_shadow() const { return gcmd_; }
  // Offset of the IOTLB invalidation register pair (ECAP.IRO × 16).
  std::uint32_t iva_offset() const { return iva_offset_; }
  const UnitAccessStats& stats() const { return stats_; }
  iommu::RemappingUnit& unit() { return *unit_; }

 private:
  iommu::RemappingUnit* unit_;
  unsigned poll_limit_;
  std::uint64_t cap_ = 0;
  std::uint64_t ecap_ = 0;
  std::uint32_t iva_offset_ = 0;
  std::uint32_t gcmd_ = 0;
  UnitAccessStats stats_;
};

}  // namespace vtdsim::host
