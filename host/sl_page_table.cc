#include "host/sl_page_table.h"

#include <algorithm>

#include <fmt/format.h>

#include "iommu/legacy_formats.h"

namespace vtdsim::host {

namespace sl = iommu::sl_entry;
using iommu::level_index;
using iommu::level_page_size;

namespace {
constexpr std::uint64_t kPageMask = model::kPageSize - 1;

bool present(std::uint64_t e) {
  return (sl::R::get(e) | sl::W::get(e)) != 0;
}
// A leaf at level > 1 has PS = 1 (§9.8).
bool is_leaf(std::uint64_t e, unsigned level) {
  return level == 1 || sl::PS::get(e) != 0;
}
std::uint64_t next_table(std::uint64_t e) {
  return sl::ADDR::raw(e);
}
}  // namespace

SlPageTable::SlPageTable(model::PhysicalMemory& memory, model::FrameAllocator& frames, unsigned aw,
                         bool allow_2m, bool allow_1g, std::uint64_t root)
    : memory_(&memory),
      frames_(&frames),
      aw_(aw),
      levels_(iommu::levels_for_aw(aw)),
      allow_2m_(allow_2m),
      allow_1g_(allow_1g),
      root_(root) {
  present_.emplace(root, 0);
  stats_.tables_allocated = 1;
}

Expected<SlPageTable> SlPageTable::create(model::PhysicalMemory& memory,
                                          model::FrameAllocator& frames, unsigned aw, bool allow_2m,
                                          bool allow_1g) {
  if (aw < 1 || aw > 3) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("SlPageTable: AW code {} (need 1, 2 or 3)", aw));
  }
  auto root = frames.allocate();
  if (!root) return tl::unexpected(root.error());
  return SlPageTable(memory, frames, aw, allow_2m, allow_1g, *root);
}

std::uint64_t SlPageTable::input_limit() const {
  return std::uint64_t{1} << iommu::width_for_aw(aw_);
}

std::uint64_t SlPageTable::read_entry(std::uint64_t table, std::uint64_t index) const {
  std::uint64_t e = 0;
  (void)memory_->read_into(table + index * sl::kSize, e);
  return e;
}

Status SlPageTable::write_entry(std::uint64_t table, std::uint64_t index, std::uint64_t value) {
  return memory_->write<std::uint64_t>(table + index * sl::kSize, value);
}

bool SlPageTable::large_allowed(unsigned level) const {
  return (level == 2 && allow_2m_) || (level == 3 && allow_1g_);
}

bool SlPageTable::any_mapped(std::uint64_t table, unsigned level, std::uint64_t iova,
                             std::uint64_t end) const {
  const std::uint64_t span = level_page_size(level);
  for (std::uint64_t a = iova; a < end;) {
    const std::uint64_t chunk_end = std::min(end, (a & ~(span - 1)) + span);
    const std::uint64_t e = read_entry(table, level_index(a, level));
    if (present(e)) {
      if (is_leaf(e, level)) return true;
      if (any_mapped(next_table(e), level - 1, a, chunk_end)) return true;
    }
    a = chunk_end;
  }
  return false;
}

bool SlPageTable::straddles(std::uint64_t table, unsigned level, std::uint64_t iova,
                            std::uint64_t end) const {
  const std::uint64_t span = level_page_size(level);
  for (std::uint64_t a = iova; a < end;) {
    const std::uint64_t base = a & ~(span - 1);
    const std::uint64_t chunk_end = std::min(end, base + span);
    const std::uint64_t e = read_entry(table, level_index(a, level));
    if (present(e)) {
      if (is_leaf(e, level)) {
        if (level > 1 && (a != base || chunk_end != base + span)) return true;
      } else if (straddles(next_table(e), level - 1, a, chunk_end)) {
        return true;
      }
    }
    a = chunk_end;
  }
  return false;
}

Status SlPageTable::map(std::uint64_t iova, std::uint64_t hpa, std::uint64_t size,
                        model::Permissions permissions) {
  if (((iova | hpa | size) & kPageMask) != 0 || size == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("map: iova {:#x}, hpa {:#x}, size {:#x} must be non-empty and "
                                  "4 KiB aligned",
                                  iova, hpa, size));
  }
  if (iova >= input_limit() || size > input_limit() - iova) {
    return make_error(ErrorCode::kOutOfRange,
                      fmt::format("map: [{:#x}, +{:#x}) beyond the {}-bit domain", iova, size,
                                  iommu::width_for_aw(aw_)));
  }
  if (!memory_->contains(hpa, size)) {
    return make_error(ErrorCode::kOutOfRange,
                      fmt::format("map: hpa [{:#x}, +{:#x}) beyond physical memory", hpa, size));
  }
  if (!permissions.read && !permissions.write) {
    return make_error(ErrorCode::kInvalidArgument,
                      "map: neither read nor write permission (the entry would be not-present)");
  }
  if (any_mapped(root_, levels_, iova, iova + size)) {
    return make_error(ErrorCode::kAlreadyExists,
                      fmt::format("map: [{:#x}, +{:#x}) overlaps an existing mapping", iova, size));
  }
  std::uint64_t perm = 0;
  perm = sl::R::set(perm, permissions.read ? 1 : 0);
  perm = sl::W::set(perm, permissions.write ? 1 : 0);
  return map_level(root_, levels_, iova, iova + size, hpa - iova, perm);
}

