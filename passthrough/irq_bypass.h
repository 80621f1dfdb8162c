// The IRQ bypass manager (the Linux irqbypass design, facts only): interrupt producers (a VFIO
// device vector whose trigger is an eventfd) and consumers (a KVM irqfd on an eventfd) register
// under a token, the eventfd; when a producer and a consumer share a token they are connected,
// and the consumer may then deliver the producer's interrupt directly (VT-d posted interrupts,
// §9.11) instead of through the host handler. At most one producer and one consumer per token.
// Not modelled: stop/start callbacks around reconfiguration.
#pragma once

#include <cstdint>
#include <functional>
#include <map>

#include "model/error.h"
#include "pci/function.h"

namespace vtdsim::passthrough {

struct BypassProducer {
  const void* token = nullptr;
  const pci::Function* function = nullptr;
  bool posting_supported = false;  // the unit behind the device has CAP.PI
  // Program the producer's IRTE in posted format (descriptor at pda, guest vector) or back to
  // remapped format towards the host handler.
  std::function<Status(std::uint64_t pda, std::uint8_t vector)> post;
  std::function<Status()> unpost;
};

struct BypassConsumer {
  const void* token = nullptr;
  std::function<void(const BypassProducer&)> add_producer;
  std::function<void(const BypassProducer&)> del_producer;
};

class IrqBypassManager {
 public:
  using Handle = std::uint64_t;

  // kAlreadyExists when the token already has a producer (consumer).
  Expected<Handle> register_producer(BypassProducer producer);
  Expected<Handle> register_consumer(BypassConsumer consumer);
  // Disconnects first (del_producer) when connected. Unknown handles are ignored.
  void unregister_producer(Handle handle);
  void unregister_consumer(Handle handle);

  std::size_t producers() const { return producers_.size(); }
  std::size_t consumers() const { return consumers_.size(); }
  std::size_t connections() const;

 private:
  std::map<Handle, BypassProducer> producers_;
  std::map<Handle, BypassConsumer> consumers_;
  Handle next_ = 1;
};

}  // namespace vtdsim::passthrough
