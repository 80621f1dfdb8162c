// One function's 4 KiB configuration space (PCI Local Bus 3.0 §6.1, PCIe Base 4.0 §7.5) with
// per-byte read-only / read-write / write-1-to-clear masks, and the header register offsets
// and bit fields of the type 0 and type 1 headers.
// Guest accesses of 1, 2 or 4 bytes at a size-aligned offset; anything else reads all-ones and
// writes are ignored. Not modelled: write-once (RWO) and sticky bits across resets.
#pragma once

#include <array>
#include <cstdint>

#include "model/field.h"

namespace vtdsim::pci {

inline constexpr std::uint32_t kConfigSpaceSize = 4096;  // PCIe extended config space
inline constexpr std::uint32_t kLegacyConfigSize = 256;  // conventional PCI config space
inline constexpr std::uint32_t kAllOnes = 0xFFFFFFFFu;

// Header offsets common to type 0 and type 1 (PCI 3.0 §6.1, Figure 6-1 / PCI-PCI bridge 1.2 §3.2).
namespace cfg {
inline constexpr std::uint32_t kVendorId = 0x00;
inline constexpr std::uint32_t kDeviceId = 0x02;
inline constexpr std::uint32_t kCommand = 0x04;
inline constexpr std::uint32_t kStatus = 0x06;
inline constexpr std::uint32_t kRevisionId = 0x08;
inline constexpr std::uint32_t kClassCode = 0x09;  // 3 bytes: prog-if, sub-class, base class
inline constexpr std::uint32_t kCacheLineSize = 0x0C;
inline constexpr std::uint32_t kLatencyTimer = 0x0D;
inline constexpr std::uint32_t kHeaderType = 0x0E;
inline constexpr std::uint32_t kBist = 0x0F;
inline constexpr std::uint32_t kBar0 = 0x10;
inline constexpr std::uint32_t kCapabilitiesPointer = 0x34;
inline constexpr std::uint32_t kInterruptLine = 0x3C;
inline constexpr std::uint32_t kInterruptPin = 0x3D;
// Type 0 only.
inline constexpr std::uint32_t kSubsystemVendorId = 0x2C;
inline constexpr std::uint32_t kSubsystemId = 0x2E;
inline constexpr std::uint32_t kExpansionRom = 0x30;
inline constexpr unsigned kType0Bars = 6;
// Type 1 only (PCI-to-PCI bridge architecture 1.2 §3.2).
inline constexpr std::uint32_t kPrimaryBus = 0x18;
inline constexpr std::uint32_t kSecondaryBus = 0x19;
inline constexpr std::uint32_t kSubordinateBus = 0x1A;
inline constexpr std::uint32_t kSecondaryLatency = 0x1B;
inline constexpr std::uint32_t kIoBase = 0x1C;
inline constexpr std::uint32_t kIoLimit = 0x1D;
inline constexpr std::uint32_t kSecondaryStatus = 0x1E;
inline constexpr std::uint32_t kMemoryBase = 0x20;
inline constexpr std::uint32_t kMemoryLimit = 0x22;
inline constexpr std::uint32_t kPrefMemoryBase = 0x24;
inline constexpr std::uint32_t kPrefMemoryLimit = 0x26;
inline constexpr std::uint32_t kPrefBaseUpper = 0x28;
inline constexpr std::uint32_t kPrefLimitUpper = 0x2C;
inline constexpr std::uint32_t kIoBaseUpper = 0x30;
inline constexpr std::uint32_t kIoLimitUpper = 0x32;
inline constexpr std::uint32_t kBridgeExpansionRom = 0x38;
inline constexpr std::uint32_t kBridgeControl = 0x3E;
inline constexpr unsigned kType1Bars = 2;
// First extended capability (PCIe 4.0 §7.6).
inline constexpr std::uint32_t kExtendedCapabilities = 0x100;
}  // namespace cfg

// Command register (PCI 3.0 §6.2.2).
namespace command {
using IO = model::Field<0, 0>;   // I/O space enable
using MSE = model::Field<1, 1>;  // memory space enable
using BME = model::Field<2, 2>;  // bus master enable
using PERR = model::Field<6, 6>;
using SERR = model::Field<8, 8>;
using INTX_DISABLE = model::Field<10, 10>;
using Layout = model::Layout<1, IO, MSE, BME, PERR, SERR, INTX_DISABLE>;
static_assert(model::valid_layout<Layout>());
inline constexpr std::uint16_t kWritable = static_cast<std::uint16_t>(
    IO::kMask | MSE::kMask | BME::kMask | PERR::kMask | SERR::kMask | INTX_DISABLE::kMask);
}  // namespace command

// Status register (PCI 3.0 §6.2.3): RO capability/interrupt bits, RW1C error bits.
namespace status {
using INTX_STATUS = model::Field<3, 3>;
using CAP_LIST = model::Field<4, 4>;
using MDPE = model::Field<8, 8>;   // master data parity error
using STA = model::Field<11, 11>;  // signaled target abort
using RTA = model::Field<12, 12>;  // received target abort
using RMA = model::Field<13, 13>;  // received master abort (UR completion on PCIe)
using SSE = model::Field<14, 14>;  // signaled system error
using DPE = model::Field<15, 15>;  // detected parity error
using Layout = model::Layout<1, INTX_STATUS, CAP_LIST, MDPE, STA, RTA, RMA, SSE, DPE>;
static_assert(model::valid_layout<Layout>());
inline constexpr std::uint16_t kW1c = static_cast<std::uint16_t>(
    MDPE::kMask | STA::kMask | RTA::kMask | RMA::kMask | SSE::kMask | DPE::kMask);
}  // namespace status

// Header type register (PCI 3.0 §6.2.1).
namespace header_type {
using LAYOUT = model::Field<6, 0>;  // 0 = type 0 (endpoint), 1 = type 1 (PCI-PCI bridge)
using MF = model::Field<7, 7>;      // multi-function device
using Layout = model::Layout<1, LAYOUT, MF>;
static_assert(model::valid_layout<Layout>());
}  // namespace header_type

enum class HeaderType : std::uint8_t { kType0 = 0, kType1 = 1 };

// True for a guest access the config space accepts: 1/2/4 bytes, size-aligned, in range.
constexpr bool valid_config_access(std::uint32_t offset, unsigned size,
                                   std::uint32_t limit = kConfigSpaceSize) {
  return (size == 1 || size == 2 || size == 4) && offset % size == 0 && offset < limit &&
         limit - offset >= size;
}

class ConfigSpace {
 public:
  ConfigSpace() = default;

