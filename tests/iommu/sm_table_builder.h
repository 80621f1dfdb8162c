// Test helper for scalable mode: writes scalable root/context entries, PASID directories and
// tables and first-stage (IA-32e) page tables with the formats of iommu/scalable_formats.h
// (spec 4.x §9.2, §9.4–9.7), and a rig holding a DmaRemapper with TTM = 01 latched.
// Second-stage tables are written with TableBuilder::map. Throws std::runtime_error on misuse.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>

#include "iommu/dma_remapper.h"
#include "iommu/scalable_formats.h"
#include "tests/iommu/table_builder.h"

namespace vtdsim::iommu::test_support {

struct SmContextSpec {
  bool present = true;
  bool fpd = false;
  bool dte = false;
  bool paside = true;
  bool pre = false;
  unsigned pdts = 0;  // 128 directory entries: PASIDs 0..8191
  std::uint64_t pasid_dir = 0;
  std::uint32_t rid_pasid = 0;
  std::array<std::uint64_t, 4> extra{};  // ORed in raw (reserved bits)
};

struct PasidSpec {
  bool present = true;
  bool fpd = false;
  unsigned pgtt = 1;
  unsigned aw = 2;
  bool ssade = false;
  std::uint64_t ssptptr = 0;
  std::uint16_t did = 1;
  bool pwsnp = false;
  bool sre = false;
  unsigned fspm = 0;
  bool wpe = false;
  bool nxe = false;
  bool eafe = false;
  std::uint64_t fsptptr = 0;
  std::array<std::uint64_t, 8> extra{};  // ORed in raw
};

// First-stage entry bits.
inline constexpr std::uint64_t kFsP = 1;
inline constexpr std::uint64_t kFsRW = 2;
inline constexpr std::uint64_t kFsUS = 4;
inline constexpr std::uint64_t kFsA = 1u << 5;
inline constexpr std::uint64_t kFsD = 1u << 6;
inline constexpr std::uint64_t kFsPS = 1u << 7;
inline constexpr std::uint64_t kFsXD = std::uint64_t{1} << 63;
inline constexpr std::uint64_t kFsUser = kFsP | kFsRW | kFsUS;

class SmTables {
 public:
  explicit SmTables(TableBuilder& tb) : tb_(tb) {}

  // Context table of bus, lower (devfn < 0x80) or upper half, created present on first use.
  std::uint64_t context_table(unsigned bus, bool upper) {
    const std::uint64_t re = tb_.root_table() + bus * 16;
    const std::uint64_t q = upper ? re + 8 : re;
    std::uint64_t v = tb_.read64(q);
    if ((v & 1u) == 0) {
      v = 1u | tb_.alloc_table();
      tb_.write64(q, v);
    }
    return v & ~std::uint64_t{0xFFF};
  }
  std::uint64_t context_entry_address(model::SourceId sid) {
    return context_table(sid.bus(), sid.devfn() >= 0x80) + (sid.devfn() & 0x7Fu) * 32;
  }
  void set_context(model::SourceId sid, const SmContextSpec& c) {
    model::Entry256 e;
    e.set<sm_context_entry::P>(c.present);
    e.set<sm_context_entry::FPD>(c.fpd);
    e.set<sm_context_entry::DTE>(c.dte);
    e.set<sm_context_entry::PASIDE>(c.paside);
    e.set<sm_context_entry::PRE>(c.pre);
    e.set<sm_context_entry::PDTS>(c.pdts);
    e.set<sm_context_entry::PASIDDIRPTR>(c.pasid_dir >> 12);
    e.set<sm_context_entry::RID_PASID>(c.rid_pasid);
    const std::uint64_t pa = context_entry_address(sid);
    for (unsigned i = 0; i < 4; ++i) tb_.write64(pa + 8 * i, e.q[i] | c.extra[i]);
  }
  // The PASID table for pasid under dir (directory entry made present on first use).
  std::uint64_t pasid_table(std::uint64_t dir, std::uint32_t pasid, bool dir_fpd = false) {
    const std::uint64_t de = dir + pasid_dir_index(pasid) * 8;
    std::uint64_t v = tb_.read64(de);
    if ((v & 1u) == 0) v = 1u | tb_.alloc_table();
    v = (v & ~std::uint64_t{2}) | (dir_fpd ? 2u : 0u);
    tb_.write64(de, v);
    return v & ~std::uint64_t{0xFFF};
  }
  std::uint64_t pasid_entry_address(std::uint64_t dir, std::uint32_t pasid) {
    return pasid_table(dir, pasid) + pasid_table_index(pasid) * 64;
  }
  void set_pasid(std::uint64_t dir, std::uint32_t pasid, const PasidSpec& p) {
    model::Entry512 e;
    e.set<pasid_entry::P>(p.present);
    e.set<pasid_entry::FPD>(p.fpd);
    e.set<pasid_entry::AW>(p.aw);
    e.set<pasid_entry::PGTT>(p.pgtt);
    e.set<pasid_entry::SSADE>(p.ssade);
    e.set<pasid_entry::SSPTPTR>(p.ssptptr >> 12);
    e.set<pasid_entry::DID>(p.did);
    e.set<pasid_entry::PWSNP>(p.pwsnp);
    e.set<pasid_entry::SRE>(p.sre);
    e.set<pasid_entry::FSPM>(p.fspm);
    e.set<pasid_entry::WPE>(p.wpe);
    e.set<pasid_entry::NXE>(p.nxe);
    e.set<pasid_entry::EAFE>(p.eafe);
    e.set<pasid_entry::FSPTPTR>(p.fsptptr >> 12);
    const std::uint64_t pa = pasid_entry_address(dir, pasid);
    for (unsigned i = 0; i < 8; ++i) tb_.write64(pa + 8 * i, e.q[i] | p.extra[i]);
  }

