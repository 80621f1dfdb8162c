// Where an interrupt lands once it leaves the remapping hardware: an APIC message (DESIGN.md
// "How an MSI travels"). The platform's local APICs implement it; tests use fakes.
// Also decodes a compatibility-format MSI (Intel SDM vol. 3 §11.11 / VT-d §5.1.2.1) into an
// APIC message, for fault-event interrupts and for MSIs when remapping is off.
#pragma once

#include <cstdint>

#include "model/types.h"

namespace vtdsim::model {

// x86 delivery modes (SDM §11.11.2).
enum class DeliveryMode : std::uint8_t {
  kFixed = 0,
  kLowestPriority = 1,
  kSmi = 2,
  kNmi = 4,
  kInit = 5,
  kExtInt = 7,
};

struct ApicMessage {
  std::uint32_t destination = 0;  // APIC id (8-bit xAPIC or 32-bit x2APIC)
  bool logical = false;           // destination mode
  bool redirection_hint = false;
  bool level = false;  // trigger mode: false = edge
  DeliveryMode delivery_mode = DeliveryMode::kFixed;
  std::uint8_t vector = 0;
  Cycle time = 0;  // cycle of delivery
  friend constexpr bool operator==(const ApicMessage&, const ApicMessage&) = default;
};

class InterruptSink {
 public:
  virtual ~InterruptSink() = default;
  virtual void deliver(const ApicMessage& message) = 0;
};

// Compatibility-format MSI: address 19:12 destination, 3 RH, 2 DM; data 7:0 vector,
// 10:8 delivery mode, 15 trigger mode.
constexpr ApicMessage decode_compat_msi(std::uint64_t address, std::uint32_t data) {
  ApicMessage m;
  m.destination = static_cast<std::uint32_t>((address >> 12) & 0xFFu);
  m.redirection_hint = ((address >> 3) & 1u) != 0;
  m.logical = ((address >> 2) & 1u) != 0;
  m.vector = static_cast<std::uint8_t>(data & 0xFFu);
  m.delivery_mode = static_cast<DeliveryMode>((data >> 8) & 0x7u);
  m.level = ((data >> 15) & 1u) != 0;
  return m;
}

// The 0xFEE0_0000–0xFEEF_FFFF interrupt address window (VT-d §3.14 / §5.1).
inline constexpr std::uint64_t kInterruptWindowBase = 0xFEE00000;
inline constexpr std::uint64_t kInterruptWindowSize = 0x100000;
constexpr bool in_interrupt_window(std::uint64_t address) {
  return address >= kInterruptWindowBase && address < kInterruptWindowBase + kInterruptWindowSize;
}

}  // namespace vtdsim::model
