// A VT-d DMA-remapping driver for one unit, in the way Linux's intel-iommu driver programs
// legacy mode (spec ch. 3, 6, 9, 11): probe CAP/ECAP, install a root table (RTADDR + SRTP),
// global context/IOTLB invalidation, queued invalidation, translation enable; domains with
// domain ids (CAP.ND; DID 0 reserved when CM = 1); context entries for devices (translated or
// pass-through); map/unmap with superpages; page-selective or domain-selective IOTLB
// invalidation; caching-mode flushes after making entries present; RMRR identity maps.
// Not modelled: scalable mode (PASID tables, first stage), device-TLB (ATS), ECAP.C = 0.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "host/cache_invalidator.h"
#include "host/sl_page_table.h"
#include "host/unit_access.h"
#include "iommu/remapping_unit.h"
#include "model/error.h"
#include "model/frame_allocator.h"
#include "model/physical_memory.h"
#include "model/types.h"

namespace vtdsim::host {

struct DriverConfig {
  unsigned guest_address_width = 57;    // widest domain wanted; capped by MGAW and SAGAW
  bool use_queued_invalidation = true;  // when ECAP.QI
  bool use_superpages = true;           // when CAP.SLLPS
  unsigned poll_limit = 1000;
};

class VtdDriver {
 public:
  VtdDriver(iommu::RemappingUnit& unit, model::PhysicalMemory& memory,
            model::FrameAllocator& frames, const DriverConfig& config = {});

  // Root table, SRTP/RTPS, global context + IOTLB invalidation (skipped with CAP.ESRTPS),
  // then queued invalidation. Translation stays off until enable_translation().
  Status init();
  Status enable_translation();   // GCMD.TE, wait TES
  Status disable_translation();  // clear TE, wait !TES

  // Domains. create_domain returns the domain id.
  Expected<std::uint16_t> create_domain();
  // Frees the domain's page tables and id; kBusy while a device is attached.
  Status destroy_domain(std::uint16_t did);
  // Context entry for `sid` (TT = untranslated, AW, DID, SLPTPTR). kAlreadyExists if the
  // device is attached; detach first.
  Status attach(std::uint16_t did, model::SourceId sid);
  // Context entry with TT = pass-through (needs ECAP.PT), tagged with a domain id of its own.
  Status attach_passthrough(model::SourceId sid);
  // Clears the context entry and invalidates the device's context and the domain's IOTLB.
  Status detach(model::SourceId sid);

  // Maps [iova, +size) → hpa. With CM = 1 the new range is invalidated after it becomes
  // present (page-selective), else only the write buffer is flushed (CAP.RWBF).
  Status map(std::uint16_t did, std::uint64_t iova, std::uint64_t hpa, std::uint64_t size,
             model::Permissions permissions);
  // Clears the range; appends detached page-table pages (free after invalidation).
  Expected<std::uint64_t> unmap(std::uint16_t did, std::uint64_t iova, std::uint64_t size,
                                std::vector<std::uint64_t>& detached);
  // Page-selective IOTLB invalidation covering [iova, +size) (address mask over the
  // power-of-two aligned block around it); domain-selective when the block exceeds CAP.MAMV
  // or CAP.PSI = 0. IH = 1 when no page-table page was freed.
  Status flush_range(std::uint16_t did, std::uint64_t iova, std::uint64_t size, bool tables_freed);
  Status flush_domain(std::uint16_t did);
  // Strict unmap: unmap, flush_range, free the detached pages.
  Status unmap_sync(std::uint16_t did, std::uint64_t iova, std::uint64_t size);
  // Returns page-table pages to the frame allocator.
  Status free_tables(const std::vector<std::uint64_t>& pages);
  // RMRR: identity map [base, +size) read/write.
  Status map_identity(std::uint16_t did, std::uint64_t base, std::uint64_t size);

  // Probe results.
  unsigned domain_ids() const { return domain_ids_; }
  bool caching_mode() const { return caching_mode_; }
  unsigned agaw() const { return agaw_; }  // AW code used for domains
  unsigned mgaw() const { return mgaw_; }
  bool superpage_2m() const { return sp_2m_; }
  bool superpage_1g() const { return sp_1g_; }
  std::uint64_t root_table() const { return root_table_; }
  // Context-entry address of sid (0 when its bus has no context table yet).
  std::uint64_t context_entry_address(model::SourceId sid) const;

  const SlPageTable* page_table(std::uint16_t did) const;
  bool domain_exists(std::uint16_t did) const { return domains_.count(did) != 0; }
  UnitAccess& regs() { return regs_; }
  CacheInvalidator& invalidator() { return invalidator_; }
  model::FrameAllocator& frames() { return *frames_; }
  model::PhysicalMemory& memory() { return *memory_; }
  bool initialised() const { return initialised_; }

 private:
  struct Domain {
    SlPageTable table;
    unsigned devices = 0;
  };
  struct Attachment {
    std::uint16_t did;
    bool passthrough;
  };
  Expected<Domain*> domain(std::uint16_t did);
  Expected<std::uint16_t> allocate_did();
  Expected<std::uint64_t> context_table_for(unsigned bus);
  Status write_context(model::SourceId sid, std::uint64_t tt, std::uint16_t did,
                       std::uint64_t slptptr, unsigned aw);

  model::PhysicalMemory* memory_;
  model::FrameAllocator* frames_;
  DriverConfig config_;
  UnitAccess regs_;
  CacheInvalidator invalidator_;
  bool initialised_ = false;
  unsigned domain_ids_ = 0;
  bool caching_mode_ = false;
  unsigned agaw_ = 0;
  unsigned mgaw_ = 0;
  bool sp_2m_ = false;
  bool sp_1g_ = false;
  bool psi_ = false;
  unsigned mamv_ = 0;
  std::uint64_t root_table_ = 0;
  std::vector<std::uint64_t> context_tables_;  // by bus, 0 = none
  std::vector<bool> did_used_;
  std::map<std::uint16_t, Domain> domains_;
  std::map<std::uint16_t, Attachment> attached_;  // by source-id
  std::uint16_t passthrough_did_ = 0;             // 0 = none allocated yet
};

}  // namespace vtdsim::host
