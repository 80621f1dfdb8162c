// What one remapping hardware unit advertises (CAP/ECAP, spec §11.4.2–11.4.3) and how its
// caches and timing are built. The model honours exactly what it advertises.
#pragma once

#include <array>
#include <cstdint>

#include "model/error.h"
#include "model/set_assoc_cache.h"
#include "model/timing.h"

namespace vtdsim::iommu {

struct UnitConfig {
  // --- VER (offset 0x00): major in 7:4, minor in 3:0 ---
  std::uint8_t version = 0x10;

  // --- CAP (offset 0x08) ---
  unsigned nd = 6;              // 2^(4+2·ND) domain ids
  bool rwbf = false;            // write-buffer flushing required
  bool caching_mode = false;    // CM: not-present/invalid entries may be cached
  std::uint8_t sagaw = 0b0110;  // bit1 39-bit/3-level, bit2 48-bit/4-level, bit3 57-bit/5-level
  unsigned mgaw = 48;           // maximum guest address width (bits)
  bool zlr = false;
  unsigned fro = 0x22;      // fault recording registers at FRO×16
  bool sl_2m_pages = true;  // SLLPS bit 0
  bool sl_1g_pages = true;  // SLLPS bit 1
  bool psi = true;          // page-selective invalidation
  unsigned nfr = 8;         // number of fault recording registers (CAP.NFR = nfr - 1)
  unsigned mamv = 18;       // max address mask value
  bool dwd = true;
  bool drd = true;
  bool fs_1g_pages = false;       // FL1GP
  bool posted_interrupts = true;  // PI
  bool fs_5level = false;         // FL5LP
  bool esrtps = false;
  bool esirtps = false;

  // --- ECAP (offset 0x10) ---
  bool coherent = true;  // C: page walks snoop
  bool queued_invalidation = true;
  bool device_tlb = false;  // DT
  bool interrupt_remapping = true;
  bool eim = true;             // x2APIC destinations
  bool pass_through = true;    // PT
  bool snoop_control = false;  // SC
  unsigned iro = 0x20;         // IVA at IRO×16, IOTLB register at IRO×16 + 8
  unsigned mhmv = 15;
  bool nested = false;
  bool supervisor_requests = false;  // SRS
  bool pasid = false;
  unsigned pss = 19;                  // 2^(PSS+1) PASIDs
  bool scalable_mode = false;         // SMTS
  bool ss_translation = false;        // SLTS (scalable-mode second stage)
  bool fs_translation = false;        // FLTS
  bool ss_ad = false;                 // SLADS
  bool rid_pasid = false;             // RPS
  bool execute_requests = false;      // ERS: requests with ER=1 honoured (else fault 0x5C)
  bool eafs = false;                  // EAFS: PASID-entry EAFE allowed
  bool sm_page_walk_coherent = true;  // SMPWCS: scalable-mode walks snoop (advertised with SMTS)

  // Host address width: pointer bits at or above it are reserved in tables.
  unsigned host_address_width = 46;

  // --- caches ---
  model::CacheGeometry context_cache{.sets = 1, .ways = 16};
  model::CacheGeometry iotlb{.sets = 16, .ways = 8};
  // Paging-structure caches indexed by level - 2 (caching entries of levels 2..5, i.e. the
  // pointers to the next lower table). A level with .ways = 0 is not built (no caching).
  std::array<model::CacheGeometry, 4> pwc{{{.sets = 1, .ways = 16},
                                           {.sets = 1, .ways = 8},
                                           {.sets = 1, .ways = 4},
                                           {.sets = 1, .ways = 2}}};
  model::CacheGeometry pasid_cache{.sets = 1, .ways = 16};
  model::CacheGeometry iec{.sets = 1, .ways = 32};

  model::TimingParams timing{};

  // Register values these settings advertise (defined in unit_config.cc).
  std::uint64_t cap() const;
  std::uint64_t ecap() const;
  // Bytes of MMIO the unit decodes: the fixed block, IVA/IOTLB at IRO×16 and the NFR fault
  // recording registers at FRO×16, rounded up to 4 KiB (as Linux maps it).
  std::uint64_t mmio_window_size() const;
  // Consistency: field ranges (ND ≤ 6, NFR 1..256, FRO/IRO placing registers without overlap,
  // MGAW 30..57, SAGAW non-empty, cache geometries valid, ...). Names the offending field.
  Status validate() const;
};

}  // namespace vtdsim::iommu
