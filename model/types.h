// Basic vocabulary shared by every layer: cycles, source-ids, request attributes.
// Spec: VT-d 4.x §3.4 (source-id = bus:device.function, the PCI requester id).
#pragma once

#include <cstdint>
#include <string>

namespace vtdsim::model {

using Cycle = std::uint64_t;

inline constexpr std::uint64_t kPageShift = 12;
inline constexpr std::uint64_t kPageSize = std::uint64_t{1} << kPageShift;

// A PCI requester id: bus in bits 15:8, device in 7:3, function in 2:0.
struct SourceId {
  std::uint16_t raw = 0;

  static constexpr SourceId make(unsigned bus, unsigned dev, unsigned fn) {
    return SourceId{
        static_cast<std::uint16_t>(((bus & 0xFFu) << 8) | ((dev & 0x1Fu) << 3) | (fn & 0x7u))};
  }
  constexpr unsigned bus() const { return raw >> 8; }
  constexpr unsigned dev() const { return (raw >> 3) & 0x1Fu; }
  constexpr unsigned fn() const { return raw & 0x7u; }
  constexpr unsigned devfn() const { return raw & 0xFFu; }
  friend constexpr bool operator==(SourceId, SourceId) = default;
  friend constexpr auto operator<=>(SourceId, SourceId) = default;
};

// "bb:dd.f" in hex, as lspci prints it.
std::string to_string(SourceId sid);

// What a request does with memory. Spec §3.6 / fault record T bit (1 = read).
enum class AccessType : std::uint8_t { kRead, kWrite };

// PCIe address type (AT field). Spec §4.1 (device-TLB) / §3.9.
enum class AddressType : std::uint8_t {
  kUntranslated = 0,
  kTranslationRequest = 1,
  kTranslated = 2,
};

// Access permissions a translation grants.
struct Permissions {
  bool read = false;
  bool write = false;
  bool execute = false;
  friend constexpr bool operator==(Permissions, Permissions) = default;
};

}  // namespace vtdsim::model

namespace vtdsim::model {

// A 128-bit little-endian value (two qwords), for 16-byte memory accesses and entries.
struct U128 {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  friend constexpr bool operator==(const U128&, const U128&) = default;
};

}  // namespace vtdsim::model
