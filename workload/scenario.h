// Scenario files: one TOML file describing a whole experiment, read into plain structs.
//
//   name = "nic_rx_strict"          # optional (default: the file's stem)
//   description = "..."             # optional
//   [machine]  address_width = 46   # host physical address bits
//              ram_mib = 4096, host_memory_mib = 64 (frames for host page tables), cpus = 4
//   [[unit]]   name = "drhd0"
//              include_pci_all = true          # or: scope = ["03:00.0", "02-04"]
//                                              #   (endpoints bb:dd.f, bus ranges bb-bb, hex)
//              ...every UnitConfig key (unit_config_toml.h): nd, mgaw, iotlb = {sets, ways,
//              policy}, pwc_l2..., timing = {...}
//              (no [[unit]]: one INCLUDE_PCI_ALL unit with default features)
//   [host]     policy = "deferred" | "strict", flush_queue_size = 256 (per-CPU ring slots),
//              flush_timeout_cycles = 20000000, superpages = true, dma_mask_bits = 64,
//              forcedac = false, queued_invalidation = true, guest_address_width = 48
//   [workload] kind = ... and its knobs (generators.h); optional for replay-only scenarios
//   [run]      records = 100000 (DMA requests measured), warmup = 0 (requests run first and
//              excluded from the statistics), seed = 1, clock_ghz = 2.0 (unit clock, for
//              Gbit/s), offered_gbps = 100 (device DMA rate cap; 0: none), outstanding = 64
//              (requests in flight before the device waits for a completion),
//              arrival = "model" | "trace" (replay: arrival cycles from the trace's times)
//
// Every unknown key, wrong type and out-of-range value is an error "file:line: key.path: why".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/error.h"
#include "platform/machine_config.h"
#include "workload/generators.h"
#include "workload/host_stack.h"

namespace vtdsim::workload {

struct RunConfig {
  std::uint64_t records = 100'000;
  std::uint64_t warmup = 0;
  std::uint64_t seed = 1;
  double clock_ghz = 2.0;
  double offered_gbps = 100.0;
  unsigned outstanding = 64;
  bool trace_time = false;
};

struct Scenario {
  std::string source;  // the file (or name given to parse_scenario)
  std::string name;
  std::string description;
  platform::MachineConfig machine;
  HostConfig host;
  std::optional<WorkloadSpec> workload;
  RunConfig run;
};

Expected<Scenario> parse_scenario(std::string_view text, const std::string& source);
Expected<Scenario> load_scenario(const std::string& path);

}  // namespace vtdsim::workload
