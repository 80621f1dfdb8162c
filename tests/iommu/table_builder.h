// Test helper: writes legacy root/context entries and second-stage page tables into
// PhysicalMemory with the formats of iommu/legacy_formats.h (spec 4.x §9.1, §9.3, §9.8), and a
// small rig (memory + config + DmaRemapper + RootState) for translation tests.
// Throws std::runtime_error on misuse (a test helper, never used on guest-controlled paths).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "iommu/dma_remapper.h"
#include "iommu/legacy_formats.h"
#include "model/physical_memory.h"
#include "model/types.h"

namespace vtdsim::iommu::test_support {

// Legacy context entry contents (§9.3). extra_lo / extra_hi are ORed in raw (reserved bits).
struct ContextSpec {
  bool present = true;
  bool fpd = false;
  unsigned tt = 0;
  unsigned aw = 2;  // 1: 3 levels, 2: 4 levels, 3: 5 levels
  std::uint16_t did = 1;
  std::uint64_t slptptr = 0;
  std::uint64_t extra_lo = 0;
  std::uint64_t extra_hi = 0;
};

inline constexpr std::uint8_t kR = 1;
inline constexpr std::uint8_t kW = 2;
inline constexpr std::uint8_t kRW = 3;

class TableBuilder {
 public:
  // Tables are allocated upwards from first_free (4 KiB aligned).
  explicit TableBuilder(model::PhysicalMemory& memory, std::uint64_t first_free = 0x10'0000)
      : memory_(memory), next_(first_free) {}

  model::PhysicalMemory& memory() { return memory_; }

  // A zeroed 4 KiB table.
  std::uint64_t alloc_table() {
    const std::uint64_t pa = next_;
    next_ += model::kPageSize;
    check(memory_.fill(pa, model::kPageSize, std::byte{0}).has_value(), "alloc_table");
    return pa;
  }

  std::uint64_t root_table() {
    if (root_ == 0) root_ = alloc_table();
    return root_;
  }

  // Root entry of bus: present, pointing at a context table (allocated on first use).
  std::uint64_t context_table(unsigned bus) {
    const std::uint64_t re = root_table() + bus * root_entry::kSize;
    std::uint64_t lo = read64(re);
    if (root_entry::P::get(lo) == 0) {
      lo = root_entry::CTP::set(root_entry::P::set(0, 1), alloc_table() >> 12);
      write64(re, lo);
      write64(re + 8, 0);
    }
    return root_entry::CTP::raw(lo);
  }
  void set_root_raw(unsigned bus, std::uint64_t lo, std::uint64_t hi) {
    const std::uint64_t re = root_table() + bus * root_entry::kSize;
    write64(re, lo);
    write64(re + 8, hi);
  }
  std::uint64_t root_entry_address(unsigned bus) { return root_table() + bus * root_entry::kSize; }

  std::uint64_t context_entry_address(model::SourceId sid) {
    return context_table(sid.bus()) + sid.devfn() * context_entry::kSize;
  }
  void set_context(model::SourceId sid, const ContextSpec& c) {
    model::Entry128 e;
    e.set<context_entry::P>(c.present ? 1 : 0);
    e.set<context_entry::FPD>(c.fpd ? 1 : 0);
    e.set<context_entry::TT>(c.tt);
    e.set<context_entry::SLPTPTR>(c.slptptr >> 12);
    e.set<context_entry::AW>(c.aw);
    e.set<context_entry::DID>(c.did);
    const std::uint64_t pa = context_entry_address(sid);
    write64(pa, e.q[0] | c.extra_lo);
    write64(pa + 8, e.q[1] | c.extra_hi);
  }

  // Maps [iova, iova + page_size) → hpa in the page table rooted at pt_root with `levels`
  // levels. page_size is 4 KiB, 2 MiB or 1 GiB (a leaf at level 1, 2 or 3). Missing tables
  // are allocated with non-leaf entries granting nonleaf_perms; existing ones are reused.
  void map(std::uint64_t pt_root, unsigned levels, std::uint64_t iova, std::uint64_t hpa,
           std::uint64_t page_size, std::uint8_t perms, std::uint8_t nonleaf_perms = kRW) {
    const unsigned leaf = page_size == level_page_size(3)   ? 3
                          : page_size == level_page_size(2) ? 2
                                                            : 1;
    check(page_size == level_page_size(leaf) && leaf <= levels, "map: bad page size");
    std::uint64_t table = pt_root;
    for (unsigned level = levels; level > leaf; --level) {
      const std::uint64_t pa = table + level_index(iova, level) * sl_entry::kSize;
      std::uint64_t e = read64(pa);
      if ((e & 3u) == 0) {
        e = sl_entry::ADDR::set(nonleaf_perms, alloc_table() >> 12);
        write64(pa, e);
      }
      table = sl_entry::ADDR::raw(e);
    }
    std::uint64_t e = sl_entry::ADDR::set(perms, hpa >> 12);
    if (leaf > 1) e = sl_entry::PS::set(e, 1);
    write64(table + level_index(iova, leaf) * sl_entry::kSize, e);
  }

  // Address of the level-`level` entry for iova (following present entries); throws when an
  // upper table is missing.
  std::uint64_t entry_address(std::uint64_t pt_root, unsigned levels, std::uint64_t iova,
                              unsigned level) {
    std::uint64_t table = pt_root;
    for (unsigned l = levels; l > level; --l) {
      const std::uint64_t e = read64(table + level_index(iova, l) * sl_entry::kSize);
      check((e & 3u) != 0, "entry_address: missing table");
      table = sl_entry::ADDR::raw(e);
    }
    return table + level_index(iova, level) * sl_entry::kSize;
  }

  std::uint64_t read64(std::uint64_t pa) {
    auto v = memory_.read<std::uint64_t>(pa);
    check(v.has_value(), "read64");
    return *v;
  }
  void write64(std::uint64_t pa, std::uint64_t v) {
    check(memory_.write<std::uint64_t>(pa, v).has_value(), "write64");
  }

 private:
  static void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("TableBuilder: ") + what);
  }

