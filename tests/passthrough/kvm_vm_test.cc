#include "passthrough/kvm_vm.h"

#include <gtest/gtest.h>

#include "irq_remap/irte.h"
#include "irq_remap/posted.h"

namespace vtdsim::passthrough {
namespace {

class KvmVmTest : public ::testing::Test {
 protected:
  model::PhysicalMemory mem{40};
  model::FrameAllocator frames{mem, 0x10000000, 0x10000000};
  std::unique_ptr<KvmVm> vm;

  void SetUp() override {
    VmConfig c;
    c.vcpus = 2;
    c.ram_bytes = 4ull << 20;
    c.host_cpus = {4, 5};
    auto v = KvmVm::create(mem, frames, c);
    ASSERT_TRUE(v.has_value()) << v.error().message;
    vm = std::move(*v);
  }
};

TEST_F(KvmVmTest, GuestRamIsOneSuperpageAlignedSlot) {
  ASSERT_EQ(vm->memslots().size(), 1u);
  const Memslot s = vm->memslots()[0];
  EXPECT_EQ(s.gpa, 0u);
  EXPECT_EQ(s.size, 4ull << 20);
  EXPECT_EQ(s.hpa, 0x10000000u);  // first 2 MiB-aligned run of the region
  EXPECT_EQ(vm->gpa_to_hpa(0x1234).value(), 0x10001234u);
  EXPECT_FALSE(vm->gpa_to_hpa(4ull << 20).has_value());
}

TEST_F(KvmVmTest, GuestWritesLandAtTheSlotsHostAddress) {
  const std::array<std::byte, 4> data{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  ASSERT_TRUE(vm->write_guest(0x3FFE, data).has_value());  // crosses a page
  EXPECT_EQ(mem.read<std::uint32_t>(0x10003FFE).value(), 0x04030201u);
  std::array<std::byte, 4> back{};
  ASSERT_TRUE(vm->read_guest(0x3FFE, back).has_value());
  EXPECT_EQ(back, data);
  EXPECT_FALSE(vm->write_guest((4ull << 20) - 2, data).has_value());
}

TEST_F(KvmVmTest, OverlappingOrMisalignedMemslotsAreRefusedAndChangeNothing) {
  auto overlap = vm->set_memslot(Memslot{1, 0x200000, 0x1000, 0x20000000, false});
  ASSERT_FALSE(overlap.has_value());
  EXPECT_EQ(overlap.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(overlap.error().message,
            "memslot 1 [0x200000, +0x1000) overlaps memslot 0 [0x0, +0x400000)");
  auto unaligned = vm->set_memslot(Memslot{1, 0x800000, 0x800, 0x20000000, false});
  ASSERT_FALSE(unaligned.has_value());
  EXPECT_EQ(unaligned.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(vm->memslots().size(), 1u);
  ASSERT_TRUE(vm->set_memslot(Memslot{1, 0x800000, 0x1000, 0x20000000, false}).has_value());
  EXPECT_EQ(vm->gpa_to_hpa(0x800010).value(), 0x20000010u);
  ASSERT_TRUE(vm->set_memslot(Memslot{1, 0, 0, 0, false}).has_value());  // delete
  EXPECT_FALSE(vm->gpa_to_hpa(0x800010).has_value());
}

TEST_F(KvmVmTest, IrqfdInjectsTheRoutedMsiIntoTheRightVcpu) {
  EventFd fd;
  EXPECT_FALSE(vm->add_irqfd(fd, 7).has_value());  // no route yet
  // Compatibility MSI: destination APIC id 1, vector 0x45.
  ASSERT_TRUE(vm->set_msi_route(7, MsiRoute{0xFEE01000, 0x45}).has_value());
  ASSERT_TRUE(vm->add_irqfd(fd, 7).has_value());
  fd.signal();
  EXPECT_TRUE(vm->vcpu(1).apic().pending(0x45));
  EXPECT_FALSE(vm->vcpu(0).apic().pending(0x45));
  EXPECT_EQ(vm->stats().irqfd_signals, 1u);
  EXPECT_EQ(vm->stats().msi_injected, 1u);
  vm->inject_msi(0xFEE09000, 0x30);  // APIC id 9: no such vCPU
  EXPECT_EQ(vm->stats().unroutable_msi, 1u);
}

TEST_F(KvmVmTest, PostedDescriptorsCarryNotificationVectorAndHostCpu) {
  const std::uint64_t pid = vm->vcpu(1).pid_address();
  EXPECT_EQ(pid % 64, 0u);
  const std::uint64_t q4 = mem.read<std::uint64_t>(pid + 32).value();
  EXPECT_EQ(irq_remap::pid::NV::get(q4), 0xF2u);
  EXPECT_EQ(irq_remap::pid::NDST::get(q4), 5u);
  EXPECT_EQ(irq_remap::pid::ON::get(q4), 0u);
}

TEST_F(KvmVmTest, NotificationSyncsPirIntoTheVcpuOnThatHostCpu) {
  Vcpu& v = vm->vcpu(1);
  auto out = irq_remap::post_interrupt(mem, v.pid_address(), 0x61, false, true);
  ASSERT_FALSE(out.fault.has_value());
  ASSERT_TRUE(out.notify);
  EXPECT_EQ(out.notification.vector, 0xF2);
  EXPECT_EQ(out.notification.destination, 5u);
  EXPECT_FALSE(v.apic().pending(0x61));
  vm->handle_posted_notification(4);  // vCPU 0's host CPU: nothing for vCPU 1
  EXPECT_FALSE(v.apic().pending(0x61));
  vm->handle_posted_notification(5);
  EXPECT_TRUE(v.apic().pending(0x61));
  EXPECT_EQ(vm->stats().pir_vectors_synced, 1u);
  const std::uint64_t q4 = mem.read<std::uint64_t>(v.pid_address() + 32).value();
  EXPECT_EQ(irq_remap::pid::ON::get(q4), 0u);
  EXPECT_EQ(mem.read<std::uint64_t>(v.pid_address() + 8).value(), 0u);  // PIR cleared
}

TEST_F(KvmVmTest, SuppressNotificationStopsTheNotificationButNotThePosting) {
  Vcpu& v = vm->vcpu(0);
  ASSERT_TRUE(vm->set_suppress_notification(v, true).has_value());
  auto out = irq_remap::post_interrupt(mem, v.pid_address(), 0x70, false, true);
  EXPECT_FALSE(out.notify);
  EXPECT_EQ(vm->sync_pir(v), 1u);  // picked up on the next VM entry
  EXPECT_TRUE(v.apic().pending(0x70));
}

TEST(KvmVmCreate, BadConfigsAreErrors) {
  model::PhysicalMemory mem(40);
  model::FrameAllocator frames(mem, 0x100000, 0x100000);
  VmConfig c;
  c.vcpus = 0;
  EXPECT_FALSE(KvmVm::create(mem, frames, c).has_value());
  c.vcpus = 1;
  c.ram_bytes = 16ull << 20;  // larger than the 1 MiB region
  auto v = KvmVm::create(mem, frames, c);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, ErrorCode::kExhausted);
}

}  // namespace
}  // namespace vtdsim::passthrough
