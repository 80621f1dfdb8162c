// Passthrough costs in the model: VFIO MAP_DMA + UNMAP_DMA of a 2 MiB guest range (strict
// type1: map, unmap, page-selective IOTLB invalidation through queued invalidation), and one
// NIC RX packet with its MSI-X interrupt delivered to a vCPU, remapped (host handler → eventfd
// → irqfd) or posted (PIR + notification + sync).
#include <benchmark/benchmark.h>

#include <array>
#include <cstdlib>

#include "passthrough/kvm_vfio.h"
#include "passthrough/vmm.h"
#include "pci/nic.h"
#include "platform/machine.h"

namespace {

using namespace vtdsim;
using namespace vtdsim::passthrough;

template <class T>
T must(Expected<T> v) {
  if (!v) std::abort();
  return std::move(*v);
}

struct World {
  explicit World(bool posted) {
    platform::MachineConfig c;
    c.address_width = 39;
    c.ram_size = 1ull << 30;
    c.host_memory_size = 128ull << 20;
    platform::RemappingUnitConfig u;
    u.name = "dmar0";
    u.unit.host_address_width = 39;
    u.unit.mgaw = 39;
    u.include_pci_all = true;
    c.units.push_back(u);
    c.pci.push_back(platform::PciNode::device("nic0", platform::NodeKind::kNic, 3));
    machine = must(platform::Machine::create(c));
    kernel = must(HostKernel::boot(*machine));
    vfio = std::make_unique<Vfio>(*kernel);
    VmConfig vc;
    vc.vcpus = 2;
    vc.ram_bytes = 8ull << 20;
    vc.host_cpus = {2, 3};
    vm = must(KvmVm::create(machine->memory(), machine->frame_allocator(), vc));
    nic = machine->device<pci::Nic>("nic0");
    if (!vfio->bind(*nic)) std::abort();
    if (posted) kvm_vfio = std::make_unique<KvmVfioDevice>(*vm, *kernel);
    VfioPciOptions o;
    o.host = "00:03.0";
    o.kvm_vfio = kvm_vfio.get();
    dev = must(VfioPciDevice::realize(*vm, *vfio, o));
  }
  void guest_nic_setup() {
    namespace r = pci::nic_regs;
    dev->guest_config_write(0x10, 4, 0xE0000000u);
    dev->guest_config_write(0x14, 4, 0);
    dev->guest_config_write(0x1C, 4, 0xE0010000u);
    dev->guest_config_write(0x04, 2, 0x6);
    dev->guest_config_write(*nic->msix_offset() + 2, 2, 0x8000);
    const std::uint64_t bar0 = 0xE0000000, bar3 = 0xE0010000;
    dev->guest_mmio_write(bar3, 4, 0xFEE01000);
    dev->guest_mmio_write(bar3 + 4, 4, 0);
    dev->guest_mmio_write(bar3 + 8, 4, 0x45);
    dev->guest_mmio_write(bar3 + 12, 4, 0);
    dev->guest_mmio_write(bar0 + r::kRxBufSize, 4, 2048);
    dev->guest_mmio_write(bar0 + r::kRxQueues + r::kQBase, 8, 0x10000);
    dev->guest_mmio_write(bar0 + r::kRxQueues + r::kQLen, 4, 256);
    dev->guest_mmio_write(bar0 + r::kRxQueues + r::kQCtrl, 4, 1);
    dev->guest_mmio_write(bar0 + r::kCtrl, 4, 1);
  }
  // Gives the device all descriptors again (each pointing at one of 8 buffers).
  void refill(std::uint32_t tail) {
    for (unsigned i = 0; i < 256; ++i) {
      const std::array<std::uint64_t, 2> d{0x100000 + 0x800ull * (i % 8), 0};
      (void)vm->write_guest(0x10000 + 16ull * i, std::as_bytes(std::span(d)));
    }
    dev->guest_mmio_write(0xE0000000 + pci::nic_regs::kRxQueues + pci::nic_regs::kQTail, 4, tail);
  }

  std::unique_ptr<platform::Machine> machine;
  std::unique_ptr<HostKernel> kernel;
  std::unique_ptr<Vfio> vfio;
  std::unique_ptr<KvmVm> vm;
  pci::Nic* nic = nullptr;
  std::unique_ptr<KvmVfioDevice> kvm_vfio;
  std::unique_ptr<VfioPciDevice> dev;
};

void BM_MapUnmap2M(benchmark::State& state) {
  World w(false);
  const std::uint64_t host = must(w.machine->frame_allocator().allocate(512, 512));
  for (auto _ : state) {
    if (!w.dev->container().map_dma({3, host, 0x4000'0000, 2ull << 20})) std::abort();
    benchmark::DoNotOptimize(w.dev->container().unmap_dma({0x4000'0000, 2ull << 20}));
  }
}
BENCHMARK(BM_MapUnmap2M);

void BM_RxPacketWithInterrupt(benchmark::State& state) {
  World w(state.range(0) != 0);
  w.guest_nic_setup();
  const std::array<std::byte, 64> pkt{};
  std::uint32_t tail = 0;
  unsigned used = 0;
  for (auto _ : state) {
    if (used == 0) {
      state.PauseTiming();
      tail = (tail + 255) % 256;
      w.refill(tail);
      used = 255;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(w.nic->inject_rx_packet(0, pkt));
    --used;
  }
  state.SetLabel(state.range(0) != 0 ? "posted" : "remapped");
  state.counters["delivered_per_iter"] =
      static_cast<double>(w.nic->stats().rx_packets) / static_cast<double>(state.iterations());
  state.counters["vcpu_irqs_per_iter"] =
      static_cast<double>(w.vm->stats().msi_injected + w.vm->stats().pir_vectors_synced) /
      static_cast<double>(state.iterations());
}
BENCHMARK(BM_RxPacketWithInterrupt)->Arg(0)->Arg(1);

}  // namespace
