#include "model/timing.h"

#include <algorithm>
#include <stdexcept>

namespace vtdsim::model {

ServerPool::ServerPool(unsigned servers) : busy_until_(servers == 0 ? 1 : servers, 0) {
  if (servers == 0) throw std::invalid_argument("ServerPool needs at least one server");
}

ServerPool::Grant ServerPool::acquire(Cycle arrival, Cycle duration) {
  unsigned best = 0;
  for (unsigned i = 1; i < busy_until_.size(); ++i) {
    if (busy_until_[i] < busy_until_[best]) best = i;
  }
  const Cycle start = std::max(arrival, busy_until_[best]);
  const Cycle end = start + duration;
  busy_until_[best] = end;
  busy_cycles_ += duration;
  waited_cycles_ += start - arrival;
  return Grant{start, end, best};
}

Cycle ServerPool::next_free() const {
  return *std::min_element(busy_until_.begin(), busy_until_.end());
}

unsigned ServerPool::busy_at(Cycle t) const {
  return static_cast<unsigned>(
      std::count_if(busy_until_.begin(), busy_until_.end(), [t](Cycle c) { return c > t; }));
}

void ServerPool::reset() {
  std::fill(busy_until_.begin(), busy_until_.end(), 0);
  busy_cycles_ = 0;
  waited_cycles_ = 0;
}

}  // namespace vtdsim::model
