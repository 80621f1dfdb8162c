// A local APIC as seen by interrupt delivery: it accepts APIC messages addressed to it and keeps
// the interrupt request register (IRR, one bit per vector) and an in-order log of what arrived.
// Used for host CPUs (platform) and guest vCPUs (passthrough). Intel SDM vol. 3 §11.
// Not modelled: priorities/TPR, EOI broadcast, timers, IPIs, ISR state beyond acknowledge().
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "model/interrupt_sink.h"

namespace vtdsim::platform {

class LocalApic : public model::InterruptSink {
 public:
  explicit LocalApic(std::uint32_t apic_id = 0) : apic_id_(apic_id) {}

  std::uint32_t apic_id() const { return apic_id_; }

  // Records the message and sets IRR[vector] (fixed/lowest-priority); NMI/SMI/INIT/ExtINT are
  // logged only. Then calls the handler for the vector, if one is set.
  void deliver(const model::ApicMessage& message) override;

  bool pending(std::uint8_t vector) const { return (irr_[vector / 64] >> (vector % 64)) & 1u; }
  // Highest pending vector, or -1.
  int highest_pending() const;
  // Clears IRR[vector]; returns whether it was set (a modelled interrupt acknowledge).
  bool acknowledge(std::uint8_t vector);
  // Sets IRR bits directly (posted-interrupt PIR sync).
  void merge_irr(const std::array<std::uint64_t, 4>& bits);

  const std::vector<model::ApicMessage>& log() const { return log_; }
  std::uint64_t delivered() const { return log_.size(); }
  void clear_log() { log_.clear(); }

  // A callback run on delivery of `vector` (e.g. the posted-interrupt notification handler).
  void set_handler(std::uint8_t vector, std::function<void(const model::ApicMessage&)> fn);

 private:
  std::uint32_t apic_id_;
  std::array<std::uint64_t, 4> irr_{};
  std::vector<model::ApicMessage> log_;
  std::vector<std::pair<std::uint8_t, std::function<void(const model::ApicMessage&)>>> handlers_;
};

// A set of local APICs reached by destination: physical mode matches the APIC id (0xFF or
// 0xFFFFFFFF broadcast); logical mode uses the flat model (bit i of the 8-bit destination =
// APIC id i). Lowest-priority delivery goes to the first matching APIC.
class ApicBus : public model::InterruptSink {
 public:
  void attach(LocalApic* apic) { apics_.push_back(apic); }
  void deliver(const model::ApicMessage& message) override;
  // Messages that matched no APIC (a misrouted interrupt is visible, not lost).
  std::uint64_t unroutable() const { return unroutable_; }
  LocalApic* find(std::uint32_t apic_id) const;

 private:
  std::vector<LocalApic*> apics_;
  std::uint64_t unroutable_ = 0;
};

}  // namespace vtdsim::platform
