#include "workload/host_stack.h"

#include <fmt/format.h>

namespace vtdsim::workload {

BufferPool::BufferPool(const platform::MachineConfig& m) {
  constexpr std::uint64_t kLowStart = std::uint64_t{16} << 20;
  const std::uint64_t low_end = m.low_ram_end() - m.host_memory_size;
  if (low_end > kLowStart) regions_.push_back({kLowStart, low_end});
  if (m.high_ram_size() > 0) {
    regions_.push_back({platform::kHighRamBase, platform::kHighRamBase + m.high_ram_size()});
  }
}

Expected<std::uint64_t> BufferPool::allocate(std::uint64_t bytes, std::uint64_t align) {
  if (align < model::kPageSize || (align & (align - 1)) != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("buffer alignment {:#x} is not a power of two >= 4 KiB", align));
  }
  const std::uint64_t size = (bytes + model::kPageSize - 1) & ~(model::kPageSize - 1);
  for (Region& r : regions_) {
    const std::uint64_t start = (r.next + align - 1) & ~(align - 1);
    if (start < r.end && r.end - start >= size) {
      r.next = start + size;
      allocated_ += size;
      return start;
    }
  }
  return make_error(ErrorCode::kExhausted,
                    fmt::format("device buffers: no room for {:#x} more bytes of RAM ({:#x} "
                                "allocated); raise machine.ram_mib",
                                size, allocated_));
}

HostStack::HostStack(std::unique_ptr<platform::Machine> machine, const HostConfig& host)
    : machine_(std::move(machine)), config_(host), buffers_(machine_->config()) {}

Expected<std::unique_ptr<HostStack>> HostStack::create(const platform::MachineConfig& mc,
                                                       const HostConfig& host) {
  auto machine = platform::Machine::create(mc);
  if (!machine) return tl::unexpected(machine.error());
  std::unique_ptr<HostStack> s(new HostStack(std::move(*machine), host));
  host::DriverConfig dc;
  dc.guest_address_width = host.guest_address_width;
  dc.use_queued_invalidation = host.queued_invalidation;
  dc.use_superpages = host.superpages;
  for (std::size_t i = 0; i < s->machine_->unit_count(); ++i) {
    auto d = std::make_unique<host::VtdDriver>(s->machine_->unit(i), s->machine_->memory(),
                                               s->machine_->frame_allocator(), dc);
    if (auto ok = d->init(); !ok) {
      return make_error(ok.error().code,
                        fmt::format("unit {}: driver init: {}", i, ok.error().message));
    }
    if (auto ok = d->enable_translation(); !ok) {
      return make_error(ok.error().code,
                        fmt::format("unit {}: enable translation: {}", i, ok.error().message));
    }
    s->drivers_.push_back(std::move(d));
  }
  return s;
}

Expected<DeviceDma*> HostStack::device(model::SourceId sid) {
  if (auto it = by_sid_.find(sid.raw); it != by_sid_.end()) return it->second;
  const auto unit = machine_->unit_index_for(sid);
  if (!unit) {
    return make_error(ErrorCode::kNotFound, fmt::format("device {} is in no remapping unit's scope",
                                                        model::to_string(sid)));
  }
  auto dev = std::make_unique<DeviceDma>();
  dev->sid = sid;
  dev->unit_index = *unit;
  dev->driver = drivers_.at(*unit).get();
  auto did = dev->driver->create_domain();
  if (!did) return tl::unexpected(did.error());
  dev->did = *did;
  if (auto ok = dev->driver->attach(*did, sid); !ok) return tl::unexpected(ok.error());
  host::DmaApiConfig ac;
  ac.cpus = machine_->config().cpus;
  ac.policy = config_.policy;
  ac.dma_mask_bits = config_.dma_mask_bits;
  ac.forcedac = config_.forcedac;
  ac.flush_queue.ring_slots = config_.flush_queue_size;
  ac.flush_queue.timeout = config_.flush_timeout;
  dev->api = std::make_unique<host::DmaApi>(*dev->driver, *did, ac);
  DeviceDma* raw = dev.get();
  devices_.push_back(std::move(dev));
  by_sid_[sid.raw] = raw;
  return raw;
}

Status HostStack::flush_all(model::Cycle now) {
  for (auto& d : devices_) {
    if (auto ok = d->api->flush(now); !ok) return ok;
  }
  return {};
}

}  // namespace vtdsim::workload
