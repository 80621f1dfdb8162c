// Test rig for the passthrough layer: a machine with one catch-all remapping unit and NICs on
// the root bus (00:03.0 and 00:04.0 in groups of their own; 00:05.0 NIC + 00:05.1 endpoint, a
// multi-function device without ACS, sharing a group), the host kernel booted on it, VMs, and
// a guest NIC driver that programs the device only through guest MMIO and guest memory.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "iommu/registers.h"
#include "passthrough/guest_mmio.h"
#include "passthrough/host_kernel.h"
#include "passthrough/kvm_vm.h"
#include "pci/nic.h"
#include "platform/machine.h"

namespace vtdsim::passthrough::test_support {

inline constexpr std::uint64_t kGuestRam = 8ull << 20;
inline constexpr std::uint64_t kGuestBar0 = 0xE000'0000;
inline constexpr std::uint64_t kGuestBar3 = 0xE001'0000;

inline platform::MachineConfig rig_config(bool posted = true) {
  platform::MachineConfig c;
  c.address_width = 39;
  c.ram_size = 1ull << 30;
  c.host_memory_size = 128ull << 20;
  c.cpus = 4;
  platform::RemappingUnitConfig u;
  u.name = "dmar0";
  u.unit.host_address_width = 39;
  u.unit.mgaw = 39;
  u.unit.posted_interrupts = posted;
  u.include_pci_all = true;
  c.units.push_back(u);
  using platform::NodeKind;
  using platform::PciNode;
  c.pci.push_back(PciNode::device("nic0", NodeKind::kNic, 3));
  c.pci.push_back(PciNode::device("nic1", NodeKind::kNic, 4));
  c.pci.push_back(PciNode::device("nic2", NodeKind::kNic, 5, 0));
  c.pci.push_back(PciNode::device("peer", NodeKind::kEndpoint, 5, 1));
  return c;
}

struct Rig {
  explicit Rig(bool posted = true) {
    auto m = platform::Machine::create(rig_config(posted));
    EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().message);
    machine = std::move(*m);
    auto k = HostKernel::boot(*machine);
    EXPECT_TRUE(k.has_value()) << (k ? "" : k.error().message);
    kernel = std::move(*k);
  }
  std::unique_ptr<KvmVm> make_vm(std::vector<std::uint32_t> host_cpus = {2, 3}) {
    VmConfig c;
    c.vcpus = static_cast<unsigned>(host_cpus.size());
    c.ram_bytes = kGuestRam;
    c.host_cpus = std::move(host_cpus);
    auto vm = KvmVm::create(machine->memory(), machine->frame_allocator(), c);
    EXPECT_TRUE(vm.has_value()) << (vm ? "" : vm.error().message);
    return std::move(*vm);
  }
  pci::Nic& nic(const char* name) { return *machine->device<pci::Nic>(name); }
  iommu::RemappingUnit& unit() { return machine->unit(0); }
  // Fault recording register 0 (lo, hi) of the unit.
  std::pair<std::uint64_t, std::uint64_t> fault_record(unsigned i = 0) {
    const std::uint32_t fro = unit().config().fro * 16;
    return {unit().mmio_read(fro + 16 * i, 8), unit().mmio_read(fro + 16 * i + 8, 8)};
  }

  std::unique_ptr<platform::Machine> machine;
  std::unique_ptr<HostKernel> kernel;
};

// A guest driver for the NIC: RX queue 0, descriptors in guest memory, MSI-X vector 0 (RX q0).
struct GuestNicDriver {
  KvmVm& vm;
  GuestMmio& mmio;
  std::uint64_t bar0;
  std::uint64_t bar3;

  void w32(std::uint64_t off, std::uint64_t v) {
    ASSERT_TRUE(mmio.guest_mmio_write(bar0 + off, 4, v));
  }
  void w64(std::uint64_t off, std::uint64_t v) {
    ASSERT_TRUE(mmio.guest_mmio_write(bar0 + off, 8, v));
  }
  std::uint64_t r32(std::uint64_t off) {
    std::uint64_t v = 0;
    EXPECT_TRUE(mmio.guest_mmio_read(bar0 + off, 4, &v));
    return v;
  }
  void setup_rx(std::uint64_t ring, const std::vector<std::uint64_t>& buffers) {
    namespace r = pci::nic_regs;
    for (std::size_t i = 0; i < buffers.size(); ++i) {
      const std::array<std::uint64_t, 2> d{buffers[i], 0};
      ASSERT_TRUE(vm.write_guest(ring + 16 * i, std::as_bytes(std::span(d))));
    }
    w32(r::kRxBufSize, 2048);
    w64(r::kRxQueues + r::kQBase, ring);
    w32(r::kRxQueues + r::kQLen, 16);
    w32(r::kRxQueues + r::kQTail, buffers.size());
    w32(r::kRxQueues + r::kQCtrl, 1);
    w32(r::kCtrl, 1);
  }
  // MSI-X table entry through the guest view of BAR3 (table at offset 0).
  void msix_entry(unsigned v, std::uint32_t dest_apic, std::uint8_t vector, bool masked) {
    const std::uint64_t e = bar3 + 16ull * v;
    ASSERT_TRUE(mmio.guest_mmio_write(e + 0, 4, 0xFEE0'0000u | (dest_apic << 12)));
    ASSERT_TRUE(mmio.guest_mmio_write(e + 4, 4, 0));
    ASSERT_TRUE(mmio.guest_mmio_write(e + 8, 4, vector));
    ASSERT_TRUE(mmio.guest_mmio_write(e + 12, 4, masked ? 1 : 0));
  }
  std::array<std::uint64_t, 2> descriptor(std::uint64_t ring, unsigned i) {
    std::array<std::uint64_t, 2> d{};
    EXPECT_TRUE(vm.read_guest(ring + 16 * i, std::as_writable_bytes(std::span(d))));
    return d;
  }
};

inline std::vector<std::byte> packet(std::size_t n, std::uint8_t seed) {
  std::vector<std::byte> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::byte>(seed + i);
  return p;
}

}  // namespace vtdsim::passthrough::test_support
