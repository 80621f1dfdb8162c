#include "passthrough/kvm_vm.h"

#include <algorithm>
#include <array>
#include <bit>

#include <fmt/format.h>

#include "irq_remap/irte.h"

namespace vtdsim::passthrough {

void EventFd::signal() {
  ++count_;
  // A consumer may bind or unbind while running: iterate by index over the current size.
  const std::size_t n = consumers_.size();
  for (std::size_t i = 0; i < n && i < consumers_.size(); ++i) {
    if (consumers_[i]) {
      auto c = consumers_[i];
      c();
    }
  }
}

std::size_t EventFd::bind(std::function<void()> consumer) {
  consumers_.push_back(std::move(consumer));
  return consumers_.size() - 1;
}

KvmVm::KvmVm(model::PhysicalMemory& memory, const VmConfig& config)
    : memory_(&memory), config_(config) {}

Expected<std::unique_ptr<KvmVm>> KvmVm::create(model::PhysicalMemory& memory,
                                               model::FrameAllocator& frames,
                                               const VmConfig& config) {
  if (config.vcpus == 0 || config.vcpus > 64) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("KvmVm: vcpus must be in [1, 64], got {}", config.vcpus));
  }
  if (config.ram_bytes == 0 || config.ram_bytes % model::kPageSize != 0) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("KvmVm: ram_bytes {:#x} must be a non-zero 4 KiB multiple", config.ram_bytes));
  }
  if (!config.host_cpus.empty() && config.host_cpus.size() != config.vcpus) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("KvmVm: host_cpus lists {} CPUs for {} vCPUs",
                                  config.host_cpus.size(), config.vcpus));
  }
  std::unique_ptr<KvmVm> vm(new KvmVm(memory, config));
  // Guest RAM: one contiguous host range, 2 MiB aligned when it is a 2 MiB multiple so the
  // IOMMU mappings of it can use superpages.
  const std::uint64_t pages = config.ram_bytes / model::kPageSize;
  const std::uint64_t align = config.ram_bytes % (2ull << 20) == 0 ? 512 : 1;
  auto ram = frames.allocate(pages, align);
  if (!ram) return tl::unexpected(ram.error());
  if (auto ok = vm->set_memslot(Memslot{0, 0, config.ram_bytes, *ram, false}); !ok) {
    return tl::unexpected(ok.error());
  }
  // Posted-interrupt descriptors: 64 bytes each, in one host page.
  auto pid_page = frames.allocate(1, 1);
  if (!pid_page) return tl::unexpected(pid_page.error());
  for (unsigned i = 0; i < config.vcpus; ++i) {
    const std::uint32_t host_cpu = config.host_cpus.empty() ? i : config.host_cpus[i];
    const std::uint64_t pid = *pid_page + 64ull * i;
    model::Entry512 d;
    d.set<irq_remap::pid::NV>(config.posted_notification_vector);
    if (config.x2apic) {
      d.set<irq_remap::pid::NDST>(host_cpu);
    } else {
      d.set<irq_remap::pid::NDST_XAPIC>(host_cpu & 0xFFu);
    }
    for (unsigned q = 0; q < 8; ++q) (void)memory.write<std::uint64_t>(pid + 8ull * q, d.q[q]);
    vm->vcpus_.push_back(std::make_unique<Vcpu>(i, host_cpu, pid));
  }
  return vm;
}

