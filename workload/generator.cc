#include "workload/generator.h"

#include <algorithm>

namespace vtdsim::workload {
namespace {

constexpr std::uint64_t kOffsetMask = model::kPageSize - 1;

std::uint64_t pages_for(std::uint64_t hpa, std::uint64_t size) {
  return ((hpa & kOffsetMask) + size + kOffsetMask) >> model::kPageShift;
}

model::Permissions permissions_for(host::DmaDirection d) {
  switch (d) {
    case host::DmaDirection::kToDevice:
      return {true, false, false};
    case host::DmaDirection::kFromDevice:
      return {false, true, false};
    case host::DmaDirection::kBidirectional:
      return {true, true, false};
  }
  return {true, true, false};
}

}  // namespace

Status read_device_knobs(ConfigTable& t, DeviceKnobs& k) {
  auto text = t.get_string("device", model::to_string(k.device));
  if (!text) return tl::unexpected(text.error());
  auto sid = parse_source_id(*text, t.where("device"));
  if (!sid) return tl::unexpected(sid.error());
  k.device = *sid;
  auto rb = t.get_uint("request_bytes", k.request_bytes, 1, 4096);
  if (!rb) return tl::unexpected(rb.error());
  k.request_bytes = static_cast<unsigned>(*rb);
  return {};
}

DeviceIo::DeviceIo(DeviceDma& device, unsigned request_bytes)
    : dev_(&device), request_bytes_(std::clamp(request_bytes, 1u, 4096u)) {}

std::uint64_t DeviceIo::invalidations() const {
  const auto& s = dev_->driver->invalidator().stats();
  return s.iotlb_page + s.iotlb_domain + s.iotlb_global;
}

std::uint64_t DeviceIo::domain_invalidations() const {
  const auto& s = dev_->driver->invalidator().stats();
  return s.iotlb_domain + s.iotlb_global;
}

TraceRecord DeviceIo::record(EventSink& sink, TraceKind kind) const {
  TraceRecord r;
  r.kind = kind;
  r.time = sink.now();
  r.source_id = dev_->sid;
  return r;
}

// Strict unmaps invalidate their range (the driver picks page- or domain-selective, and a
// replay through VtdDriver::flush_range picks the same); deferred flushes are domain-wide.
void DeviceIo::emit_invalidations(EventSink& sink, std::uint64_t before_all,
                                  std::uint64_t before_domain, std::uint64_t iova,
                                  std::uint64_t size) {
  const std::uint64_t all = invalidations() - before_all;
  if (all == 0) return;
  if (dev_->api->flush_queue().config().policy == host::UnmapPolicy::kStrict && size != 0) {
    TraceRecord r = record(sink, TraceKind::kInvalidate);
    r.address = iova;
    r.size = size;
    sink.host_event(r);
    return;
  }
  const std::uint64_t domain = domain_invalidations() - before_domain;
  for (std::uint64_t i = 0; i < domain; ++i) {
    TraceRecord r = record(sink, TraceKind::kInvalidate);
    r.address = 0;
    r.size = kDomainInvalidationSize;
    sink.host_event(r);
  }
}

Expected<std::uint64_t> DeviceIo::map(EventSink& sink, unsigned cpu, std::uint64_t hpa,
                                      std::uint64_t size, host::DmaDirection direction) {
  const std::uint64_t before_all = invalidations();
  const std::uint64_t before_domain = domain_invalidations();
  auto bus = dev_->api->map_single(cpu, hpa, size, direction, sink.now());
  if (!bus) return bus;
  // A flush-queue timer that fired inside map_single flushed before the new mapping.
  emit_invalidations(sink, before_all, before_domain, 0, 0);
  TraceRecord r = record(sink, TraceKind::kMap);
  r.address = *bus & ~kOffsetMask;
  r.size = pages_for(hpa, size) << model::kPageShift;
  r.hpa = hpa & ~kOffsetMask;
  r.permissions = permissions_for(direction);
  sink.host_event(r);
  return bus;
}

Status DeviceIo::unmap(EventSink& sink, unsigned cpu, std::uint64_t bus, std::uint64_t size) {
  const std::uint64_t before_all = invalidations();
  const std::uint64_t before_domain = domain_invalidations();
  const std::uint64_t iova = bus & ~kOffsetMask;
  const std::uint64_t bytes = pages_for(bus, size) << model::kPageShift;
  TraceRecord r = record(sink, TraceKind::kUnmap);
  r.address = iova;
  r.size = bytes;
  if (auto ok = dev_->api->unmap_single(cpu, bus, size, sink.now()); !ok) return ok;
  sink.host_event(r);
  emit_invalidations(sink, before_all, before_domain, iova, bytes);
  return {};
}

Expected<std::size_t> DeviceIo::map_sg(EventSink& sink, unsigned cpu, std::span<host::SgEntry> list,
                                       host::DmaDirection direction) {
  const std::uint64_t before_all = invalidations();
  const std::uint64_t before_domain = domain_invalidations();
  // map_sg overwrites dma_address; keep the element layout to describe the mappings.
  std::uint64_t hpas[64];
  std::uint64_t lengths[64];
  const std::size_t n = std::min<std::size_t>(list.size(), 64);
  for (std::size_t i = 0; i < n; ++i) {
    hpas[i] = list[i].hpa;
    lengths[i] = list[i].length;
  }
  auto segments = dev_->api->map_sg(cpu, list, direction, sink.now());
  if (!segments) return segments;
  emit_invalidations(sink, before_all, before_domain, 0, 0);
  std::uint64_t cursor = list[0].dma_address & ~kOffsetMask;
  for (std::size_t i = 0; i < n; ++i) {
    TraceRecord r = record(sink, TraceKind::kMap);
    r.address = cursor;
    r.size = pages_for(hpas[i], lengths[i]) << model::kPageShift;
    r.hpa = hpas[i] & ~kOffsetMask;
    r.permissions = permissions_for(direction);
    sink.host_event(r);
    cursor += r.size;
  }
  return segments;
}

Status DeviceIo::unmap_sg(EventSink& sink, unsigned cpu, std::span<const host::SgEntry> list) {
  const std::uint64_t before_all = invalidations();
  const std::uint64_t before_domain = domain_invalidations();
  TraceRecord r = record(sink, TraceKind::kUnmap);
  r.address = list[0].dma_address & ~kOffsetMask;
  std::uint64_t end = r.address;
  for (const auto& e : list) {
    if (e.dma_length == 0) break;
    end = std::max(end, (e.dma_address + e.dma_length + kOffsetMask) & ~kOffsetMask);
  }
  r.size = end - r.address;
  if (auto ok = dev_->api->unmap_sg(cpu, list, sink.now()); !ok) return ok;
  sink.host_event(r);
  emit_invalidations(sink, before_all, before_domain, r.address, r.size);
  return {};
}

void DeviceIo::dma(EventSink& sink, std::uint64_t bus, std::uint64_t length,
                   model::AccessType access) {
  while (length > 0) {
    const std::uint64_t to_page = model::kPageSize - (bus & kOffsetMask);
    const auto chunk =
        static_cast<std::uint32_t>(std::min<std::uint64_t>({length, to_page, request_bytes_}));
    sink.dma(dev_->sid, bus, chunk, access);
    bus += chunk;
    length -= chunk;
  }
}

}  // namespace vtdsim::workload
