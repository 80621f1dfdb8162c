#include "host/flush_queue.h"

#include <bit>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace vtdsim::host {

Status FlushQueueConfig::validate() const {
  if (cpus == 0 || cpus > 4096) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("FlushQueueConfig.cpus = {}: need 1..4096", cpus));
  }
  if (ring_slots < 2 || !std::has_single_bit(ring_slots) || ring_slots > (1u << 20)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("FlushQueueConfig.ring_slots = {}: need a power of two in "
                                  "2..2^20",
                                  ring_slots));
  }
  if (timeout == 0) {
    return make_error(ErrorCode::kInvalidArgument, "FlushQueueConfig.timeout = 0: need > 0");
  }
  return {};
}

FlushQueue::FlushQueue(const FlushQueueConfig& config, IovaAllocator& iovas,
                       model::FrameAllocator* frames, Invalidator invalidator)
    : config_(config), iovas_(&iovas), frames_(frames), invalidator_(std::move(invalidator)) {
  if (auto ok = config.validate(); !ok) throw std::invalid_argument(ok.error().message);
  if (config.cpus > iovas.config().cpus) {
    throw std::invalid_argument(fmt::format("FlushQueue: {} CPUs but the IOVA allocator has {}",
                                            config.cpus, iovas.config().cpus));
  }
  if (!invalidator_.flush_all || !invalidator_.flush_range) {
    throw std::invalid_argument("FlushQueue: both invalidator callbacks are required");
  }
  rings_.resize(config.policy == UnmapPolicy::kDeferred ? config.cpus : 0);
  for (Ring& r : rings_) r.slots.resize(config.ring_slots);
}

Status FlushQueue::release_entry(unsigned cpu, Entry& e) {
  for (std::uint64_t pa : e.tables) {
    if (frames_ == nullptr) {
      return make_error(ErrorCode::kInvalidArgument,
                        "FlushQueue: page-table pages queued but no frame allocator given");
    }
    if (auto ok = frames_->free(pa); !ok) return ok;
    ++stats_.tables_released;
  }
  e.tables.clear();
  if (auto ok = iovas_->free(cpu, e.pfn, e.pages); !ok) return ok;
  ++stats_.iovas_released;
  return {};
}

Status FlushQueue::release(unsigned cpu, Ring& ring) {
  while (ring.head != ring.tail) {
    Entry& e = ring.slots[ring.head];
    if (e.counter >= flush_finish_count_) break;  // queued after the last completed flush began
    if (auto ok = release_entry(cpu, e); !ok) return ok;
    ring.head = next(ring.head);
  }
  return {};
}

Status FlushQueue::invalidate_all(model::Cycle now) {
  ++flush_start_count_;
  if (auto ok = invalidator_.flush_all(now); !ok) return ok;
  ++flush_finish_count_;
  return {};
}

Status FlushQueue::queue(unsigned cpu, std::uint64_t pfn, std::uint64_t pages,
                         std::vector<std::uint64_t> tables, model::Cycle now) {
  if (cpu >= config_.cpus) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("FlushQueue::queue: cpu {} (have {})", cpu, config_.cpus));
  }
  if (!iovas_->is_allocated(pfn)) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("FlushQueue::queue: pfn {:#x} is not an allocated IOVA range", pfn));
  }
  ++stats_.unmaps;
  if (config_.policy == UnmapPolicy::kStrict) {
    if (auto ok = invalidator_.flush_range(pfn, pages, !tables.empty(), now); !ok) return ok;
    ++stats_.strict_invalidations;
    Entry e{pfn, pages, 0, std::move(tables)};
    return release_entry(cpu, e);
  }
  if (auto ok = poll(now); !ok) return ok;
  Ring& ring = rings_[cpu];
  // Entries another CPU's flush already covered go first.
  if (auto ok = release(cpu, ring); !ok) return ok;
  if (full(ring)) {
    if (auto ok = invalidate_all(now); !ok) return ok;
    ++stats_.flushes_full;
    if (auto ok = release(cpu, ring); !ok) return ok;
  }
  Entry& e = ring.slots[ring.tail];
  e.pfn = pfn;
  e.pages = pages;
  e.counter = flush_start_count_;
  e.tables = std::move(tables);
  ring.tail = next(ring.tail);
  const std::uint64_t occupancy = (ring.tail - ring.head) & (config_.ring_slots - 1);
  if (occupancy > stats_.max_occupancy) stats_.max_occupancy = occupancy;
  if (!timer_armed_) {
    timer_armed_ = true;
    deadline_ = now + config_.timeout;
  }
  return {};
}

Status FlushQueue::poll(model::Cycle now) {
  if (!timer_armed_ || now < deadline_) return {};
  timer_armed_ = false;
  if (auto ok = invalidate_all(now); !ok) return ok;
  ++stats_.flushes_timeout;
  for (unsigned c = 0; c < rings_.size(); ++c) {
    if (auto ok = release(c, rings_[c]); !ok) return ok;
  }
  return {};
}

Status FlushQueue::flush(model::Cycle now) {
  if (pending_total() == 0) return {};
  timer_armed_ = false;
  if (auto ok = invalidate_all(now); !ok) return ok;
  ++stats_.flushes_explicit;
  for (unsigned c = 0; c < rings_.size(); ++c) {
    if (auto ok = release(c, rings_[c]); !ok) return ok;
  }
  return {};
}

std::uint64_t FlushQueue::pending(unsigned cpu) const {
  if (cpu >= rings_.size()) return 0;
  const Ring& r = rings_[cpu];
  return (r.tail - r.head) & (config_.ring_slots - 1);
}

std::uint64_t FlushQueue::pending_total() const {
  std::uint64_t n = 0;
  for (unsigned c = 0; c < rings_.size(); ++c) n += pending(c);
  return n;
}

}  // namespace vtdsim::host
