#include "passthrough/kvm_vfio.h"

#include <algorithm>

#include <fmt/format.h>

#include "passthrough/vfio_group.h"

namespace vtdsim::passthrough {

KvmVfioDevice::KvmVfioDevice(KvmVm& vm, HostKernel& kernel) : vm_(&vm), kernel_(&kernel) {
  kernel.register_vm(vm);
  KvmListener l;
  l.irqfd_added = [this](EventFd& fd, std::uint32_t gsi) { irqfd_added(fd, gsi); };
  l.irqfd_removed = [this](EventFd& fd, std::uint32_t) { irqfd_removed(fd); };
  l.route_changed = [this](std::uint32_t gsi) {
    for (auto& [fd, c] : connections_) {
      if (c.gsi == gsi) update(c);
    }
  };
  listener_ = vm.add_listener(std::move(l));
}

KvmVfioDevice::~KvmVfioDevice() {
  vm_->remove_listener(listener_);
  for (auto& [fd, h] : consumers_) kernel_->irq_bypass().unregister_consumer(h);
}

Status KvmVfioDevice::add_group(VfioGroup& group) {
  if (std::find(groups_.begin(), groups_.end(), &group) != groups_.end()) {
    return make_error(ErrorCode::kAlreadyExists,
                      fmt::format("KVM_DEV_VFIO_GROUP_ADD: group {} already added", group.id()));
  }
  groups_.push_back(&group);
  for (auto& [fd, c] : connections_) update(c);
  return {};
}

Status KvmVfioDevice::del_group(VfioGroup& group) {
  auto it = std::find(groups_.begin(), groups_.end(), &group);
  if (it == groups_.end()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("KVM_DEV_VFIO_GROUP_DEL: group {} was not added", group.id()));
  }
  groups_.erase(it);
  for (auto& [fd, c] : connections_) update(c);
  return {};
}

bool KvmVfioDevice::covers(const pci::Function& f) const {
  for (const VfioGroup* g : groups_) {
    for (const pci::Function* m : g->members()) {
      if (m == &f) return true;
    }
  }
  return false;
}

bool KvmVfioDevice::posted(const EventFd& fd) const {
  auto it = connections_.find(&fd);
  return it != connections_.end() && it->second.posted;
}

void KvmVfioDevice::irqfd_added(EventFd& fd, std::uint32_t gsi) {
  BypassConsumer c;
  c.token = &fd;
  c.add_producer = [this, &fd, gsi](const BypassProducer& p) {
    ++stats_.connections;
    Connection& conn = connections_[&fd];
    conn.producer = p;
    conn.gsi = gsi;
    conn.posted = false;
    update(conn);
  };
  c.del_producer = [this, &fd](const BypassProducer&) {
    auto it = connections_.find(&fd);
    if (it == connections_.end()) return;
    unpost(it->second);
    connections_.erase(it);
  };
  if (auto h = kernel_->irq_bypass().register_consumer(std::move(c))) consumers_[&fd] = *h;
}

void KvmVfioDevice::irqfd_removed(EventFd& fd) {
  auto it = consumers_.find(&fd);
  if (it == consumers_.end()) return;
  kernel_->irq_bypass().unregister_consumer(it->second);
  consumers_.erase(it);
}

void KvmVfioDevice::unpost(Connection& c) {
  if (!c.posted) return;
  if (c.producer.unpost) (void)c.producer.unpost();
  c.posted = false;
  ++stats_.remapped;
}

void KvmVfioDevice::update(Connection& c) {
  Vcpu* target = nullptr;
  model::ApicMessage m;
  if (auto r = vm_->route(c.gsi)) {
    m = model::decode_compat_msi(r->address, r->data);
    const bool single = !m.logical && (m.delivery_mode == model::DeliveryMode::kFixed ||
                                       m.delivery_mode == model::DeliveryMode::kLowestPriority);
    for (unsigned i = 0; single && i < vm_->vcpu_count(); ++i) {
      if (vm_->vcpu(i).apic_id() == m.destination) target = &vm_->vcpu(i);
    }
  }
  const bool can_post = target != nullptr && c.producer.posting_supported &&
                        c.producer.function != nullptr && covers(*c.producer.function) &&
                        c.producer.post;
  if (!can_post) {
    if (c.posted) {
      unpost(c);
    } else {
      ++stats_.remapped;
    }
    return;
  }
  if (auto ok = c.producer.post(target->pid_address(), m.vector); !ok) {
    ++stats_.post_failures;
    unpost(c);
    return;
  }
  c.posted = true;
  ++stats_.posted;
}

}  // namespace vtdsim::passthrough
