// End to end through VFIO: a VMM realizes nic0 for a guest, the guest driver programs it with
// guest-physical addresses through its BARs, packets land in guest memory at the memslot's
// host addresses, MSI-X reaches the right vCPU (remapped via eventfd/irqfd, and posted via the
// KVM-VFIO device), DMA outside guest memory faults, two VMs stay isolated, and unmapping
// while DMA is in flight shows strict vs deferred invalidation.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "passthrough/kvm_vfio.h"
#include "passthrough/vmm.h"
#include "pci/capabilities.h"
#include "tests/passthrough/pt_rig.h"

namespace vtdsim::passthrough {
namespace {

using test_support::GuestNicDriver;
using test_support::kGuestBar0;
using test_support::kGuestBar3;
using test_support::packet;
using test_support::Rig;

constexpr std::uint64_t kRing = 0x10000;
constexpr std::uint64_t kBuf = 0x20000;

struct Guest {
  std::unique_ptr<KvmVm> vm;
  std::unique_ptr<KvmVfioDevice> kvm_vfio;
  std::unique_ptr<VfioPciDevice> dev;
};

// Binds `name` to vfio-pci and realizes it in a new VM; the guest assigns BARs and enables
// memory decode and bus mastering.
Guest start(Rig& rig, Vfio& vfio, const char* name, bool kvm_vfio, Type1Config t1 = {},
            std::vector<std::uint32_t> cpus = {2, 3}) {
  Guest g;
  g.vm = rig.make_vm(std::move(cpus));
  pci::Nic& nic = rig.nic(name);
  EXPECT_TRUE(vfio.bind(nic));
  if (kvm_vfio) g.kvm_vfio = std::make_unique<KvmVfioDevice>(*g.vm, *rig.kernel);
  VfioPciOptions o;
  o.host = model::to_string(nic.requester_id());
  o.type1 = t1;
  o.kvm_vfio = g.kvm_vfio.get();
  auto d = VfioPciDevice::realize(*g.vm, vfio, o);
  EXPECT_TRUE(d.has_value()) << (d ? "" : d.error().message);
  g.dev = std::move(*d);
  g.dev->guest_config_write(0x10, 4, static_cast<std::uint32_t>(kGuestBar0));
  g.dev->guest_config_write(0x14, 4, 0);
  g.dev->guest_config_write(0x1C, 4, static_cast<std::uint32_t>(kGuestBar3));
  g.dev->guest_config_write(pci::cfg::kCommand, 2, 0x6);
  return g;
}

void enable_msix(Guest& g, GuestNicDriver& drv, std::uint32_t apic, std::uint8_t vector) {
  const std::uint32_t cap = *g.dev->device().function().msix_offset();
  g.dev->guest_config_write(cap + 2, 2, 0x8000);  // MSI-X enable
  drv.msix_entry(0, apic, vector, false);
}

TEST(VfioE2e, GuestProgrammedRxLandsInGuestMemoryAndRemappedMsixReachesTheVcpu) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  Guest g = start(rig, vfio, "nic0", false);
  EXPECT_EQ(g.dev->guest_bar(0), kGuestBar0);
  GuestNicDriver drv{*g.vm, *g.dev, kGuestBar0, kGuestBar3};
  drv.setup_rx(kRing, {kBuf, kBuf + 0x800});
  enable_msix(g, drv, /*apic=*/1, 0x45);
  ASSERT_EQ(g.dev->msix_gsi(0), 24u);
  EXPECT_EQ(g.dev->device().irq_type(), VfioIrqType::kMsix);

