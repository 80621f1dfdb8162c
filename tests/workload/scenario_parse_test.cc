// Scenario files: every section read into the structs; unknown keys, bad values and wrong
// types are errors naming the file, line and key path, exactly.
#include "workload/scenario.h"

#include <gtest/gtest.h>

namespace vtdsim::workload {
namespace {

std::string error_of(const char* text) {
  auto s = parse_scenario(text, "t.toml");
  EXPECT_FALSE(s.has_value());
  return s ? std::string() : s.error().message;
}

TEST(ScenarioParse, ReadsEverySection) {
  auto s = parse_scenario(R"(
name = "x"
[machine]
address_width = 40
ram_mib = 512
cpus = 2
[[unit]]
name = "nvme-unit"
scope = ["01:00.0", "02-03"]
iotlb = { sets = 4, ways = 2 }
[[unit]]
include_pci_all = true
[host]
policy = "strict"
flush_queue_size = 64
superpages = false
dma_mask_bits = 48
[workload]
kind = "random"
footprint_mib = 8
distribution = "zipf"
[run]
records = 10
warmup = 5
seed = 9
clock_ghz = 1.5
offered_gbps = 0
arrival = "trace"
)",
                          "t.toml");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->name, "x");
  EXPECT_EQ(s->machine.address_width, 40u);
  EXPECT_EQ(s->machine.ram_size, 512ull << 20);
  EXPECT_EQ(s->machine.cpus, 2u);
  ASSERT_EQ(s->machine.units.size(), 2u);
  EXPECT_EQ(s->machine.units[0].name, "nvme-unit");
  ASSERT_EQ(s->machine.units[0].scope.size(), 2u);
  EXPECT_EQ(s->machine.units[0].scope[0].source_id, model::SourceId::make(1, 0, 0));
  EXPECT_EQ(s->machine.units[0].scope[1].first_bus, 2u);
  EXPECT_EQ(s->machine.units[0].scope[1].last_bus, 3u);
  EXPECT_EQ(s->machine.units[0].unit.iotlb.sets, 4u);
  EXPECT_EQ(s->machine.units[0].unit.host_address_width, 40u);
  EXPECT_EQ(s->machine.units[1].name, "unit1");
  EXPECT_TRUE(s->machine.units[1].include_pci_all);
  EXPECT_EQ(s->host.policy, host::UnmapPolicy::kStrict);
  EXPECT_EQ(s->host.flush_queue_size, 64u);
  EXPECT_FALSE(s->host.superpages);
  EXPECT_EQ(s->host.dma_mask_bits, 48u);
  ASSERT_TRUE(s->workload.has_value());
  EXPECT_EQ(s->workload->kind(), "random");
  const auto& r = std::get<RandomConfig>(s->workload->knobs);
  EXPECT_EQ(r.footprint_mib, 8u);
  EXPECT_TRUE(r.zipf);
  EXPECT_EQ(s->run.records, 10u);
  EXPECT_EQ(s->run.warmup, 5u);
  EXPECT_EQ(s->run.seed, 9u);
  EXPECT_DOUBLE_EQ(s->run.clock_ghz, 1.5);
  EXPECT_DOUBLE_EQ(s->run.offered_gbps, 0.0);
  EXPECT_TRUE(s->run.trace_time);
}

TEST(ScenarioParse, DefaultsGiveOneCatchAllUnit) {
  auto s = parse_scenario("", "empty.toml");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->name, "empty");
  ASSERT_EQ(s->machine.units.size(), 1u);
  EXPECT_TRUE(s->machine.units[0].include_pci_all);
  EXPECT_FALSE(s->workload.has_value());
  EXPECT_EQ(s->host.policy, host::UnmapPolicy::kDeferred);
}