Status KvmVm::set_memslot(const Memslot& slot) {
  if (slot.gpa % model::kPageSize != 0 || slot.size % model::kPageSize != 0 ||
      slot.hpa % model::kPageSize != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("memslot {}: gpa {:#x}, size {:#x} and hpa {:#x} must be 4 KiB "
                                  "aligned",
                                  slot.slot, slot.gpa, slot.size, slot.hpa));
  }
  auto existing = std::find_if(slots_.begin(), slots_.end(),
                               [&](const Memslot& s) { return s.slot == slot.slot; });
  if (slot.size == 0) {
    if (existing == slots_.end()) {
      return make_error(ErrorCode::kNotFound, fmt::format("memslot {} does not exist", slot.slot));
    }
    const Memslot before = *existing;
    slots_.erase(existing);
    for (auto& l : listeners_) {
      if (l.memslot_changed) l.memslot_changed(&before, nullptr);
    }
    return {};
  }
  if (!memory_->contains(slot.hpa, slot.size)) {
    return make_error(ErrorCode::kOutOfRange,
                      fmt::format("memslot {}: host range [{:#x}, +{:#x}) is beyond host memory",
                                  slot.slot, slot.hpa, slot.size));
  }
  for (const auto& s : slots_) {
    if (s.slot == slot.slot) continue;
    if (slot.gpa < s.gpa + s.size && s.gpa < slot.gpa + slot.size) {
      return make_error(ErrorCode::kAlreadyExists,
                        fmt::format("memslot {} [{:#x}, +{:#x}) overlaps memslot {} [{:#x}, "
                                    "+{:#x})",
                                    slot.slot, slot.gpa, slot.size, s.slot, s.gpa, s.size));
    }
  }
  std::optional<Memslot> before;
  if (existing != slots_.end()) {
    before = *existing;
    *existing = slot;
  } else {
    slots_.push_back(slot);
  }
  for (auto& l : listeners_) {
    if (l.memslot_changed) l.memslot_changed(before ? &*before : nullptr, &slot);
  }
  return {};
}

Expected<std::uint64_t> KvmVm::gpa_to_hpa(std::uint64_t gpa) const {
  for (const auto& s : slots_) {
    if (gpa >= s.gpa && gpa - s.gpa < s.size) return s.hpa + (gpa - s.gpa);
  }
  return make_error(ErrorCode::kNotFound,
                    fmt::format("guest-physical {:#x} is in no memslot", gpa));
}

Status KvmVm::write_guest(std::uint64_t gpa, std::span<const std::byte> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    auto hpa = gpa_to_hpa(gpa + done);
    if (!hpa) return tl::unexpected(hpa.error());
    const std::uint64_t page_left = model::kPageSize - ((gpa + done) % model::kPageSize);
    const auto chunk =
        static_cast<std::size_t>(std::min<std::uint64_t>(page_left, bytes.size() - done));
    if (auto ok = memory_->write_bytes(*hpa, bytes.subspan(done, chunk)); !ok) return ok;
    done += chunk;
  }
  return {};
}

Status KvmVm::read_guest(std::uint64_t gpa, std::span<std::byte> bytes) const {
  std::size_t done = 0;
  while (done < bytes.size()) {
    auto hpa = gpa_to_hpa(gpa + done);
    if (!hpa) return tl::unexpected(hpa.error());
    const std::uint64_t page_left = model::kPageSize - ((gpa + done) % model::kPageSize);
    const auto chunk =
        static_cast<std::size_t>(std::min<std::uint64_t>(page_left, bytes.size() - done));
    if (auto ok = memory_->read_bytes(*hpa, bytes.subspan(done, chunk)); !ok) return ok;
    done += chunk;
  }
  return {};
}

Status KvmVm::set_msi_route(std::uint32_t gsi, MsiRoute route) {
  bool found = false;
  for (auto& [g, r] : routes_) {
    if (g == gsi) {
      r = route;
      found = true;
    }
  }
  if (!found) routes_.emplace_back(gsi, route);
  for (auto& l : listeners_) {
    if (l.route_changed) l.route_changed(gsi);
  }
  return {};
}

Expected<MsiRoute> KvmVm::route(std::uint32_t gsi) const {
  for (const auto& [g, r] : routes_) {
    if (g == gsi) return r;
  }
  return make_error(ErrorCode::kNotFound, fmt::format("GSI {} has no MSI route", gsi));
}

Vcpu* KvmVm::vcpu_for(std::uint32_t apic_id) {
  for (auto& v : vcpus_) {
    if (v->apic_id() == apic_id) return v.get();
  }
  return nullptr;
}