  // Guest (configuration request) side: masks apply. Bad size/alignment/range → all-ones.
  std::uint32_t read(std::uint32_t offset, unsigned size) const;
  // Returns false (and changes nothing) for a bad size/alignment/range.
  bool write(std::uint32_t offset, unsigned size, std::uint32_t value);

  // Device side: raw access without masks (the function's own hardware state). Offsets beyond
  // the space are ignored / read as zero: these are for the model, never for the guest.
  std::uint8_t get8(std::uint32_t offset) const;
  std::uint16_t get16(std::uint32_t offset) const;
  std::uint32_t get32(std::uint32_t offset) const;
  void set8(std::uint32_t offset, std::uint8_t value);
  void set16(std::uint32_t offset, std::uint16_t value);
  void set32(std::uint32_t offset, std::uint32_t value);

  // Declares which bits of [offset, offset+size) the guest may write (writable) and which are
  // write-1-to-clear (w1c); every other bit is read-only. size is 1, 2 or 4.
  void set_masks(std::uint32_t offset, unsigned size, std::uint32_t writable,
                 std::uint32_t w1c = 0);
  std::uint32_t writable_mask(std::uint32_t offset, unsigned size) const;
  std::uint32_t w1c_mask(std::uint32_t offset, unsigned size) const;

 private:
  std::array<std::uint8_t, kConfigSpaceSize> data_{};
  std::array<std::uint8_t, kConfigSpaceSize> writable_{};
  std::array<std::uint8_t, kConfigSpaceSize> w1c_{};
};

}  // namespace vtdsim::pci