  // Maps va → pa in the first-stage table at root (levels 4 or 5), leaf at level 1/2/3 for
  // 4 KiB / 2 MiB / 1 GiB, with leaf flags (kFsP etc.) and non-leaf flags.
  void map_fs(std::uint64_t root, unsigned levels, std::uint64_t va, std::uint64_t pa,
              std::uint64_t size, std::uint64_t leaf, std::uint64_t nonleaf = kFsUser) {
    const unsigned leaf_level = size == (1u << 30) ? 3 : size == (1u << 21) ? 2 : 1;
    std::uint64_t table = root;
    for (unsigned level = levels; level > leaf_level; --level) {
      const std::uint64_t at = table + level_index(va, level) * 8;
      std::uint64_t e = tb_.read64(at);
      if ((e & 1u) == 0) e = tb_.alloc_table();
      e = (e & fs_entry::ADDR::kMask) | nonleaf;
      tb_.write64(at, e);
      table = e & fs_entry::ADDR::kMask;
    }
    tb_.write64(table + level_index(va, leaf_level) * 8,
                (pa & fs_entry::ADDR::kMask) | leaf | (leaf_level > 1 ? kFsPS : 0));
  }
  // Address of the level-`level` first-stage entry for va.
  std::uint64_t fs_entry_address(std::uint64_t root, unsigned levels, std::uint64_t va,
                                 unsigned level) {
    std::uint64_t table = root;
    for (unsigned l = levels; l > level; --l) {
      table = tb_.read64(table + level_index(va, l) * 8) & fs_entry::ADDR::kMask;
    }
    return table + level_index(va, level) * 8;
  }

 private:
  TableBuilder& tb_;
};

// A unit configuration with every scalable-mode feature the model implements.
inline UnitConfig scalable_config() {
  UnitConfig c;
  c.scalable_mode = true;
  c.pasid = true;
  c.ss_translation = true;
  c.fs_translation = true;
  c.nested = true;
  c.device_tlb = true;
  c.supervisor_requests = true;
  c.ss_ad = true;
  c.rid_pasid = true;
  c.fs_1g_pages = true;
  c.fs_5level = true;
  c.sagaw = 0b1110;
  c.mgaw = 57;
  return c;
}

// Memory, tables and a DmaRemapper with TE = 1 and a scalable root table latched.
struct SmRig {
  explicit SmRig(unsigned width = 40) : memory(width), tables(memory), sm(tables) {
    config = scalable_config();
  }
  void build() {
    remapper = std::make_unique<DmaRemapper>(memory, config);
    root = RootState{.root_table = tables.root_table(),
                     .ttm = 1,
                     .root_table_pointer_set = true,
                     .translation_enabled = true};
  }
  RemapResult access(const model::DmaRequest& req) { return remapper->translate(req, root); }
  static model::DmaRequest request(model::SourceId sid, std::uint64_t address, bool write = false) {
    model::DmaRequest req;
    req.source_id = sid;
    req.address = address;
    req.access = write ? model::AccessType::kWrite : model::AccessType::kRead;
    return req;
  }
  static model::DmaRequest with_pasid(model::SourceId sid, std::uint32_t pasid,
                                      std::uint64_t address, bool write = false) {
    model::DmaRequest req = request(sid, address, write);
    req.has_pasid = true;
    req.pasid = pasid;
    return req;
  }
  const DmaRemapStats& stats() const { return remapper->stats(); }

  model::PhysicalMemory memory;
  UnitConfig config;
  TableBuilder tables;
  SmTables sm;
  std::unique_ptr<DmaRemapper> remapper;
  RootState root;
};

}  // namespace vtdsim::iommu::test_support