  const auto p = packet(100, 7);
  ASSERT_EQ(rig.nic("nic0").inject_rx_packet(0, p).value(), pci::RxOutcome::kDelivered);
  // The bytes are at the host address the memslot gives for the guest buffer.
  const std::uint64_t hpa = g.vm->gpa_to_hpa(kBuf).value();
  std::vector<std::byte> got(100);
  ASSERT_TRUE(rig.machine->memory().read_bytes(hpa, got));
  EXPECT_EQ(got, p);
  const auto d = drv.descriptor(kRing, 0);
  EXPECT_EQ(d[1] & 0xFFFF, 100u);   // LENGTH (bits 79:64)
  EXPECT_EQ((d[1] >> 32) & 1, 1u);  // DD
  // Remapped: host handler → eventfd → irqfd → vCPU 1's APIC, vector 0x45.
  EXPECT_EQ(g.dev->msix_irqfd(0)->count(), 1u);
  EXPECT_TRUE(g.vm->vcpu(1).apic().pending(0x45));
  EXPECT_FALSE(g.vm->vcpu(0).apic().pending(0x45));
  EXPECT_EQ(g.vm->stats().msi_injected, 1u);
  EXPECT_EQ(g.vm->stats().pir_vectors_synced, 0u);
  const HostIrq* hi = g.dev->device().host_irq(0);
  ASSERT_NE(hi, nullptr);
  EXPECT_FALSE(hi->posted);
  EXPECT_EQ(rig.kernel->stats().host_irqs_handled, 1u);
  EXPECT_EQ(rig.unit().stats().faults_recorded, 0u);
}

TEST(VfioE2e, KvmVfioDeviceMakesTheVectorPostedAndPirIsSyncedIntoTheVcpu) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  Guest g = start(rig, vfio, "nic0", true);
  GuestNicDriver drv{*g.vm, *g.dev, kGuestBar0, kGuestBar3};
  drv.setup_rx(kRing, {kBuf, kBuf + 0x800});
  enable_msix(g, drv, /*apic=*/1, 0x51);
  EXPECT_TRUE(g.kvm_vfio->posted(*g.dev->msix_irqfd(0)));
  EXPECT_TRUE(g.dev->device().host_irq(0)->posted);

  ASSERT_EQ(rig.nic("nic0").inject_rx_packet(0, packet(64, 1)).value(), pci::RxOutcome::kDelivered);
  // Posted: no host handler, no eventfd; PIR bit → notification to vCPU 1's host CPU (3).
  EXPECT_EQ(g.dev->msix_irqfd(0)->count(), 0u);
  EXPECT_EQ(rig.kernel->stats().host_irqs_handled, 0u);
  EXPECT_EQ(rig.kernel->stats().pi_notifications, 1u);
  EXPECT_EQ(g.vm->stats().pir_vectors_synced, 1u);
  EXPECT_EQ(g.vm->stats().msi_injected, 0u);
  EXPECT_TRUE(g.vm->vcpu(1).apic().pending(0x51));
  EXPECT_FALSE(g.vm->vcpu(0).apic().pending(0x51));

  // The guest retargets the vector to vCPU 0: KVM re-posts to vCPU 0's descriptor.
  drv.msix_entry(0, /*apic=*/0, 0x52, false);
  EXPECT_TRUE(g.kvm_vfio->posted(*g.dev->msix_irqfd(0)));
  ASSERT_EQ(rig.nic("nic0").inject_rx_packet(0, packet(64, 2)).value(), pci::RxOutcome::kDelivered);
  EXPECT_TRUE(g.vm->vcpu(0).apic().pending(0x52));
  EXPECT_EQ(g.vm->stats().pir_vectors_synced, 2u);
  EXPECT_EQ(rig.kernel->stats().pi_notifications, 2u);
  EXPECT_EQ(g.dev->msix_irqfd(0)->count(), 0u);
}

TEST(VfioE2e, WithoutCapPiTheBypassStaysRemapped) {
  Rig rig(/*posted=*/false);
  Vfio vfio(*rig.kernel);
  Guest g = start(rig, vfio, "nic0", true);
  GuestNicDriver drv{*g.vm, *g.dev, kGuestBar0, kGuestBar3};
  drv.setup_rx(kRing, {kBuf});
  enable_msix(g, drv, 0, 0x61);
  EXPECT_FALSE(g.kvm_vfio->posted(*g.dev->msix_irqfd(0)));
  ASSERT_EQ(rig.nic("nic0").inject_rx_packet(0, packet(64, 1)).value(), pci::RxOutcome::kDelivered);
  EXPECT_EQ(g.dev->msix_irqfd(0)->count(), 1u);
  EXPECT_TRUE(g.vm->vcpu(0).apic().pending(0x61));
  EXPECT_EQ(g.vm->stats().pir_vectors_synced, 0u);
}

TEST(VfioE2e, MaskedVectorPendsInTheVmmAndIsDeliveredOnUnmask) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  Guest g = start(rig, vfio, "nic0", false);
  GuestNicDriver drv{*g.vm, *g.dev, kGuestBar0, kGuestBar3};
  drv.setup_rx(kRing, {kBuf, kBuf + 0x800});
  enable_msix(g, drv, 1, 0x45);
  drv.msix_entry(0, 1, 0x45, /*masked=*/true);
  ASSERT_EQ(rig.nic("nic0").inject_rx_packet(0, packet(64, 1)).value(), pci::RxOutcome::kDelivered);
  EXPECT_FALSE(g.vm->vcpu(1).apic().pending(0x45));
  EXPECT_TRUE(g.dev->msix_pending(0));
  std::uint64_t pba = 0;
  ASSERT_TRUE(g.dev->guest_mmio_read(kGuestBar3 + 0x2000, 8, &pba));
  EXPECT_EQ(pba, 1u);
  drv.msix_entry(0, 1, 0x45, /*masked=*/false);
  EXPECT_TRUE(g.vm->vcpu(1).apic().pending(0x45));
  EXPECT_FALSE(g.dev->msix_pending(0));
}