  model::PhysicalMemory& memory_;
  std::uint64_t next_;
  std::uint64_t root_ = 0;
};

// Memory, config, tables and a DmaRemapper with TE=1 and the root table latched.
struct TranslationRig {
  explicit TranslationRig(unsigned memory_width = 40) : memory(memory_width), tables(memory) {}

  // Builds the remapper from `config` (call after adjusting it).
  void build() {
    remapper = std::make_unique<DmaRemapper>(memory, config);
    root = RootState{.root_table = tables.root_table(),
                     .ttm = 0,
                     .root_table_pointer_set = true,
                     .translation_enabled = true};
  }

  RemapResult access(model::SourceId sid, std::uint64_t iova, model::AccessType type,
                     model::Cycle arrival = 0,
                     model::AddressType at = model::AddressType::kUntranslated) {
    model::DmaRequest req;
    req.source_id = sid;
    req.address = iova;
    req.access = type;
    req.address_type = at;
    req.arrival = arrival;
    return remapper->translate(req, root);
  }
  RemapResult read(model::SourceId sid, std::uint64_t iova, model::Cycle arrival = 0) {
    return access(sid, iova, model::AccessType::kRead, arrival);
  }
  RemapResult write(model::SourceId sid, std::uint64_t iova, model::Cycle arrival = 0) {
    return access(sid, iova, model::AccessType::kWrite, arrival);
  }
  const DmaRemapStats& stats() const { return remapper->stats(); }

  model::PhysicalMemory memory;
  UnitConfig config;
  TableBuilder tables;
  std::unique_ptr<DmaRemapper> remapper;
  RootState root;
};

}  // namespace vtdsim::iommu::test_support
