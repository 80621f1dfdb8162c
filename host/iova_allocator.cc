#include "host/iova_allocator.h"

#include <algorithm>
#include <bit>
#include <stdexcept>

#include <fmt/format.h>

namespace vtdsim::host {

Status IovaConfig::validate() const {
  if (cpus == 0 || cpus > 4096) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("IovaConfig.cpus = {}: need 1..4096", cpus));
  }
  if (address_width < 13 || address_width > 64) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("IovaConfig.address_width = {}: need 13..64", address_width));
  }
  const std::uint64_t end = IovaAllocator::limit_pfn_for_bits(address_width) + 1;
  if (start_pfn == 0 || start_pfn >= end) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("IovaConfig.start_pfn = {:#x}: must be at least 1 (pfn 0 "
                                  "is never handed out) and below the {}-bit address space "
                                  "(end pfn {:#x})",
                                  start_pfn, address_width, end));
  }
  if (cached_orders > 16) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("IovaConfig.cached_orders = {}: need 0..16", cached_orders));
  }
  if (cached_orders > 0 && magazine_size == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "IovaConfig.magazine_size = 0: need at least 1 with cached_orders > 0");
  }
  return {};
}

IovaAllocator::IovaAllocator(const IovaConfig& config) : config_(config) {
  if (auto ok = config.validate(); !ok) throw std::invalid_argument(ok.error().message);
  end_pfn_ = limit_pfn_for_bits(config.address_width) + 1;
  cpus_.resize(config.cpus);
  for (Cpu& cpu : cpus_) {
    cpu.classes.resize(config.cached_orders);
    for (SizeClass& sc : cpu.classes) {
      sc.loaded.reserve(config.magazine_size);
      sc.prev.reserve(config.magazine_size);
    }
  }
  depot_.resize(config.cached_orders);
  free_.emplace(config.start_pfn, end_pfn_ - 1);
}

unsigned IovaAllocator::order_of(std::uint64_t pages) const {
  return pages <= 1 ? 0u : static_cast<unsigned>(std::bit_width(pages - 1));
}

std::uint64_t IovaAllocator::rounded_pages(std::uint64_t pages) const {
  // Below the largest cached class, round up to a power of two so a range freed into a
  // class's magazines has exactly the class size (Linux alloc_iova_fast).
  if (config_.cached_orders > 0 && pages < (std::uint64_t{1} << (config_.cached_orders - 1))) {
    return std::bit_ceil(pages);
  }
  return pages;
}

Expected<std::uint64_t> IovaAllocator::alloc(unsigned cpu_index, std::uint64_t pages,
                                             std::uint64_t limit_pfn, bool flush_rcache) {
  if (cpu_index >= cpus_.size()) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("IovaAllocator::alloc: cpu {} (have {})", cpu_index, cpus_.size()));
  }
  if (pages == 0 || pages > end_pfn_) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("IovaAllocator::alloc: {} pages (need 1..{:#x})", pages, end_pfn_));
  }
  Cpu& cpu = cpus_[cpu_index];
  ++cpu.stats.allocs;
  const std::uint64_t size = rounded_pages(pages);
  const std::uint64_t limit_excl = std::min(limit_pfn, end_pfn_ - 1) + 1;
  const unsigned order = order_of(size);
  if (order < config_.cached_orders && limit_excl >= size) {
    const std::uint64_t pfn = rcache_get(cpu, order, limit_excl - size);
    if (pfn != 0) {
      Range& r = ranges_.at(pfn);
      r.cached = false;
      --cached_;
      ++live_;
      ++cpu.stats.cache_hits;
      return pfn;
    }
  }
  std::uint64_t pfn = 0;
  bool found = tree_alloc(size, limit_excl, pfn);
  if (!found && flush_rcache && cached_ > 0) {
    ++tree_stats_.rcache_flushes;
    flush_all_caches();
    found = tree_alloc(size, limit_excl, pfn);
  }
  if (!found) {
    ++tree_stats_.alloc_failures;
    return make_error(ErrorCode::kExhausted,
                      fmt::format("IovaAllocator: no {}-page range (aligned to {} pages) at or "
                                  "below pfn {:#x}",
                                  size, std::bit_ceil(size), limit_pfn));
  }
  ranges_.emplace(pfn, Range{size, false});
  ++live_;
  return pfn;
}

