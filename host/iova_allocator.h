// IOVA range allocator in the design of Linux's iova domain: a range tree searched top-down
// below a DMA limit with size-aligned ranges, fronted by per-CPU magazine caches ("rcache") of
// recently freed ranges per power-of-two size class and a bounded depot of full magazines, so
// that a freed range is reused without touching the tree (Bonwick & Adams' magazines).
// Linux facts used: 6 size classes (orders 0..5, i.e. up to 32 pages), sizes below 32 pages
// rounded up to a power of two, 127 pfns per magazine, a depot of 32 magazines per class (the
// fixed-depot design; newer kernels trim an unbounded depot with delayed work instead).
// Not modelled: locking (one simulated machine is one thread; the caller names the CPU), CPU
// hot-unplug, the 32-bit "max32_alloc_size" fast-fail hint.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/error.h"
#include "model/stats.h"
#include "model/types.h"

namespace vtdsim::host {

struct IovaConfig {
  unsigned cpus = 1;
  std::uint64_t start_pfn = 1;  // lowest page frame handed out (Linux never hands out pfn 0)
  unsigned address_width = 48;  // domain input width: pfns at or above 2^(width-12) never used
  unsigned cached_orders = 6;   // size classes 0..cached_orders-1 (Linux IOVA_RANGE_CACHE_MAX_SIZE)
  unsigned magazine_size = 127;  // pfns per magazine (Linux IOVA_MAG_SIZE)
  unsigned depot_size = 32;      // full magazines kept per size class (Linux MAX_GLOBAL_MAGS)
  // Names the first field out of range.
  Status validate() const;
};

// Per-CPU counters.
struct IovaCpuStats {
  std::uint64_t allocs = 0;
  std::uint64_t cache_hits = 0;  // allocations served from the CPU's magazines or the depot
  std::uint64_t frees = 0;
  std::uint64_t cache_inserts = 0;    // frees kept in the rcache (not returned to the tree)
  std::uint64_t depot_gets = 0;       // full magazines taken from the depot
  std::uint64_t depot_puts = 0;       // full magazines handed to the depot
  std::uint64_t magazine_spills = 0;  // full magazines returned to the tree (depot full)

  static constexpr auto kFields = std::to_array<model::StatField<IovaCpuStats>>({
      {"allocs", "ops", "IOVA range allocations", &IovaCpuStats::allocs},
      {"cache_hits", "ops", "allocations served by the per-CPU rcache or depot",
       &IovaCpuStats::cache_hits},
      {"frees", "ops", "IOVA range frees", &IovaCpuStats::frees},
      {"cache_inserts", "ops", "frees kept in the rcache", &IovaCpuStats::cache_inserts},
      {"depot_gets", "magazines", "full magazines loaded from the depot",
       &IovaCpuStats::depot_gets},
      {"depot_puts", "magazines", "full magazines pushed to the depot", &IovaCpuStats::depot_puts},
      {"magazine_spills", "magazines", "full magazines returned to the tree (depot full)",
       &IovaCpuStats::magazine_spills},
  });
};

// Tree-side counters.
struct IovaTreeStats {
  std::uint64_t tree_searches = 0;    // top-down searches for a free gap
  std::uint64_t extents_visited = 0;  // free extents examined by those searches
  std::uint64_t tree_allocs = 0;      // ranges carved out of the tree
  std::uint64_t tree_frees = 0;       // ranges returned to the tree
  std::uint64_t alloc_failures = 0;   // allocations that found no space (after any retry)
  std::uint64_t rcache_flushes = 0;   // all caches emptied to retry a failed allocation
  std::uint64_t reserved_pages = 0;   // pages taken out by reserve()

  static constexpr auto kFields = std::to_array<model::StatField<IovaTreeStats>>({
      {"tree_searches", "ops", "top-down searches of the range tree",
       &IovaTreeStats::tree_searches},
      {"extents_visited", "extents", "free extents examined by tree searches",
       &IovaTreeStats::extents_visited},
      {"tree_allocs", "ops", "ranges allocated from the tree", &IovaTreeStats::tree_allocs},
      {"tree_frees", "ops", "ranges returned to the tree", &IovaTreeStats::tree_frees},
      {"alloc_failures", "ops", "allocations that failed", &IovaTreeStats::alloc_failures},
      {"rcache_flushes", "ops", "rcache flushes to retry a failed allocation",
       &IovaTreeStats::rcache_flushes},
      {"reserved_pages", "pages", "pages reserved (never allocated)",
       &IovaTreeStats::reserved_pages},
  });
};

class IovaAllocator {
 public:
  // Throws std::invalid_argument when config.validate() fails (API misuse at construction).
  explicit IovaAllocator(const IovaConfig& config);

