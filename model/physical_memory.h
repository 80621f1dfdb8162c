// Sparse host-physical memory: 4 KiB frames allocated on first write, little-endian, bounded
// by a physical address width. Reads of untouched memory return zeros and allocate nothing.
// Not modelled: memory types, ECC, MMIO holes (the platform routes MMIO before memory).
// Not thread-safe: one simulated machine belongs to one thread (sweeps run machines apart).
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>

#include "model/error.h"
#include "model/types.h"

namespace vtdsim::model {

static_assert(std::endian::native == std::endian::little,
              "vtdsim stores guest-visible memory little-endian and assumes a little-endian host");

class PhysicalMemory {
 public:
  static constexpr std::uint64_t kFrameSize = kPageSize;
  static constexpr unsigned kMinAddressWidth = 20;
  static constexpr unsigned kMaxAddressWidth = 52;

  // Throws std::invalid_argument when the width is outside [kMinAddressWidth, kMaxAddressWidth].
  explicit PhysicalMemory(unsigned address_width = 46);
  ~PhysicalMemory();
  PhysicalMemory(const PhysicalMemory&) = delete;
  PhysicalMemory& operator=(const PhysicalMemory&) = delete;
  PhysicalMemory(PhysicalMemory&&) noexcept;
  PhysicalMemory& operator=(PhysicalMemory&&) noexcept;

  unsigned address_width() const { return width_; }
  // One past the highest addressable byte.
  std::uint64_t limit() const { return limit_; }
  bool contains(std::uint64_t pa, std::uint64_t size) const {
    return size <= limit_ && pa <= limit_ - size;
  }

  // Checked scalar access (1, 2, 4, 8 or 16 bytes; any alignment; may cross frames).
  template <class T>
  Expected<T> read(std::uint64_t pa) const;
  template <class T>
  Status write(std::uint64_t pa, const T& value);

  // Hot-path form of read: false (out untouched) when [pa, pa+sizeof(T)) is beyond the width.
  template <class T>
  bool read_into(std::uint64_t pa, T& out) const;

  // Byte spans; they may cross any number of frames.
  Status read_bytes(std::uint64_t pa, std::span<std::byte> out) const;
  Status write_bytes(std::uint64_t pa, std::span<const std::byte> in);
  Status fill(std::uint64_t pa, std::uint64_t size, std::byte value);

  // The 4 KiB frame holding pa, allocated (zeroed) if not yet resident. The pointer stays
  // valid for the lifetime of this object.
  Expected<std::uint8_t*> frame(std::uint64_t pa);
  // The frame holding pa if resident, else nullptr. Never allocates.
  const std::uint8_t* find_frame(std::uint64_t pa) const;

  std::uint64_t frames_resident() const { return frames_; }
  // Bytes of host memory held: frames plus the radix index nodes.
  std::uint64_t bytes_used() const { return frames_ * kFrameSize + nodes_ * sizeof(Node); }

 private:
  struct alignas(kFrameSize) Frame {
    std::array<std::uint8_t, kFrameSize> bytes;
  };
  // Four-level radix index over the page-frame number (10 bits a level covers 40 bits of
  // frame number, i.e. a 52-bit address). Leaves point at frames.
  static constexpr unsigned kLevelBits = 10;
  static constexpr unsigned kLevels = 4;
  struct Node {
    std::array<void*, std::size_t{1} << kLevelBits> slots{};
  };
  // Direct-mapped cache of recent frame-number → frame translations (the common case of a
  // walker or device touching the same few frames again and again).
  static constexpr std::size_t kRecentSize = 64;
  struct Recent {
    std::uint64_t pfn = ~std::uint64_t{0};
    std::uint8_t* frame = nullptr;
  };

  // The kOutOfRange error of a scalar read of `size` bytes at pa (kept out of line).
  Error read_out_of_range(std::uint64_t pa, std::size_t size) const;
  // read_into beyond the fast path: width check, untouched frames, frame crossings.
  bool read_slow(std::uint64_t pa, void* out, std::size_t size) const;
  std::uint8_t* lookup(std::uint64_t pfn) const;
  std::uint8_t* lookup_or_create(std::uint64_t pfn);
  void destroy();
  void destroy_node(Node* node, unsigned level);
  const std::uint8_t* frame_for_read(std::uint64_t pa) const {
    const std::uint64_t pfn = pa >> kPageShift;
    const Recent& r = recent_[pfn & (kRecentSize - 1)];
    if (r.pfn == pfn) return r.frame;
    return lookup(pfn);
  }

  unsigned width_;
  std::uint64_t limit_;
  Node* root_ = nullptr;
  std::uint64_t frames_ = 0;
  std::uint64_t nodes_ = 0;
  mutable std::array<Recent, kRecentSize> recent_{};
};

// Fast paths: an access inside one frame found in the recent-frame cache needs no width check
// (a resident frame lies inside the width). Everything else goes out of line.
template <class T>
bool PhysicalMemory::read_into(std::uint64_t pa, T& out) const {
  static_assert(std::is_trivially_copyable_v<T>);
  static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8 ||
                sizeof(T) == 16);
  const std::uint64_t pfn = pa >> kPageShift;
  const std::uint64_t offset = pa & (kFrameSize - 1);
  const Recent& r = recent_[pfn & (kRecentSize - 1)];
  if (r.pfn == pfn && offset + sizeof(T) <= kFrameSize) [[likely]] {
    std::memcpy(&out, r.frame + offset, sizeof(T));
    return true;
  }
  return read_slow(pa, &out, sizeof(T));
}

template <class T>
Expected<T> PhysicalMemory::read(std::uint64_t pa) const {
  T out{};
  if (read_into(pa, out)) [[likely]] {
    return out;
  }
  return tl::unexpected<Error>(read_out_of_range(pa, sizeof(T)));
}

template <class T>
Status PhysicalMemory::write(std::uint64_t pa, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8 ||
                sizeof(T) == 16);
  const std::uint64_t pfn = pa >> kPageShift;
  const std::uint64_t offset = pa & (kFrameSize - 1);
  const Recent& r = recent_[pfn & (kRecentSize - 1)];
  if (r.pfn == pfn && offset + sizeof(T) <= kFrameSize) [[likely]] {
    std::memcpy(r.frame + offset, &value, sizeof(T));
    return {};
  }
  std::array<std::byte, sizeof(T)> tmp;
  std::memcpy(tmp.data(), &value, sizeof(T));
  return write_bytes(pa, tmp);
}

}  // namespace vtdsim::model