TEST(VfioE2e, DmaOutsideGuestMemoryFaultsWithTheDeviceSourceIdAndWritesNothing) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  Guest g = start(rig, vfio, "nic0", false);
  GuestNicDriver drv{*g.vm, *g.dev, kGuestBar0, kGuestBar3};
  const std::uint64_t outside = 0x0100'0000;  // 16 MiB: beyond the 8 MiB of guest RAM
  drv.setup_rx(kRing, {outside});
  const auto before = rig.machine->memory().read<std::uint64_t>(outside).value();
  ASSERT_EQ(rig.nic("nic0").inject_rx_packet(0, packet(64, 9)).value(), pci::RxOutcome::kDmaError);
  EXPECT_EQ(rig.machine->memory().read<std::uint64_t>(outside).value(), before);
  EXPECT_EQ(rig.nic("nic0").stats().rx_dma_errors, 1u);
  const auto [lo, hi] = rig.fault_record();
  EXPECT_EQ(hi >> 63, 1u);                                     // F
  EXPECT_EQ(hi & 0xFFFF, rig.nic("nic0").requester_id().raw);  // SID 00:03.0
  EXPECT_EQ((hi >> 32) & 0xFF, 0x05u);                         // write to a non-present page
  EXPECT_EQ((hi >> 62) & 1, 0u);                               // T = write
  EXPECT_EQ(lo & ~std::uint64_t{0xFFF}, outside);
}

