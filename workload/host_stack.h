// The simulated host a workload runs on: a platform::Machine (memory, remapping units with
// device scopes), one VT-d driver per unit brought up through its registers, and per device a
// DMA domain with the streaming DMA API (IOVA allocator + strict or deferred flush queue), as
// Linux gives each device behind an IOMMU its own default domain. Also a bump allocator of
// host-physical buffer addresses for device buffers (their contents are never touched).
// Not modelled: interrupt remapping set-up (no MSIs are sent by the generators), passthrough.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "host/dma_api.h"
#include "host/vtd_driver.h"
#include "model/error.h"
#include "model/types.h"
#include "platform/machine.h"

namespace vtdsim::workload {

// [host] of a scenario.
struct HostConfig {
  host::UnmapPolicy policy = host::UnmapPolicy::kDeferred;
  unsigned flush_queue_size = 256;  // ring slots per CPU (power of two)
  // MODEL: 10 ms at 2 GHz, as Linux's IOVA_FQ_TIMEOUT.
  model::Cycle flush_timeout = 20'000'000;
  bool superpages = true;
  unsigned dma_mask_bits = 64;  // the devices' DMA mask (IOVA limit)
  bool forcedac = false;        // skip the first 32-bit IOVA attempt
  bool queued_invalidation = true;
  unsigned guest_address_width = 48;
};

// Host-physical buffer addresses from RAM outside the host-software frame region: first
// [16 MiB, low RAM end - host memory), then RAM above 4 GiB.
class BufferPool {
 public:
  explicit BufferPool(const platform::MachineConfig& machine);
  // `bytes` rounded up to 4 KiB, aligned to `align` (a power of two >= 4 KiB).
  Expected<std::uint64_t> allocate(std::uint64_t bytes, std::uint64_t align = model::kPageSize);
  std::uint64_t bytes_allocated() const { return allocated_; }

 private:
  struct Region {
    std::uint64_t next;
    std::uint64_t end;
  };
  std::vector<Region> regions_;
  std::uint64_t allocated_ = 0;
};

// One device's DMA domain on its unit.
struct DeviceDma {
  model::SourceId sid{};
  std::size_t unit_index = 0;
  host::VtdDriver* driver = nullptr;
  std::uint16_t did = 0;
  std::unique_ptr<host::DmaApi> api;
};

class HostStack {
 public:
  static Expected<std::unique_ptr<HostStack>> create(const platform::MachineConfig& machine,
                                                     const HostConfig& host);
  HostStack(const HostStack&) = delete;
  HostStack& operator=(const HostStack&) = delete;

  platform::Machine& machine() { return *machine_; }
  const HostConfig& config() const { return config_; }
  BufferPool& buffers() { return buffers_; }
  std::size_t unit_count() const { return drivers_.size(); }
  host::VtdDriver& driver(std::size_t unit) { return *drivers_.at(unit); }

  // The device's domain, created and attached (with its DmaApi) on first use. kNotFound when
  // no unit's scope covers sid.
  Expected<DeviceDma*> device(model::SourceId sid);
  // Devices in the order they were first used.
  const std::vector<std::unique_ptr<DeviceDma>>& devices() const { return devices_; }

  // Drains every device's flush queue (end of run).
  Status flush_all(model::Cycle now);

 private:
  HostStack(std::unique_ptr<platform::Machine> machine, const HostConfig& host);

  std::unique_ptr<platform::Machine> machine_;
  HostConfig config_;
  BufferPool buffers_;
  std::vector<std::unique_ptr<host::VtdDriver>> drivers_;
  std::vector<std::unique_ptr<DeviceDma>> devices_;
  std::map<std::uint16_t, DeviceDma*> by_sid_;
};

}  // namespace vtdsim::workload
