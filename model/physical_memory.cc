#include "model/physical_memory.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace vtdsim::model {

PhysicalMemory::PhysicalMemory(unsigned address_width) : width_(address_width) {
  if (address_width < kMinAddressWidth || address_width > kMaxAddressWidth) {
    throw std::invalid_argument(fmt::format("PhysicalMemory: address width {} is outside [{}, {}]",
                                            address_width, kMinAddressWidth, kMaxAddressWidth));
  }
  limit_ = std::uint64_t{1} << width_;
}

PhysicalMemory::~PhysicalMemory() {
  destroy();
}

PhysicalMemory::PhysicalMemory(PhysicalMemory&& other) noexcept
    : width_(other.width_),
      limit_(other.limit_),
      root_(std::exchange(other.root_, nullptr)),
      frames_(std::exchange(other.frames_, 0)),
      nodes_(std::exchange(other.nodes_, 0)),
      recent_(other.recent_) {
  other.recent_.fill(Recent{});
}

PhysicalMemory& PhysicalMemory::operator=(PhysicalMemory&& other) noexcept {
  if (this != &other) {
    destroy();
    width_ = other.width_;
    limit_ = other.limit_;
    root_ = std::exchange(other.root_, nullptr);
    frames_ = std::exchange(other.frames_, 0);
    nodes_ = std::exchange(other.nodes_, 0);
    recent_ = other.recent_;
    other.recent_.fill(Recent{});
  }
  return *this;
}

void PhysicalMemory::destroy() {
  if (root_ != nullptr) destroy_node(root_, 0);
  root_ = nullptr;
  frames_ = 0;
  nodes_ = 0;
  recent_.fill(Recent{});
}

void PhysicalMemory::destroy_node(Node* node, unsigned level) {
  for (void* slot : node->slots) {
    if (slot == nullptr) continue;
    if (level + 1 == kLevels) {
      delete static_cast<Frame*>(slot);
    } else {
      destroy_node(static_cast<Node*>(slot), level + 1);
    }
  }
  delete node;
}

std::uint8_t* PhysicalMemory::lookup(std::uint64_t pfn) const {
  const Node* node = root_;
  for (unsigned level = 0; node != nullptr; ++level) {
    const unsigned shift = (kLevels - 1 - level) * kLevelBits;
    void* slot = node->slots[(pfn >> shift) & ((std::uint64_t{1} << kLevelBits) - 1)];
    if (level + 1 == kLevels) {
      auto* frame = slot == nullptr ? nullptr : static_cast<Frame*>(slot)->bytes.data();
      if (frame != nullptr) recent_[pfn & (kRecentSize - 1)] = Recent{pfn, frame};
      return frame;
    }
    node = static_cast<const Node*>(slot);
  }
  return nullptr;
}

std::uint8_t* PhysicalMemory::lookup_or_create(std::uint64_t pfn) {
  Recent& r = recent_[pfn & (kRecentSize - 1)];
  if (r.pfn == pfn) return r.frame;
  if (root_ == nullptr) {
    root_ = new Node();
    ++nodes_;
  }
  Node* node = root_;
  for (unsigned level = 0;; ++level) {
    const unsigned shift = (kLevels - 1 - level) * kLevelBits;
    void*& slot = node->slots[(pfn >> shift) & ((std::uint64_t{1} << kLevelBits) - 1)];
    if (level + 1 == kLevels) {
      if (slot == nullptr) {
        slot = new Frame{};  // value-initialised: zeroed
        ++frames_;
      }
      std::uint8_t* frame = static_cast<Frame*>(slot)->bytes.data();
      r = Recent{pfn, frame};
      return frame;
    }
    if (slot == nullptr) {
      slot = new Node();
      ++nodes_;
    }
    node = static_cast<Node*>(slot);
  }
}

Error PhysicalMemory::read_out_of_range(std::uint64_t pa, std::size_t size) const {
  return Error{
      ErrorCode::kOutOfRange,
      fmt::format("physical read of {} bytes at {:#x} beyond the {}-bit width", size, pa, width_)};
}