  // Highest pfn usable under a DMA mask of `bits` bits (e.g. 32 → 0xFFFFF).
  static constexpr std::uint64_t limit_pfn_for_bits(unsigned bits) {
    return bits >= 64 ? (~std::uint64_t{0} >> model::kPageShift)
                      : ((std::uint64_t{1} << bits) - 1) >> model::kPageShift;
  }
  // Pages actually taken for a request of `pages` (power-of-two rounding below the largest
  // cached class, as Linux's alloc_iova_fast does).
  std::uint64_t rounded_pages(std::uint64_t pages) const;

  // Allocates `pages` pages ending at or below limit_pfn (inclusive), aligned to the next
  // power of two of the size, for CPU `cpu`: rcache first, then the tree top-down. When the
  // tree has no room and flush_rcache is set, every cache is returned to the tree and the
  // search is retried once. Returns the first pfn. kExhausted when nothing fits.
  Expected<std::uint64_t> alloc(unsigned cpu, std::uint64_t pages, std::uint64_t limit_pfn,
                                bool flush_rcache = true);
  // Frees a range returned by alloc with the same `pages`: kept in CPU `cpu`'s rcache when its
  // size class is cached, else returned to the tree. kInvalidArgument for a pfn that is not
  // the start of a live allocation or a size that does not match (no silent corruption).
  Status free(unsigned cpu, std::uint64_t pfn, std::uint64_t pages);
  // Takes [pfn_lo, pfn_hi] out of use (e.g. the interrupt window, RMRRs). Free parts are
  // carved out; already-allocated parts stay with their owners. Idempotent.
  Status reserve(std::uint64_t pfn_lo, std::uint64_t pfn_hi);

  // Returns every cached range of one CPU (or of all CPUs and the depots) to the tree.
  void flush_cpu_cache(unsigned cpu);
  void flush_all_caches();

  // Inspection.
  bool is_allocated(std::uint64_t pfn) const;  // start of a live (not cached) allocation
  bool is_cached(std::uint64_t pfn) const;     // start of a range held in an rcache
  std::uint64_t live_ranges() const { return live_; }
  std::uint64_t cached_ranges() const { return cached_; }
  // Free extents of the tree, [lo, hi] inclusive, ascending.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> free_extents() const;
  std::uint64_t end_pfn() const { return end_pfn_; }
  const IovaConfig& config() const { return config_; }

  const IovaCpuStats& cpu_stats(unsigned cpu) const { return cpus_.at(cpu).stats; }
  const IovaTreeStats& tree_stats() const { return tree_stats_; }
  // Per-CPU counters summed.
  IovaCpuStats total_cpu_stats() const;

 private:
  using Magazine = std::vector<std::uint64_t>;  // pfns, capacity magazine_size
  struct SizeClass {
    Magazine loaded;
    Magazine prev;
  };
  struct Cpu {
    std::vector<SizeClass> classes;
    IovaCpuStats stats;
  };
  struct Range {
    std::uint64_t pages;  // pages taken (after rounding)
    bool cached;          // held in an rcache, not owned by a caller
  };

  unsigned order_of(std::uint64_t pages) const;  // ceil(log2(pages))
  std::uint64_t rcache_get(Cpu& cpu, unsigned order, std::uint64_t max_pfn);
  void rcache_insert(Cpu& cpu, unsigned order, std::uint64_t pfn);
  void magazine_to_tree(Magazine& mag);
  bool tree_alloc(std::uint64_t pages, std::uint64_t limit_excl, std::uint64_t& out);
  void tree_free(std::uint64_t pfn, std::uint64_t pages);

  IovaConfig config_;
  std::uint64_t end_pfn_;  // one past the highest usable pfn
  std::vector<Cpu> cpus_;
  std::vector<std::vector<Magazine>> depot_;         // per size class
  std::map<std::uint64_t, std::uint64_t> free_;      // free extents: lo → hi (inclusive)
  std::unordered_map<std::uint64_t, Range> ranges_;  // by first pfn
  std::uint64_t live_ = 0;
  std::uint64_t cached_ = 0;
  IovaTreeStats tree_stats_;
};

}  // namespace vtdsim::host