TEST(ScenarioParse, UnknownKeysNameTheirPath) {
  EXPECT_EQ(error_of("[machine]\ncpus = 2\nram = 5\n"), "t.toml:3: unknown key 'machine.ram'");
  EXPECT_EQ(error_of("[run]\nrecords = 5\n[runn]\nx = 1\n"), "t.toml:3: unknown key 'runn'");
  EXPECT_EQ(error_of("[workload]\nkind = \"nic_rx\"\nqueue = 4\n"),
            "t.toml:3: unknown key 'workload.queue'");
  EXPECT_EQ(error_of("[[unit]]\ninclude_pci_all = true\niotlb = { sets = 4, wayz = 2 }\n"),
            "t.toml:3: unknown key 'unit[0].iotlb.wayz'");
  EXPECT_EQ(error_of("[workload]\nkind = \"mix\"\n[[workload.device]]\nkind = \"stream\"\n"
                     "[[workload.device]]\nkind = \"nvme\"\nqd = 3\n"),
            "t.toml:7: unknown key 'workload.device[1].qd'");
}

TEST(ScenarioParse, BadValuesNameTheirPath) {
  EXPECT_EQ(error_of("[host]\npolicy = \"lazy\"\n"),
            "t.toml:2: host.policy: 'lazy' is not one of strict, deferred");
  EXPECT_EQ(error_of("[host]\nflush_queue_size = 100\n"),
            "t.toml:2: host.flush_queue_size: 100 is not a power of two");
  EXPECT_EQ(error_of("[run]\nrecords = 0\n"),
            "t.toml:2: run.records: 0 is outside [1, 1099511627776]");
  EXPECT_EQ(error_of("[workload]\nkind = \"nic_rx\"\nqueues = 65\n"),
            "t.toml:3: workload.queues: 65 is outside [1, 64]");
  EXPECT_EQ(error_of("[workload]\nkind = \"disk\"\n"),
            "t.toml:2: workload.kind: 'disk' is not one of nic_rx, nic_tx, nvme, stream, random, "
            "mix");
  EXPECT_EQ(error_of("[workload]\nqueues = 2\n"),
            "t.toml:1: workload: missing key 'kind' (one of nic_rx, nic_tx, nvme, stream, random, "
            "mix)");
  EXPECT_EQ(error_of("[workload]\nkind = \"nic_rx\"\ndevice = \"3:0\"\n"),
            "t.toml:3: workload.device: source-id: '3:0' is not bb:dd.f");
  EXPECT_EQ(error_of("[workload]\nkind = \"nic_rx\"\nmtu = 9000\n"),
            "t.toml:3: workload.mtu: a 9600-byte packet stride does not fit in 1 page(s) (raise "
            "buffer_pages)");
  EXPECT_EQ(error_of("[[unit]]\nname = \"a\"\n"),
            "t.toml:1: unit[0]: give either include_pci_all = true or a scope");
  EXPECT_EQ(error_of("[[unit]]\nscope = [\"zz\"]\n"),
            "t.toml:2: unit[0].scope: 'zz' is neither bb:dd.f nor a bus range bb-bb");
}

TEST(ScenarioParse, WrongTypesNameTheirPath) {
  EXPECT_EQ(error_of("[machine]\ncpus = \"four\"\n"),
            "t.toml:2: machine.cpus: expected an integer, got a string");
  EXPECT_EQ(error_of("[host]\nsuperpages = 1\n"),
            "t.toml:2: host.superpages: expected a boolean, got an integer");
  EXPECT_EQ(error_of("machine = 3\n"), "t.toml:1: machine: expected a table, got an integer");
  EXPECT_EQ(error_of("[run]\nclock_ghz = \"fast\"\n"),
            "t.toml:2: run.clock_ghz: expected a number, got a string");
}

TEST(ScenarioParse, MachineErrorsNameTheFile) {
  EXPECT_EQ(
      error_of("[machine]\nram_mib = 64\nhost_memory_mib = 128\n").rfind("t.toml: machine: ", 0),
      0u);
}

}  // namespace
}  // namespace vtdsim::workload