bool PhysicalMemory::read_slow(std::uint64_t pa, void* out, std::size_t size) const {
  if (!contains(pa, size)) return false;
  const std::uint64_t offset = pa & (kFrameSize - 1);
  if (offset + size <= kFrameSize) {
    const std::uint8_t* f = frame_for_read(pa);
    if (f == nullptr) {
      std::memset(out, 0, size);
    } else {
      std::memcpy(out, f + offset, size);
    }
    return true;
  }
  (void)read_bytes(pa, std::span<std::byte>(static_cast<std::byte*>(out), size));
  return true;
}

Status PhysicalMemory::read_bytes(std::uint64_t pa, std::span<std::byte> out) const {
  if (!contains(pa, out.size())) {
    return make_error(ErrorCode::kOutOfRange,
                      fmt::format("physical read of {} bytes at {:#x} beyond the {}-bit width",
                                  out.size(), pa, width_));
  }
  std::size_t done = 0;
  while (done < out.size()) {
    const std::uint64_t cur = pa + done;
    const std::uint64_t offset = cur & (kFrameSize - 1);
    const std::size_t chunk =
        static_cast<std::size_t>(std::min<std::uint64_t>(kFrameSize - offset, out.size() - done));
    const std::uint8_t* f = frame_for_read(cur);
    if (f == nullptr) {
      std::fill_n(out.data() + done, chunk, std::byte{0});
    } else {
      std::memcpy(out.data() + done, f + offset, chunk);
    }
    done += chunk;
  }
  return {};
}

Status PhysicalMemory::write_bytes(std::uint64_t pa, std::span<const std::byte> in) {
  if (!contains(pa, in.size())) {
    return make_error(ErrorCode::kOutOfRange,
                      fmt::format("physical write of {} bytes at {:#x} beyond the {}-bit width",
                                  in.size(), pa, width_));
  }
  std::size_t done = 0;
  while (done < in.size()) {
    const std::uint64_t cur = pa + done;
    const std::uint64_t offset = cur & (kFrameSize - 1);
    const std::size_t chunk =
        static_cast<std::size_t>(std::min<std::uint64_t>(kFrameSize - offset, in.size() - done));
    std::uint8_t* f = lookup_or_create(cur >> kPageShift);
    std::memcpy(f + offset, in.data() + done, chunk);
    done += chunk;
  }
  return {};
}

Status PhysicalMemory::fill(std::uint64_t pa, std::uint64_t size, std::byte value) {
  if (!contains(pa, size)) {
    return make_error(ErrorCode::kOutOfRange,
                      fmt::format("physical fill of {} bytes at {:#x} beyond the {}-bit width",
                                  size, pa, width_));
  }
  std::uint64_t done = 0;
  while (done < size) {
    const std::uint64_t cur = pa + done;
    const std::uint64_t offset = cur & (kFrameSize - 1);
    const std::uint64_t chunk = std::min<std::uint64_t>(kFrameSize - offset, size - done);
    if (value == std::byte{0} && find_frame(cur) == nullptr) {
      done += chunk;  // untouched memory already reads as zero
      continue;
    }
    std::uint8_t* f = lookup_or_create(cur >> kPageShift);
    std::memset(f + offset, std::to_integer<int>(value), chunk);
    done += chunk;
  }
  return {};
}

Expected<std::uint8_t*> PhysicalMemory::frame(std::uint64_t pa) {
  if (!contains(pa, 1)) {
    return make_error(ErrorCode::kOutOfRange,
                      fmt::format("frame at {:#x} beyond the {}-bit width", pa, width_));
  }
  return lookup_or_create(pa >> kPageShift);
}

const std::uint8_t* PhysicalMemory::find_frame(std::uint64_t pa) const {
  if (!contains(pa, 1)) return nullptr;
  return frame_for_read(pa);
}

}  // namespace vtdsim::model
