// The workload of a scenario: which generator with which knobs, read from [workload]
// (kind = "nic_rx" | "nic_tx" | "nvme" | "stream" | "random" | "mix"), and the factory that
// builds it on a HostStack. kind = "mix" runs several devices sharing the machine's units:
// each [[workload.device]] is a workload table of its own (any kind but mix) with an extra
// knob `weight` (default 1): the mix runs `weight` steps of each device in turn.
// Knobs of each kind: gen_nic_rx.h, gen_nic_tx.h, gen_nvme.h, gen_stream.h, gen_random.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "workload/gen_nic_rx.h"
#include "workload/gen_nic_tx.h"
#include "workload/gen_nvme.h"
#include "workload/gen_random.h"
#include "workload/gen_stream.h"
#include "workload/generator.h"

namespace vtdsim::workload {

struct WorkloadSpec;

struct MixConfig {
  std::vector<WorkloadSpec> devices;
  std::vector<unsigned> weights;
};

struct WorkloadSpec {
  std::variant<NicRxConfig, NicTxConfig, NvmeGenConfig, StreamConfig, RandomConfig, MixConfig>
      knobs;
  std::string kind() const;
};

// Reads a [workload] table (kind and knobs); finishes it.
Expected<WorkloadSpec> read_workload(ConfigTable& table);
// Builds the generator; device domains are created on the stack. `seed` comes from [run].
Expected<std::unique_ptr<Generator>> make_generator(const WorkloadSpec& spec, HostStack& stack,
                                                    std::uint64_t seed);

}  // namespace vtdsim::workload