Status SlPageTable::map_level(std::uint64_t table, unsigned level, std::uint64_t iova,
                              std::uint64_t end, std::uint64_t delta, std::uint64_t perm_bits) {
  const std::uint64_t span = level_page_size(level);
  for (std::uint64_t a = iova; a < end;) {
    const std::uint64_t base = a & ~(span - 1);
    const std::uint64_t chunk_end = std::min(end, base + span);
    const std::uint64_t index = level_index(a, level);
    const std::uint64_t e = read_entry(table, index);
    const std::uint64_t out = a + delta;
    const bool whole = a == base && chunk_end == base + span;
    if (level == 1 || (whole && large_allowed(level) && (out & (span - 1)) == 0 && !present(e))) {
      std::uint64_t leaf = perm_bits;
      leaf = sl::ADDR::set(leaf, out >> 12);
      if (level > 1) leaf = sl::PS::set(leaf, 1);
      if (auto ok = write_entry(table, index, leaf); !ok) return ok;
      ++present_[table];
      (level == 1 ? stats_.leaves_4k : level == 2 ? stats_.leaves_2m : stats_.leaves_1g)++;
    } else {
      std::uint64_t child = 0;
      if (present(e)) {
        child = next_table(e);
      } else {
        auto page = frames_->allocate();
        if (!page) return tl::unexpected(page.error());
        child = *page;
        present_.emplace(child, 0);
        ++stats_.tables_allocated;
        // Non-leaf entries grant R and W: permissions are ANDed down the walk (§3.6.1).
        std::uint64_t ptr = 0;
        ptr = sl::R::set(ptr, 1);
        ptr = sl::W::set(ptr, 1);
        ptr = sl::ADDR::set(ptr, child >> 12);
        if (auto ok = write_entry(table, index, ptr); !ok) return ok;
        ++present_[table];
      }
      if (auto ok = map_level(child, level - 1, a, chunk_end, delta, perm_bits); !ok) return ok;
    }
    a = chunk_end;
  }
  return {};
}

Expected<std::uint64_t> SlPageTable::unmap(std::uint64_t iova, std::uint64_t size,
                                           std::vector<std::uint64_t>& detached) {
  if (((iova | size) & kPageMask) != 0 || size == 0 || iova >= input_limit() ||
      size > input_limit() - iova) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("unmap: [{:#x}, +{:#x}) must be non-empty, 4 KiB aligned and "
                                  "inside the {}-bit domain",
                                  iova, size, iommu::width_for_aw(aw_)));
  }
  if (straddles(root_, levels_, iova, iova + size)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("unmap: [{:#x}, +{:#x}) covers part of a superpage", iova, size));
  }
  std::uint64_t unmapped = 0;
  if (auto ok = unmap_level(root_, levels_, iova, iova + size, detached, unmapped); !ok) {
    return tl::unexpected(ok.error());
  }
  return unmapped;
}

Status SlPageTable::unmap_level(std::uint64_t table, unsigned level, std::uint64_t iova,
                                std::uint64_t end, std::vector<std::uint64_t>& detached,
                                std::uint64_t& unmapped) {
  const std::uint64_t span = level_page_size(level);
  for (std::uint64_t a = iova; a < end;) {
    const std::uint64_t base = a & ~(span - 1);
    const std::uint64_t chunk_end = std::min(end, base + span);
    const std::uint64_t index = level_index(a, level);
    const std::uint64_t e = read_entry(table, index);
    if (present(e)) {
      bool clear = false;
      if (is_leaf(e, level)) {
        clear = true;
        unmapped += span;
        ++stats_.leaves_cleared;
      } else {
        const std::uint64_t child = next_table(e);
        if (auto ok = unmap_level(child, level - 1, a, chunk_end, detached, unmapped); !ok) {
          return ok;
        }
        if (present_[child] == 0) {
          clear = true;
          present_.erase(child);
          detached.push_back(child);
          ++stats_.tables_detached;
        }
      }
      if (clear) {
        if (auto ok = write_entry(table, index, 0); !ok) return ok;
        --present_[table];
      }
    }
    a = chunk_end;
  }
  return {};
}

Status SlPageTable::destroy_level(std::uint64_t table, unsigned level) {
  if (level > 1) {
    for (std::uint64_t i = 0; i < (std::uint64_t{1} << sl::kIndexBits); ++i) {
      const std::uint64_t e = read_entry(table, i);
      if (present(e) && !is_leaf(e, level)) {
        if (auto ok = destroy_level(next_table(e), level - 1); !ok) return ok;
      }
    }
  }
  present_.erase(table);
  return frames_->free(table);
}

Status SlPageTable::destroy() {
  if (present_.empty()) return {};
  return destroy_level(root_, levels_);
}

SlPageTable::Lookup SlPageTable::lookup(std::uint64_t iova) const {
  Lookup out;
  if (iova >= input_limit() || present_.empty()) return out;
  std::uint64_t table = root_;
  for (unsigned level = levels_; level >= 1; --level) {
    const std::uint64_t e = read_entry(table, level_index(iova, level));
    if (!present(e)) return out;
    if (is_leaf(e, level)) {
      const std::uint64_t span = level_page_size(level);
      out.present = true;
      out.page_size = span;
      out.hpa = (sl::ADDR::raw(e) & ~(span - 1)) | (iova & (span - 1));
      out.permissions.read = sl::R::get(e) != 0;
      out.permissions.write = sl::W::get(e) != 0;
      return out;
    }
    table = next_table(e);
  }
  return out;
}

}  // namespace vtdsim::host