Status IovaAllocator::free(unsigned cpu_index, std::uint64_t pfn, std::uint64_t pages) {
  if (cpu_index >= cpus_.size()) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("IovaAllocator::free: cpu {} (have {})", cpu_index, cpus_.size()));
  }
  auto it = ranges_.find(pfn);
  if (it == ranges_.end() || it->second.cached) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("IovaAllocator::free: pfn {:#x} is not the start of an "
                                  "allocated range{}",
                                  pfn, it == ranges_.end() ? "" : " (already freed)"));
  }
  const std::uint64_t size = rounded_pages(pages);
  if (pages == 0 || size != it->second.pages) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("IovaAllocator::free: pfn {:#x} was allocated with {} pages, "
                                  "freed with {}",
                                  pfn, it->second.pages, pages));
  }
  Cpu& cpu = cpus_[cpu_index];
  ++cpu.stats.frees;
  --live_;
  const unsigned order = order_of(size);
  if (order < config_.cached_orders) {
    it->second.cached = true;
    ++cached_;
    ++cpu.stats.cache_inserts;
    rcache_insert(cpu, order, pfn);
    return {};
  }
  ranges_.erase(it);
  tree_free(pfn, size);
  return {};
}

std::uint64_t IovaAllocator::rcache_get(Cpu& cpu, unsigned order, std::uint64_t max_pfn) {
  SizeClass& sc = cpu.classes[order];
  if (sc.loaded.empty()) {
    if (!sc.prev.empty()) {
      std::swap(sc.loaded, sc.prev);
    } else if (!depot_[order].empty()) {
      // The empty loaded magazine is dropped and a full one from the depot takes its place.
      sc.loaded = std::move(depot_[order].back());
      depot_[order].pop_back();
      ++cpu.stats.depot_gets;
    } else {
      return 0;
    }
  }
  // Newest first; the first pfn that fits the limit is taken (swapped out with the last).
  for (std::size_t i = sc.loaded.size(); i-- > 0;) {
    if (sc.loaded[i] <= max_pfn) {
      const std::uint64_t pfn = sc.loaded[i];
      sc.loaded[i] = sc.loaded.back();
      sc.loaded.pop_back();
      return pfn;
    }
  }
  return 0;
}

void IovaAllocator::rcache_insert(Cpu& cpu, unsigned order, std::uint64_t pfn) {
  SizeClass& sc = cpu.classes[order];
  const std::size_t cap = config_.magazine_size;
  if (sc.loaded.size() >= cap) {
    if (sc.prev.size() < cap) {
      std::swap(sc.loaded, sc.prev);
    } else {
      if (depot_[order].size() < config_.depot_size) {
        depot_[order].push_back(std::move(sc.loaded));
        ++cpu.stats.depot_puts;
      } else {
        magazine_to_tree(sc.loaded);
        ++cpu.stats.magazine_spills;
      }
      sc.loaded = Magazine();
      sc.loaded.reserve(cap);
    }
  }
  sc.loaded.push_back(pfn);
}

void IovaAllocator::magazine_to_tree(Magazine& mag) {
  for (std::uint64_t pfn : mag) {
    auto it = ranges_.find(pfn);
    if (it == ranges_.end()) continue;  // cannot happen: cached ranges stay indexed
    const std::uint64_t pages = it->second.pages;
    ranges_.erase(it);
    --cached_;
    tree_free(pfn, pages);
  }
  mag.clear();
}

void IovaAllocator::flush_cpu_cache(unsigned cpu_index) {
  if (cpu_index >= cpus_.size()) return;
  for (SizeClass& sc : cpus_[cpu_index].classes) {
    magazine_to_tree(sc.loaded);
    magazine_to_tree(sc.prev);
  }
}

