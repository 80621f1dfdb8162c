// PCI layer hot paths against an offset translator: DMA port transfers (split + translate +
// copy) and NIC RX packet delivery with descriptor fetch and write-back.
#include <benchmark/benchmark.h>

#include <array>
#include <vector>

#include "pci/dma_port.h"
#include "pci/nic.h"

namespace {

using namespace vtdsim;

class OffsetTranslator : public model::DmaTranslator {
 public:
  model::Translation translate(const model::DmaRequest& req) override {
    model::Translation t;
    t.status = model::TranslationStatus::kOk;
    t.hpa = req.address + 0x1000'0000;
    t.page_size = 4096;
    t.permissions = {true, true, false};
    t.completion = req.arrival + 2;
    return t;
  }
};

class NullMsi : public pci::MsiTarget {
 public:
  void deliver_msi(model::SourceId, std::uint64_t, std::uint32_t, model::Cycle) override {}
};

void BM_DmaPortWrite(benchmark::State& state) {
  model::PhysicalMemory memory(40);
  OffsetTranslator translator;
  pci::DmaPort port;
  port.connect(translator, memory, nullptr);
  port.set_bus_master(true);
  std::vector<std::byte> data(static_cast<std::size_t>(state.range(0)), std::byte{1});
  std::uint64_t address = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(port.write(address, data));
    address = (address + data.size()) & 0xFFFFFF;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_DmaPortWrite)->Arg(64)->Arg(4096)->Arg(65536);

void BM_NicRxPacket(benchmark::State& state) {
  model::PhysicalMemory memory(40);
  OffsetTranslator translator;
  NullMsi msi;
  pci::Nic nic;
  nic.connect(translator, memory, &msi);
  nic.config_write(pci::cfg::kCommand, 2, 0x6);
  namespace r = pci::nic_regs;
  nic.mmio_write(0, r::kCtrl, 4, 1);
  nic.mmio_write(0, r::kRxQueues + r::kQBase, 8, 0x100000);
  nic.mmio_write(0, r::kRxQueues + r::kQLen, 4, 256);
  nic.mmio_write(0, r::kRxQueues + r::kQTail + 4, 4, 1);
  for (unsigned i = 0; i < 256; ++i) {
    (void)memory.write<std::uint64_t>(0x100000 + 16 * i + 0x1000'0000, 0x200000 + 2048ull * i);
  }
  std::vector<std::byte> packet(1500, std::byte{7});
  std::uint32_t tail = 255;
  nic.mmio_write(0, r::kRxQueues + r::kQTail, 4, tail);
  for (auto _ : state) {
    benchmark::DoNotOptimize(nic.inject_rx_packet(0, packet));
    tail = (tail + 1) % 256;  // the driver recycles one descriptor per packet
    nic.mmio_write(0, r::kRxQueues + r::kQTail, 4, tail);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_NicRxPacket);

}  // namespace
