// Legacy KVM assignment end to end: the VM's domain holds every memslot GPA→HPA (and follows
// memslot changes), a guest driver programs the NIC through its mapped BARs, packets land in
// guest memory, the host MSI-X handler injects the routed MSI, DMA outside guest memory faults
// and writes nothing, and misuse is refused without side effects.
#include <gtest/gtest.h>

#include "passthrough/kvm_assign.h"
#include "tests/passthrough/pt_rig.h"

namespace vtdsim::passthrough {
namespace {

using test_support::GuestNicDriver;
using test_support::kGuestBar0;
using test_support::packet;
using test_support::Rig;

constexpr std::uint64_t kRing = 0x10000;
constexpr std::uint64_t kBuf = 0x30000;

TEST(KvmAssign, PacketsLandInGuestMemoryAndMsixIsInjectedThroughTheRoute) {
  Rig rig;
  auto vm = rig.make_vm();
  KvmDeviceAssignment assign(*vm, *rig.kernel);
  pci::Nic& nic = rig.nic("nic0");
  rig.kernel->bind(nic, DriverBinding::kPciStub);
  ASSERT_TRUE(assign.assign_device(nic));
  const std::uint16_t did = *assign.domain(0);
  const auto l = rig.kernel->dma_driver(0).page_table(did)->lookup(0x212345);
  EXPECT_TRUE(l.present);
  EXPECT_EQ(l.hpa, vm->gpa_to_hpa(0x212345).value());
  EXPECT_EQ(l.page_size, 2ull << 20);
  ASSERT_TRUE(assign.map_bar(nic, 0, kGuestBar0));
  ASSERT_TRUE(vm->set_msi_route(40, MsiRoute{0xFEE0'1000, 0x47}));
  const std::array<std::pair<unsigned, std::uint32_t>, 1> entries{{{0, 40}}};
  ASSERT_TRUE(assign.assign_msix(nic, entries));
  EXPECT_TRUE(nic.msix_enabled());

  GuestNicDriver drv{*vm, assign, kGuestBar0, 0};
  drv.setup_rx(kRing, {kBuf});
  const auto p = packet(200, 5);
  ASSERT_EQ(nic.inject_rx_packet(0, p).value(), pci::RxOutcome::kDelivered);
  std::vector<std::byte> got(200);
  ASSERT_TRUE(rig.machine->memory().read_bytes(vm->gpa_to_hpa(kBuf).value(), got));
  EXPECT_EQ(got, p);
  EXPECT_TRUE(vm->vcpu(1).apic().pending(0x47));
  EXPECT_FALSE(vm->vcpu(0).apic().pending(0x47));
  EXPECT_EQ(assign.stats().msix_injections, 1u);
  EXPECT_EQ(vm->stats().msi_injected, 1u);
}

TEST(KvmAssign, MemslotChangesAreRemappedAndDmaOutsideFaults) {
  Rig rig;
  auto vm = rig.make_vm();
  KvmDeviceAssignment assign(*vm, *rig.kernel);
  pci::Nic& nic = rig.nic("nic0");
  rig.kernel->bind(nic, DriverBinding::kPciStub);
  ASSERT_TRUE(assign.assign_device(nic));
  ASSERT_TRUE(assign.map_bar(nic, 0, kGuestBar0));
  const std::uint64_t extra = rig.machine->frame_allocator().allocate(4).value();
  ASSERT_TRUE(vm->set_memslot(Memslot{1, 0x0100'0000, 0x4000, extra, false}));
  EXPECT_EQ(assign.stats().slots_mapped, 2u);
  GuestNicDriver drv{*vm, assign, kGuestBar0, 0};
  drv.setup_rx(kRing, {0x0100'0000, 0x0100'0000});
  ASSERT_EQ(nic.inject_rx_packet(0, packet(16, 1)).value(), pci::RxOutcome::kDelivered);
  EXPECT_EQ(rig.machine->memory().read<std::uint8_t>(extra).value(), 1u);
  ASSERT_TRUE(vm->set_memslot(Memslot{1, 0, 0, 0, false}));  // deleted: unmapped at once
  EXPECT_EQ(assign.stats().slots_unmapped, 1u);
  ASSERT_EQ(nic.inject_rx_packet(0, packet(16, 9)).value(), pci::RxOutcome::kDmaError);
  EXPECT_EQ(rig.machine->memory().read<std::uint8_t>(extra).value(), 1u);
  const auto [lo, hi] = rig.fault_record();
  EXPECT_EQ(hi & 0xFFFF, nic.requester_id().raw);
  EXPECT_EQ(lo & ~std::uint64_t{0xFFF}, 0x0100'0000u);
}

TEST(KvmAssign, MisuseIsRefusedAndChangesNothing) {
  Rig rig;
  auto vm = rig.make_vm();
  KvmDeviceAssignment assign(*vm, *rig.kernel);
  pci::Nic& nic = rig.nic("nic0");
  auto r = assign.assign_device(nic);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kBusy);
  EXPECT_EQ(r.error().message, "device 00:03.0 must be bound to pci-stub (bound to none)");
  EXPECT_FALSE(assign.domain(0).has_value());
  rig.kernel->bind(nic, DriverBinding::kPciStub);
  ASSERT_TRUE(assign.assign_device(nic));
  EXPECT_EQ(assign.assign_device(nic).error().code, ErrorCode::kAlreadyExists);
  const std::array<std::pair<unsigned, std::uint32_t>, 1> bad_entry{{{7, 40}}};
  ASSERT_TRUE(vm->set_msi_route(40, MsiRoute{0xFEE0'0000, 0x30}));
  EXPECT_EQ(assign.assign_msix(nic, bad_entry).error().code, ErrorCode::kInvalidArgument);
  const std::array<std::pair<unsigned, std::uint32_t>, 1> no_route{{{0, 99}}};
  EXPECT_EQ(assign.assign_msix(nic, no_route).error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(nic.msix_enabled());
  EXPECT_EQ(rig.kernel->stats().irqs_requested, 0u);
  EXPECT_EQ(assign.deassign_device(rig.nic("nic1")).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace vtdsim::passthrough
