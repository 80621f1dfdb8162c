// Test helpers for irq_remap: IRTE and posted-descriptor builders written to PhysicalMemory,
// and a fixture with a remapper over a 256-entry table (IRTA.S = 7).
#pragma once

#include <cstdint>

#include <gtest/gtest.h>

#include "irq_remap/interrupt_remapper.h"
#include "irq_remap/irte.h"
#include "irq_remap/msi.h"
#include "model/physical_memory.h"

namespace vtdsim::irq_remap::testing {

struct RemappedIrte {
  bool present = true;
  bool fpd = false;
  bool dm = false;
  bool rh = false;
  bool tm = false;
  unsigned dlm = 0;
  std::uint8_t vector = 0x40;
  std::uint32_t dst = 0;  // raw DST field (xAPIC: put the APIC id in bits 15:8)
  std::uint16_t sid = 0;
  unsigned sq = 0;
  unsigned svt = 0;

  model::Entry128 build() const {
    model::Entry128 e;
    e.set<irte::P>(present ? 1 : 0);
    e.set<irte::FPD>(fpd ? 1 : 0);
    e.set<irte::DM>(dm ? 1 : 0);
    e.set<irte::RH>(rh ? 1 : 0);
    e.set<irte::TM>(tm ? 1 : 0);
    e.set<irte::DLM>(dlm);
    e.set<irte::V>(vector);
    e.set<irte::DST>(dst);
    e.set<irte::SID>(sid);
    e.set<irte::SQ>(sq);
    e.set<irte::SVT>(svt);
    return e;
  }
};

struct PostedIrte {
  bool present = true;
  bool fpd = false;
  bool urg = false;
  std::uint8_t vv = 0x50;
  std::uint64_t pda = 0;  // 64-byte aligned
  std::uint16_t sid = 0;
  unsigned sq = 0;
  unsigned svt = 0;

  model::Entry128 build() const {
    model::Entry128 e;
    e.set<posted_irte::P>(present ? 1 : 0);
    e.set<posted_irte::FPD>(fpd ? 1 : 0);
    e.set<posted_irte::URG>(urg ? 1 : 0);
    e.set<posted_irte::IM>(1);
    e.set<posted_irte::VV>(vv);
    e.set<posted_irte::PDA_L>((pda >> 6) & 0x3FFFFFFu);
    e.set<posted_irte::PDA_H>(pda >> 32);
    e.set<posted_irte::SID>(sid);
    e.set<posted_irte::SQ>(sq);
    e.set<posted_irte::SVT>(svt);
    return e;
  }
};

inline void write_entry(model::PhysicalMemory& mem, std::uint64_t pa, const model::Entry128& e) {
  ASSERT_TRUE(mem.write(pa, model::U128{e.q[0], e.q[1]}));
}

// Posted-interrupt descriptor control word (qword 4).
inline std::uint64_t pid_control(bool on, bool sn, std::uint8_t nv, std::uint32_t ndst) {
  std::uint64_t w = 0;
  w = pid::ON::set(w, on ? 1 : 0);
  w = pid::SN::set(w, sn ? 1 : 0);
  w = pid::NV::set(w, nv);
  w = pid::NDST::set(w, ndst);
  return w;
}

class IrFixture : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kTable = 0x100000;
  static constexpr std::uint64_t kPid = 0x200040;
  static constexpr model::SourceId kSource = model::SourceId::make(3, 4, 1);  // 03:04.1

  IrConfig config() const {
    IrConfig c;
    c.iec = model::CacheGeometry{.sets = 4, .ways = 4};
    c.timing.iec_lookup = 3;
    c.timing.irte_fetch = 50;
    c.timing.memory_write = 70;
    return c;
  }

  IrFixture() : mem_(40), ir_(mem_, config()) {
    state_.table = kTable;
    state_.size_field = 7;  // 256 entries
    state_.eime = true;
    state_.table_set = true;
    state_.enabled = true;
    state_.cfi = false;
  }

  void put(std::uint16_t index, const model::Entry128& e) {
    write_entry(mem_, kTable + 16ull * index, e);
  }
  // A remappable SHV=1 MSI for `index` (handle = index, subhandle 0).
  IrResult fire(std::uint16_t index, model::Cycle at = 1000, model::SourceId src = kSource) {
    const MsiMessage m = encode_remappable_msi(index, true, 0);
    return ir_.remap(src, m.address, m.data, state_, at);
  }
  std::uint64_t q(std::uint64_t pa) { return mem_.read<std::uint64_t>(pa).value(); }

  model::PhysicalMemory mem_;
  InterruptRemapper ir_;
  IrState state_;
};

}  // namespace vtdsim::irq_remap::testing