TEST(VfioE2e, TwoVmsWithOneDeviceEachStayIsolated) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  Guest a = start(rig, vfio, "nic0", false, {}, {0, 1});
  Guest b = start(rig, vfio, "nic1", false, {}, {2, 3});
  // VM B has RAM at GPA 1 GiB that VM A does not have.
  auto extra = rig.machine->frame_allocator().allocate(16);
  ASSERT_TRUE(extra.has_value());
  ASSERT_TRUE(b.vm->set_memslot(Memslot{1, 0x4000'0000, 0x10000, *extra, false}));
  ASSERT_EQ(b.dev->container().iommu()->mappings().size(), 2u);
  GuestNicDriver da{*a.vm, *a.dev, kGuestBar0, kGuestBar3};
  // Device A aims at a GPA both VMs have, and at a GPA only VM B has.
  da.setup_rx(kRing, {kBuf, 0x4000'0000});
  ASSERT_EQ(rig.nic("nic0").inject_rx_packet(0, packet(32, 3)).value(), pci::RxOutcome::kDelivered);
  ASSERT_EQ(rig.nic("nic0").inject_rx_packet(0, packet(32, 4)).value(), pci::RxOutcome::kDmaError);
  std::array<std::byte, 32> in_a{}, in_b{}, in_b_extra{};
  ASSERT_TRUE(a.vm->read_guest(kBuf, in_a));
  ASSERT_TRUE(b.vm->read_guest(kBuf, in_b));
  ASSERT_TRUE(b.vm->read_guest(0x4000'0000, in_b_extra));
  EXPECT_EQ(std::vector<std::byte>(in_a.begin(), in_a.end()), packet(32, 3));
  EXPECT_EQ(in_b, (std::array<std::byte, 32>{}));
  EXPECT_EQ(in_b_extra, (std::array<std::byte, 32>{}));
  EXPECT_NE(a.dev->container().iommu()->domains()[0].did,
            b.dev->container().iommu()->domains()[0].did);
  const auto [lo, hi] = rig.fault_record();
  EXPECT_EQ(hi & 0xFFFF, rig.nic("nic0").requester_id().raw);
  EXPECT_EQ(lo & ~std::uint64_t{0xFFF}, 0x4000'0000u);
}

// A buffer in its own memslot; the VMM's listener unmaps it (UNMAP_DMA) when the slot goes.
void unmap_in_flight(host::UnmapPolicy policy, bool expect_stale_hit) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  Type1Config t1;
  t1.policy = policy;
  Guest g = start(rig, vfio, "nic0", false, t1);
  auto buf = rig.machine->frame_allocator().allocate(512, 512);
  ASSERT_TRUE(buf.has_value());
  constexpr std::uint64_t kSlot = 0x0200'0000;
  ASSERT_TRUE(g.vm->set_memslot(Memslot{1, kSlot, 2ull << 20, *buf, false}));
  GuestNicDriver drv{*g.vm, *g.dev, kGuestBar0, kGuestBar3};
  drv.setup_rx(kRing, {kSlot, kSlot + 0x800, kSlot + 0x1000});
  ASSERT_EQ(rig.nic("nic0").inject_rx_packet(0, packet(16, 1)).value(),
            pci::RxOutcome::kDelivered);  // fills the IOTLB with the 2 MiB translation
  auto* t = g.dev->container().iommu();
  const std::uint64_t pinned = t->pinned_pages();
  ASSERT_TRUE(g.vm->set_memslot(Memslot{1, 0, 0, 0, false}));  // delete → UNMAP_DMA
  EXPECT_EQ(t->mappings().size(), 1u);
  // The device still has descriptors naming the old buffer: DMA in flight after the unmap.
  const auto second = rig.nic("nic0").inject_rx_packet(0, packet(16, 2)).value();
  std::array<std::byte, 16> old{};
  ASSERT_TRUE(rig.machine->memory().read_bytes(*buf + 0x800, old));
  if (expect_stale_hit) {
    // Deferred: the PTE is gone but the IOTLB entry still translates until the flush, and
    // the pages are still pinned, so the write lands in memory the VM gave up.
    EXPECT_EQ(second, pci::RxOutcome::kDelivered);
    EXPECT_EQ(std::vector<std::byte>(old.begin(), old.end()), packet(16, 2));
    EXPECT_EQ(t->pinned_pages(), pinned);
    EXPECT_EQ(t->pending_unmaps(), 1u);
    ASSERT_TRUE(t->flush());
    EXPECT_EQ(t->pinned_pages(), pinned - 512);
  } else {
    EXPECT_EQ(second, pci::RxOutcome::kDmaError);
    EXPECT_EQ(old, (std::array<std::byte, 16>{}));
    EXPECT_EQ(t->pinned_pages(), pinned - 512);
  }
  // After the invalidation the next DMA faults either way.
  EXPECT_EQ(rig.nic("nic0").inject_rx_packet(0, packet(16, 3)).value(), pci::RxOutcome::kDmaError);
  std::array<std::byte, 16> third{};
  ASSERT_TRUE(rig.machine->memory().read_bytes(*buf + 0x1000, third));
  EXPECT_EQ(third, (std::array<std::byte, 16>{}));
}

TEST(VfioE2e, StrictUnmapFaultsTheNextDmaAtOnce) {
  unmap_in_flight(host::UnmapPolicy::kStrict, false);
}

TEST(VfioE2e, DeferredUnmapLeavesAStaleIotlbEntryUntilTheFlush) {
  unmap_in_flight(host::UnmapPolicy::kDeferred, true);
}

TEST(VfioE2e, RealizeRefusesUnknownUnboundAndNonViableDevices) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  auto vm = rig.make_vm();
  VfioPciOptions o;
  o.host = "00:1f.0";
  auto unknown = VfioPciDevice::realize(*vm, vfio, o);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(unknown.error().message, "vfio-pci: host device '00:1f.0' does not exist");
  o.host = "00:03.0";
  EXPECT_EQ(VfioPciDevice::realize(*vm, vfio, o).error().code, ErrorCode::kBusy);
  ASSERT_TRUE(vfio.bind(rig.nic("nic2")));
  ASSERT_TRUE(vfio.bind_other(*rig.machine->function("peer"), DriverBinding::kHost));
  o.host = "00:05.0";
  auto nv = VfioPciDevice::realize(*vm, vfio, o);
  ASSERT_FALSE(nv.has_value());
  EXPECT_EQ(nv.error().code, ErrorCode::kBusy);
  EXPECT_EQ(nv.error().message,
            fmt::format("vfio-pci: group {} is not viable: device 00:05.1 is in use by a host "
                        "driver",
                        vfio.group_id(rig.nic("nic2")).value()));
  // Nothing was attached: the NIC's DMA is still blocked (no context entry).
  EXPECT_EQ(rig.kernel->dma_driver(0).context_entry_address(rig.nic("nic2").requester_id()) == 0 ||
                rig.machine->memory()
                        .read<std::uint64_t>(rig.kernel->dma_driver(0).context_entry_address(
                            rig.nic("nic2").requester_id()))
                        .value() == 0,
            true);
  EXPECT_EQ(vm->stats().msi_injected, 0u);
}

}  // namespace
}  // namespace vtdsim::passthrough