void IovaAllocator::flush_all_caches() {
  for (unsigned c = 0; c < cpus_.size(); ++c) flush_cpu_cache(c);
  for (auto& mags : depot_) {
    for (Magazine& mag : mags) magazine_to_tree(mag);
    mags.clear();
  }
}

bool IovaAllocator::tree_alloc(std::uint64_t pages, std::uint64_t limit_excl, std::uint64_t& out) {
  ++tree_stats_.tree_searches;
  const std::uint64_t align_mask = ~(std::bit_ceil(pages) - 1);
  // Extents are disjoint and ascending: walking down from the highest extent that starts
  // below the limit, the first one that holds an aligned range gives the highest address.
  auto it = free_.lower_bound(limit_excl);
  while (it != free_.begin()) {
    --it;
    ++tree_stats_.extents_visited;
    const std::uint64_t lo = it->first;
    const std::uint64_t top = std::min(it->second, limit_excl - 1);
    if (top + 1 < pages) continue;
    const std::uint64_t cand = (top + 1 - pages) & align_mask;
    if (cand < lo || cand < config_.start_pfn) continue;
    const std::uint64_t hi = it->second;
    free_.erase(it);
    if (cand > lo) free_.emplace(lo, cand - 1);
    if (cand + pages - 1 < hi) free_.emplace(cand + pages, hi);
    ++tree_stats_.tree_allocs;
    out = cand;
    return true;
  }
  return false;
}

void IovaAllocator::tree_free(std::uint64_t pfn, std::uint64_t pages) {
  ++tree_stats_.tree_frees;
  std::uint64_t lo = pfn;
  std::uint64_t hi = pfn + pages - 1;
  auto next = free_.lower_bound(pfn);
  if (next != free_.end() && next->first == hi + 1) {
    hi = next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->second + 1 == lo) {
      lo = prev->first;
      free_.erase(prev);
    }
  }
  free_.emplace(lo, hi);
}

Status IovaAllocator::reserve(std::uint64_t pfn_lo, std::uint64_t pfn_hi) {
  if (pfn_lo > pfn_hi) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("IovaAllocator::reserve: [{:#x}, {:#x}] is empty", pfn_lo, pfn_hi));
  }
  if (pfn_lo >= end_pfn_) return {};
  pfn_hi = std::min(pfn_hi, end_pfn_ - 1);
  // Carve the intersection with every free extent overlapping [pfn_lo, pfn_hi].
  auto it = free_.upper_bound(pfn_lo);
  if (it != free_.begin()) --it;
  while (it != free_.end() && it->first <= pfn_hi) {
    const std::uint64_t lo = it->first;
    const std::uint64_t hi = it->second;
    if (hi < pfn_lo) {
      ++it;
      continue;
    }
    it = free_.erase(it);
    if (lo < pfn_lo) free_.emplace(lo, pfn_lo - 1);
    if (hi > pfn_hi) it = free_.emplace(pfn_hi + 1, hi).first;
    tree_stats_.reserved_pages += std::min(hi, pfn_hi) - std::max(lo, pfn_lo) + 1;
  }
  return {};
}

bool IovaAllocator::is_allocated(std::uint64_t pfn) const {
  auto it = ranges_.find(pfn);
  return it != ranges_.end() && !it->second.cached;
}

bool IovaAllocator::is_cached(std::uint64_t pfn) const {
  auto it = ranges_.find(pfn);
  return it != ranges_.end() && it->second.cached;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> IovaAllocator::free_extents() const {
  return {free_.begin(), free_.end()};
}

IovaCpuStats IovaAllocator::total_cpu_stats() const {
  IovaCpuStats sum;
  for (const Cpu& c : cpus_) {
    for (const auto& f : IovaCpuStats::kFields) sum.*(f.member) += c.stats.*(f.member);
  }
  return sum;
}

}  // namespace vtdsim::host