void KvmVm::inject_msi(std::uint64_t address, std::uint32_t data) {
  const model::ApicMessage m = model::decode_compat_msi(address, data);
  Vcpu* v = vcpu_for(m.destination);
  if (v == nullptr) {
    ++stats_.unroutable_msi;
    return;
  }
  ++stats_.msi_injected;
  v->apic().deliver(m);
}

Status KvmVm::add_irqfd(EventFd& fd, std::uint32_t gsi) {
  if (auto r = route(gsi); !r) return tl::unexpected(r.error());
  for (const auto& i : irqfds_) {
    if (i.fd == &fd) {
      return make_error(ErrorCode::kBusy,
                        fmt::format("eventfd is already an irqfd (GSI {}) of this VM", i.gsi));
    }
  }
  const std::size_t consumer = fd.bind([this, gsi] {
    ++stats_.irqfd_signals;
    if (auto r = route(gsi)) inject_msi(r->address, r->data);
  });
  irqfds_.push_back(Irqfd{&fd, gsi, consumer});
  for (auto& l : listeners_) {
    if (l.irqfd_added) l.irqfd_added(fd, gsi);
  }
  return {};
}

Status KvmVm::remove_irqfd(EventFd& fd, std::uint32_t gsi) {
  auto it = std::find_if(irqfds_.begin(), irqfds_.end(),
                         [&](const Irqfd& i) { return i.fd == &fd && i.gsi == gsi; });
  if (it == irqfds_.end()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("no irqfd for GSI {} on that eventfd", gsi));
  }
  fd.unbind(it->consumer);
  irqfds_.erase(it);
  for (auto& l : listeners_) {
    if (l.irqfd_removed) l.irqfd_removed(fd, gsi);
  }
  return {};
}

std::optional<std::uint32_t> KvmVm::irqfd_gsi(const EventFd& fd) const {
  for (const auto& i : irqfds_) {
    if (i.fd == &fd) return i.gsi;
  }
  return std::nullopt;
}

std::size_t KvmVm::add_listener(KvmListener listener) {
  listeners_.push_back(std::move(listener));
  return listeners_.size() - 1;
}

void KvmVm::remove_listener(std::size_t id) {
  if (id < listeners_.size()) listeners_[id] = KvmListener{};
}

unsigned KvmVm::sync_pir(Vcpu& vcpu) {
  const std::uint64_t pid = vcpu.pid_address();
  std::array<std::uint64_t, 4> pir{};
  unsigned moved = 0;
  for (unsigned i = 0; i < 4; ++i) {
    pir[i] = memory_->read<std::uint64_t>(pid + 8ull * i).value_or(0);
    moved += static_cast<unsigned>(std::popcount(pir[i]));
    (void)memory_->write<std::uint64_t>(pid + 8ull * i, 0);
  }
  // Clear ON (bit 256 = bit 0 of qword 4).
  const std::uint64_t q4 = memory_->read<std::uint64_t>(pid + 32).value_or(0);
  (void)memory_->write<std::uint64_t>(pid + 32, irq_remap::pid::ON::set(q4, 0));
  vcpu.apic().merge_irr(pir);
  stats_.pir_vectors_synced += moved;
  return moved;
}

void KvmVm::handle_posted_notification(std::uint32_t host_apic_id) {
  ++stats_.pi_notifications;
  for (auto& v : vcpus_) {
    if (v->host_cpu() == host_apic_id) sync_pir(*v);
  }
}

Status KvmVm::set_suppress_notification(Vcpu& vcpu, bool sn) {
  const std::uint64_t addr = vcpu.pid_address() + 32;
  auto q4 = memory_->read<std::uint64_t>(addr);
  if (!q4) return tl::unexpected(q4.error());
  return memory_->write<std::uint64_t>(addr, irq_remap::pid::SN::set(*q4, sn ? 1 : 0));
}

}  // namespace vtdsim::passthrough
