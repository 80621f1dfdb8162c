#include "passthrough/irq_bypass.h"

#include <fmt/format.h>

namespace vtdsim::passthrough {

Expected<IrqBypassManager::Handle> IrqBypassManager::register_producer(BypassProducer producer) {
  for (const auto& [h, p] : producers_) {
    if (p.token == producer.token) {
      return make_error(ErrorCode::kAlreadyExists,
                        fmt::format("irq bypass: token {} already has a producer", h));
    }
  }
  const Handle handle = next_++;
  const BypassProducer& p = producers_.emplace(handle, std::move(producer)).first->second;
  for (auto& [h, c] : consumers_) {
    if (c.token == p.token && c.add_producer) c.add_producer(p);
  }
  return handle;
}

Expected<IrqBypassManager::Handle> IrqBypassManager::register_consumer(BypassConsumer consumer) {
  for (const auto& [h, c] : consumers_) {
    if (c.token == consumer.token) {
      return make_error(ErrorCode::kAlreadyExists,
                        fmt::format("irq bypass: token {} already has a consumer", h));
    }
  }
  const Handle handle = next_++;
  BypassConsumer& c = consumers_.emplace(handle, std::move(consumer)).first->second;
  for (auto& [h, p] : producers_) {
    if (p.token == c.token && c.add_producer) c.add_producer(p);
  }
  return handle;
}

void IrqBypassManager::unregister_producer(Handle handle) {
  auto it = producers_.find(handle);
  if (it == producers_.end()) return;
  for (auto& [h, c] : consumers_) {
    if (c.token == it->second.token && c.del_producer) c.del_producer(it->second);
  }
  producers_.erase(it);
}

void IrqBypassManager::unregister_consumer(Handle handle) {
  auto it = consumers_.find(handle);
  if (it == consumers_.end()) return;
  for (auto& [h, p] : producers_) {
    if (p.token == it->second.token && it->second.del_producer) it->second.del_producer(p);
  }
  consumers_.erase(it);
}

std::size_t IrqBypassManager::connections() const {
  std::size_t n = 0;
  for (const auto& [hp, p] : producers_) {
    for (const auto& [hc, c] : consumers_) {
      if (p.token == c.token) ++n;
    }
  }
  return n;
}

}  // namespace vtdsim::passthrough
