// The `vtdsim demo` scenario: a VM with a VFIO-assigned NIC receiving packets, with posted and
// with remapped interrupts; exact packet, byte, translation and interrupt counts.
#include "workload/passthrough_demo.h"

#include <gtest/gtest.h>

namespace vtdsim::workload {
namespace {

PassthroughDemoOptions small(bool posted) {
  PassthroughDemoOptions o;
  o.packets = 64;
  o.packet_size = 1500;
  o.posted = posted;
  return o;
}

TEST(PassthroughDemo, PostedRunDeliversEveryPacketIntoGuestMemory) {
  auto r = run_passthrough_demo(small(true));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->packets_received, 64u);
  EXPECT_EQ(r->bytes_received, 64u * 1500u);
  EXPECT_EQ(r->payload_mismatches, 0u);
  EXPECT_EQ(r->unit_faults, 0u);
  EXPECT_EQ(r->dma.faults, 0u);
  EXPECT_EQ(r->dma.translations, 256u);  // per packet: descriptor, data, write-back, MSI-X
  EXPECT_EQ(r->dma.interrupt_window, 64u);
  EXPECT_EQ(r->dma.iotlb_lookup, 192u);
  EXPECT_EQ(r->dma.iotlb_hit, 190u);  // misses: the 2 MiB pages of the ring and the buffers
  EXPECT_EQ(r->dma.pw_walks, 2u);
  EXPECT_EQ(r->dma.iotlb_hit_2m, 190u);
  const auto& i = r->interrupts;
  EXPECT_EQ(i.nic_interrupts, 64u);
  EXPECT_EQ(i.posted, 64u);
  EXPECT_EQ(i.remapped, 0u);
  EXPECT_EQ(i.notifications, 64u);
  EXPECT_EQ(i.host_irqs_handled, 0u);
  EXPECT_EQ(i.kvm_msi_injected, 0u);
  EXPECT_EQ(i.pir_vectors_synced, 64u);
  EXPECT_EQ(i.vcpu_vectors, 64u);
}

TEST(PassthroughDemo, WithoutPostingInterruptsGoThroughTheHostAndIrqfd) {
  auto r = run_passthrough_demo(small(false));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->packets_received, 64u);
  EXPECT_EQ(r->bytes_received, 96000u);
  EXPECT_EQ(r->unit_faults, 0u);
  const auto& i = r->interrupts;
  EXPECT_EQ(i.remapped, 64u);
  EXPECT_EQ(i.posted, 0u);
  EXPECT_EQ(i.notifications, 0u);
  EXPECT_EQ(i.host_irqs_handled, 64u);
  EXPECT_EQ(i.kvm_msi_injected, 64u);
  EXPECT_EQ(i.pir_vectors_synced, 0u);
  EXPECT_EQ(i.vcpu_vectors, 64u);
}

TEST(PassthroughDemo, RingWrapsAndQueuesSpreadOverBothVcpus) {
  PassthroughDemoOptions o;
  o.packets = 1000;  // ~4 trips round each 256-descriptor ring
  o.packet_size = 64;
  o.queues = 2;
  auto r = run_passthrough_demo(o);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->packets_received, 1000u);
  EXPECT_EQ(r->bytes_received, 64000u);
  EXPECT_EQ(r->payload_mismatches, 0u);
  EXPECT_EQ(r->unit_faults, 0u);
  EXPECT_EQ(r->interrupts.vcpu_vectors, 1000u);
}

TEST(PassthroughDemo, SameOptionsSameReportByteForByte) {
  auto a = run_passthrough_demo(small(true));
  auto b = run_passthrough_demo(small(true));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->text, b->text);
  EXPECT_EQ(passthrough_demo_json(*a), passthrough_demo_json(*b));
  EXPECT_NE(a->text.find("packets received"), std::string::npos);
}

TEST(PassthroughDemo, OptionsOutOfRangeAreErrors) {
  PassthroughDemoOptions o;
  o.packet_size = 4096;
  auto r = run_passthrough_demo(o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message, "packet size 4096: must be in [1, 2048]");
  o.packet_size = 64;
  o.queues = 9;
  EXPECT_EQ(run_passthrough_demo(o).error().message, "queues 9: must be in [1, 8]");
}

}  // namespace
}  // namespace vtdsim::workload
