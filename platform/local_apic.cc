#include "platform/local_apic.h"

#include <bit>

namespace vtdsim::platform {

void LocalApic::deliver(const model::ApicMessage& message) {
  log_.push_back(message);
  if (message.delivery_mode == model::DeliveryMode::kFixed ||
      message.delivery_mode == model::DeliveryMode::kLowestPriority) {
    irr_[message.vector / 64] |= std::uint64_t{1} << (message.vector % 64);
  }
  for (auto& [vector, fn] : handlers_) {
    if (vector == message.vector && fn) fn(message);
  }
}

int LocalApic::highest_pending() const {
  for (int w = 3; w >= 0; --w) {
    const std::uint64_t bits = irr_[static_cast<std::size_t>(w)];
    if (bits != 0) return w * 64 + 63 - std::countl_zero(bits);
  }
  return -1;
}

bool LocalApic::acknowledge(std::uint8_t vector) {
  const std::uint64_t bit = std::uint64_t{1} << (vector % 64);
  const bool was = (irr_[vector / 64] & bit) != 0;
  irr_[vector / 64] &= ~bit;
  return was;
}

void LocalApic::merge_irr(const std::array<std::uint64_t, 4>& bits) {
  for (std::size_t i = 0; i < 4; ++i) irr_[i] |= bits[i];
}

void LocalApic::set_handler(std::uint8_t vector,
                            std::function<void(const model::ApicMessage&)> fn) {
  for (auto& [v, f] : handlers_) {
    if (v == vector) {
      f = std::move(fn);
      return;
    }
  }
  handlers_.emplace_back(vector, std::move(fn));
}

LocalApic* ApicBus::find(std::uint32_t apic_id) const {
  for (auto* a : apics_) {
    if (a->apic_id() == apic_id) return a;
  }
  return nullptr;
}

void ApicBus::deliver(const model::ApicMessage& message) {
  bool any = false;
  const bool lowest = message.delivery_mode == model::DeliveryMode::kLowestPriority;
  for (auto* a : apics_) {
    bool match = false;
    if (message.logical) {
      match = a->apic_id() < 8 && ((message.destination >> a->apic_id()) & 1u) != 0;
    } else {
      match = message.destination == a->apic_id() || message.destination == 0xFF ||
              message.destination == 0xFFFFFFFFu;
    }
    if (!match) continue;
    a->deliver(message);
    any = true;
    if (lowest) break;
  }
  if (!any) ++unroutable_;
}

}  // namespace vtdsim::platform
