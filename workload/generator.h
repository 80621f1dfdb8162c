// What a workload generator is: a state machine that, step by step, drives the real host DMA
// API of one or more devices (map/unmap through the IOVA allocator, the VT-d driver and the
// flush queue) and emits the device's DMA requests, plus map/unmap/invalidate events so a run
// can be written as a trace. The run engine (runner.h) implements the EventSink: it stamps
// arrival cycles, translates each request at once (so a DMA always happens before the unmap
// that follows it), and collects statistics.
// Contract: generators are deterministic given their seed; they use workload::Prng only.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "host/dma_api.h"
#include "model/error.h"
#include "model/types.h"
#include "workload/config.h"
#include "workload/host_stack.h"
#include "workload/trace.h"

namespace vtdsim::workload {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // The cycle the next request will arrive at (what host calls pass as `now`).
  virtual model::Cycle now() const = 0;
  // One DMA request of `size` bytes (1..4096, not crossing a 4 KiB boundary).
  virtual void dma(model::SourceId sid, std::uint64_t address, std::uint32_t size,
                   model::AccessType access) = 0;
  // A host event (kMap, kUnmap, kInvalidate), for traces.
  virtual void host_event(const TraceRecord& record) = 0;
};

class Generator {
 public:
  virtual ~Generator() = default;
  // Set-up mappings (rings, pools, footprints), once before the first step.
  virtual Status start(EventSink& sink) = 0;
  // One unit of work (a packet, an I/O, a request), emitting its events into `sink`.
  virtual Status step(EventSink& sink) = 0;
  virtual std::string describe() const = 0;
};

// Knobs every generator has:
//   device        = "bb:dd.f"  the device's source-id (each generator has its own default)
//   request_bytes = 4096       largest single translation request; device transfers are split
//                              at 4 KiB boundaries and into requests of at most this size
//                              (256 models one IOTLB lookup per 256-byte TLP)
struct DeviceKnobs {
  model::SourceId device{};
  unsigned request_bytes = 4096;
};
Status read_device_knobs(ConfigTable& table, DeviceKnobs& knobs);

// The size of a trace kInvalidate record that stands for a whole-domain invalidation (a
// deferred flush-queue flush): [0, 2^63) is wider than any CAP.MAMV block.
inline constexpr std::uint64_t kDomainInvalidationSize = std::uint64_t{1} << 63;

// A device's DMA as a generator uses it: host calls that also emit trace events (map, unmap,
// and the invalidations the policy issued during the call), and device DMA split into
// requests of at most `request_bytes` that do not cross a 4 KiB boundary.
class DeviceIo {
 public:
  DeviceIo(DeviceDma& device, unsigned request_bytes);

  model::SourceId sid() const { return dev_->sid; }
  host::DmaApi& api() { return *dev_->api; }

  Expected<std::uint64_t> map(EventSink& sink, unsigned cpu, std::uint64_t hpa, std::uint64_t size,
                              host::DmaDirection direction);
  Status unmap(EventSink& sink, unsigned cpu, std::uint64_t bus, std::uint64_t size);
  Expected<std::size_t> map_sg(EventSink& sink, unsigned cpu, std::span<host::SgEntry> list,
                               host::DmaDirection direction);
  Status unmap_sg(EventSink& sink, unsigned cpu, std::span<const host::SgEntry> list);
  // The device reads or writes [bus, bus + length).
  void dma(EventSink& sink, std::uint64_t bus, std::uint64_t length, model::AccessType access);

 private:
  std::uint64_t invalidations() const;
  std::uint64_t domain_invalidations() const;
  void emit_invalidations(EventSink& sink, std::uint64_t before_all, std::uint64_t before_domain,
                          std::uint64_t iova, std::uint64_t size);
  TraceRecord record(EventSink& sink, TraceKind kind) const;

  DeviceDma* dev_;
  unsigned request_bytes_;
};

}  // namespace vtdsim::workload
