// The VFIO API contract: group viability and container rules, SET_IOMMU/GET_DEVICE_FD order,
// MAP_DMA/UNMAP_DMA checks (each error leaves everything unchanged), superpage mappings and
// pin accounting, region and IRQ info, config virtualization, SET_IRQS errors.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "passthrough/vfio_container.h"
#include "passthrough/vfio_device.h"
#include "passthrough/vfio_group.h"
#include "tests/passthrough/pt_rig.h"

namespace vtdsim::passthrough {
namespace {

using test_support::Rig;

struct Opened {
  VfioGroup* group = nullptr;
  std::unique_ptr<VfioContainer> container;
};

Opened open_nic(Rig& rig, Vfio& vfio, const char* name, bool set_iommu = true) {
  Opened o;
  pci::Nic& nic = rig.nic(name);
  EXPECT_TRUE(vfio.bind(nic));
  o.group = vfio.open_group(vfio.group_id(nic).value()).value();
  o.container = vfio.open_container();
  EXPECT_TRUE(o.group->set_container(*o.container));
  if (set_iommu) {
    EXPECT_TRUE(o.container->set_iommu(vfio::IommuType::kType1v2));
  }
  return o;
}

TEST(VfioGroupTest, NonViableGroupIsRefusedAndViableOneAccepted) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  pci::Function& nic2 = rig.nic("nic2");
  pci::Function& peer = *rig.machine->function("peer");
  const unsigned gid = vfio.group_id(nic2).value();
  ASSERT_EQ(vfio.group_id(peer).value(), gid);  // multi-function without ACS: one group
  EXPECT_EQ(vfio.open_group(gid).error().code, ErrorCode::kNotFound);  // nothing bound yet
  ASSERT_TRUE(vfio.bind(nic2));
  ASSERT_TRUE(vfio.bind_other(peer, DriverBinding::kHost));
  VfioGroup* g = vfio.open_group(gid).value();
  EXPECT_EQ(g->members().size(), 2u);
  EXPECT_EQ(g->status(), 0u);
  auto c = vfio.open_container();
  auto r = g->set_container(*c);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kBusy);
  EXPECT_EQ(r.error().message,
            fmt::format("group {} is not viable: device 00:05.1 is bound to a host driver", gid));
  EXPECT_EQ(g->container(), nullptr);
  EXPECT_TRUE(c->groups().empty());
  // Unbinding the peer (no driver) makes the group viable.
  ASSERT_TRUE(vfio.bind_other(peer, DriverBinding::kNone));
  EXPECT_EQ(g->status(), vfio::kGroupFlagsViable);
  ASSERT_TRUE(g->set_container(*c));
  EXPECT_EQ(g->status(), vfio::kGroupFlagsViable | vfio::kGroupFlagsContainerSet);
  ASSERT_TRUE(c->set_iommu(vfio::IommuType::kType1v2));
  // Both functions' ids sit in the container's domain.
  const auto& d = c->iommu()->domains().at(0);
  EXPECT_EQ(d.sids, (std::vector<model::SourceId>{nic2.requester_id(), peer.requester_id()}));
  // The peer is not bound to vfio-pci: no device fd for it.
  EXPECT_EQ(g->get_device_fd("00:05.1").error().code, ErrorCode::kBusy);
  EXPECT_TRUE(g->get_device_fd("00:05.0").has_value());
}

TEST(VfioGroupTest, ContainerRulesAndOrder) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  pci::Nic& nic = rig.nic("nic0");
  ASSERT_TRUE(vfio.bind(nic));
  VfioGroup* g = vfio.open_group(vfio.group_id(nic).value()).value();
  auto c1 = vfio.open_container();
  auto c2 = vfio.open_container();
  EXPECT_TRUE(c1->check_extension(vfio::IommuType::kType1v2));
  EXPECT_EQ(c1->set_iommu(vfio::IommuType::kType1v2).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(g->get_device_fd("00:03.0").error().code, ErrorCode::kBusy);
  ASSERT_TRUE(g->set_container(*c1));
  auto second = g->set_container(*c2);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::kBusy);
  EXPECT_EQ(g->container(), c1.get());
  EXPECT_TRUE(c2->groups().empty());
  EXPECT_EQ(g->get_device_fd("00:03.0").error().code, ErrorCode::kBusy);  // no IOMMU yet
  EXPECT_EQ(c1->map_dma(vfio::DmaMap{3, 0x10000000, 0, 0x1000}).error().code, ErrorCode::kBusy);
  ASSERT_TRUE(c1->set_iommu(vfio::IommuType::kType1v2));
  EXPECT_EQ(c1->set_iommu(vfio::IommuType::kType1v2).error().code, ErrorCode::kBusy);
  auto unknown = g->get_device_fd("00:09.0");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(unknown.error().message,
            fmt::format("group {} has no device named '00:09.0'", g->id()));
  EXPECT_TRUE(g->get_device_fd("0000:00:03.0").has_value());
  EXPECT_EQ(g->unset_container().error().code, ErrorCode::kBusy);  // device fd open
}

TEST(VfioType1Test, MapDmaErrorsChangeNothing) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  Opened o = open_nic(rig, vfio, "nic0");
  VfioContainer& c = *o.container;
  const std::uint64_t host = rig.machine->frame_allocator().allocate(1024, 512).value();
  ASSERT_TRUE(c.map_dma(vfio::DmaMap{3, host, 0x200000, 0x200000}));
  const std::uint16_t did = c.iommu()->domains()[0].did;
  const auto* pt = rig.kernel->dma_driver(0).page_table(did);
  ASSERT_NE(pt, nullptr);
  const auto pages = pt->table_pages();
  auto expect_err = [&](vfio::DmaMap m, ErrorCode code) {
    auto r = c.map_dma(m);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, code) << r.error().message;
    EXPECT_EQ(c.iommu()->mappings().size(), 1u);
    EXPECT_EQ(c.iommu()->pinned_pages(), 512u);
    EXPECT_EQ(pt->table_pages(), pages);
  };
  expect_err({3, host, 0x300000, 0x1000}, ErrorCode::kAlreadyExists);        // overlap
  expect_err({3, host, 0x1FF000, 0x2000}, ErrorCode::kAlreadyExists);        // overlap from below
  expect_err({3, host, 0x800800, 0x1000}, ErrorCode::kInvalidArgument);      // unaligned iova
  expect_err({3, host + 1, 0x800000, 0x1000}, ErrorCode::kInvalidArgument);  // unaligned vaddr
  expect_err({3, host, 0x800000, 0}, ErrorCode::kInvalidArgument);           // empty
  expect_err({0, host, 0x800000, 0x1000}, ErrorCode::kInvalidArgument);      // no permission
  expect_err({3, host, 1ull << 39, 0x1000}, ErrorCode::kOutOfRange);         // beyond 39-bit IOVA
  expect_err({3, host, 0xFEE00000, 0x1000}, ErrorCode::kInvalidArgument);    // MSI window
  expect_err({3, 1ull << 39, 0x800000, 0x1000}, ErrorCode::kOutOfRange);     // not host memory
  auto msg = c.map_dma({3, host, 0x300000, 0x1000});
  EXPECT_EQ(msg.error().message, "MAP_DMA: [0x300000, +0x1000) overlaps the mapping at 0x200000");
  // The 2 MiB mapping used one superpage.
  const auto l = pt->lookup(0x212345);
  EXPECT_TRUE(l.present);
  EXPECT_EQ(l.page_size, 2ull << 20);
  EXPECT_EQ(l.hpa, host + 0x12345);
}

TEST(VfioType1Test, UnmapDmaRemovesWholeMappingsAndRefusesBisection) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  Opened o = open_nic(rig, vfio, "nic0");
  VfioContainer& c = *o.container;
  const std::uint64_t host = rig.machine->frame_allocator().allocate(16).value();
  ASSERT_TRUE(c.map_dma({1, host, 0x100000, 0x4000}));  // read-only
  ASSERT_TRUE(c.map_dma({3, host + 0x4000, 0x104000, 0x4000}));
  EXPECT_EQ(c.iommu()->pinned_pages(), 8u);
  const auto l =
      rig.kernel->dma_driver(0).page_table(c.iommu()->domains()[0].did)->lookup(0x100000);
  EXPECT_EQ(l.permissions, (model::Permissions{true, false, false}));
  auto bisect = c.unmap_dma({0x102000, 0x4000});
  ASSERT_FALSE(bisect.has_value());
  EXPECT_EQ(bisect.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(c.iommu()->mappings().size(), 2u);
  EXPECT_EQ(c.unmap_dma({0x200000, 0x1000}).value(), 0u);  // nothing there
  EXPECT_EQ(c.unmap_dma({0x100000, 0x8000}).value(), 0x8000u);
  EXPECT_EQ(c.iommu()->pinned_pages(), 0u);
  EXPECT_EQ(c.iommu()->stats().iotlb_syncs, 2u);  // strict: one range flush per mapping
  EXPECT_FALSE(
      rig.kernel->dma_driver(0).page_table(c.iommu()->domains()[0].did)->lookup(0x100000).present);
}

TEST(VfioType1Test, PinLimitIsEnforced) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  pci::Nic& nic = rig.nic("nic0");
  ASSERT_TRUE(vfio.bind(nic));
  VfioGroup* g = vfio.open_group(vfio.group_id(nic).value()).value();
  auto c = vfio.open_container();
  ASSERT_TRUE(g->set_container(*c));
  Type1Config t;
  t.pin_limit_pages = 4;
  ASSERT_TRUE(c->set_iommu(vfio::IommuType::kType1v2, t));
  const std::uint64_t host = rig.machine->frame_allocator().allocate(8).value();
  ASSERT_TRUE(c->map_dma({3, host, 0x100000, 0x3000}));
  EXPECT_EQ(c->map_dma({3, host, 0x200000, 0x2000}).error().code, ErrorCode::kExhausted);
  EXPECT_TRUE(c->map_dma({3, host, 0x200000, 0x1000}));
}

TEST(VfioDeviceTest, RegionAndIrqInfo) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  Opened o = open_nic(rig, vfio, "nic0");
  VfioDevice* d = o.group->get_device_fd("00:03.0").value();
  EXPECT_EQ(d->info().flags, vfio::kDeviceFlagsPci);
  EXPECT_EQ(d->info().num_regions, 9u);
  EXPECT_EQ(d->info().num_irqs, 5u);
  const auto bar0 = d->region_info(0).value();
  EXPECT_EQ(bar0.size, 0x1000u);
  EXPECT_EQ(bar0.flags, vfio::kRegionFlagRead | vfio::kRegionFlagWrite | vfio::kRegionFlagMmap);
  EXPECT_EQ(bar0.offset, 0u);
  EXPECT_EQ(d->region_info(1).value().size, 0u);  // upper half of the 64-bit BAR0
  const auto bar3 = d->region_info(3).value();
  EXPECT_EQ(bar3.size, 0x4000u);
  EXPECT_EQ(bar3.flags, vfio::kRegionFlagRead | vfio::kRegionFlagWrite | vfio::kRegionFlagMmap |
                            vfio::kRegionFlagCaps);
  EXPECT_EQ(bar3.sparse_mmap, (std::vector<vfio::SparseMmapArea>{{0x1000, 0x3000}}));
  EXPECT_EQ(bar3.offset, 3ull << 40);
  const auto cfg = d->region_info(vfio::kPciConfigRegionIndex).value();
  EXPECT_EQ(cfg.size, 4096u);
  EXPECT_EQ(d->region_info(vfio::kPciRomRegionIndex).value().size, 0u);
  EXPECT_EQ(d->region_info(9).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(d->irq_info(vfio::kPciIntxIrqIndex).value().count, 0u);
  EXPECT_EQ(d->irq_info(vfio::kPciMsiIrqIndex).value().count, 1u);
  const auto msix = d->irq_info(vfio::kPciMsixIrqIndex).value();
  EXPECT_EQ(msix.count, 2u);
  EXPECT_EQ(msix.flags, vfio::kIrqInfoEventfd | vfio::kIrqInfoNoresize);
  EXPECT_EQ(d->irq_info(5).error().code, ErrorCode::kInvalidArgument);
  // mmap: BAR0 whole, BAR3 outside the table page only.
  pci::Nic& nic = rig.nic("nic0");
  EXPECT_EQ(d->mmap(0, 0, 0x1000).value(), nic.bar_address(0));
  EXPECT_EQ(d->mmap(3, 0x1000, 0x3000).value(), nic.bar_address(3) + 0x1000);
  EXPECT_EQ(d->mmap(3, 0, 0x1000).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(d->mmap(0, 0x800, 0x1000).error().code, ErrorCode::kInvalidArgument);
}

TEST(VfioDeviceTest, ConfigAccessIsVirtualizedAndTheMsixTableIsHidden) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  Opened o = open_nic(rig, vfio, "nic0");
  VfioDevice* d = o.group->get_device_fd("00:03.0").value();
  pci::Nic& nic = rig.nic("nic0");
  const std::uint64_t cfg = 7ull << 40;
  EXPECT_EQ(d->read(cfg + 0, 2).value(), 0x8086u);
  const std::uint64_t phys_bar0 = nic.bar_address(0);
  // BAR sizing through the fd never reaches the device.
  ASSERT_TRUE(d->write(cfg + 0x10, 4, 0xFFFFFFFF));
  EXPECT_EQ(d->read(cfg + 0x10, 4).value(), 0xFFFFF004u);  // 4 KiB, 64-bit
  EXPECT_EQ(nic.bar_address(0), phys_bar0);
  // MSI-X enable through config is dropped (SET_IRQS only).
  const std::uint32_t cap = *nic.msix_offset();
  ASSERT_TRUE(d->write(cfg + cap + 2, 2, 0x8000));
  EXPECT_FALSE(nic.msix_enabled());
  // BAR3 accesses skip the table: reads all-ones, writes dropped.
  const std::uint64_t bar3 = 3ull << 40;
  ASSERT_TRUE(d->write(bar3 + 8, 4, 0x55));
  EXPECT_EQ(d->read(bar3 + 8, 4).value(), 0xFFFFFFFFu);
  EXPECT_EQ(nic.msix_table()->entry(0).data, 0u);
  EXPECT_EQ(d->read(cfg + 4096, 4).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(d->read(cfg + 1, 2).error().code, ErrorCode::kInvalidArgument);
}

TEST(VfioDeviceTest, SetIrqsProgramsTheHostMsixAndRejectsMisuse) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  Opened o = open_nic(rig, vfio, "nic0");
  VfioDevice* d = o.group->get_device_fd("00:03.0").value();
  pci::Nic& nic = rig.nic("nic0");
  const std::uint32_t trig = vfio::kIrqSetDataEventfd | vfio::kIrqSetActionTrigger;
  EventFd e0, e1;
  std::array<EventFd*, 2> fds{&e0, &e1};
  EXPECT_EQ(d->set_irqs(trig | vfio::kIrqSetDataBool, 2, 0, 2, fds).error().code,
            ErrorCode::kInvalidArgument);  // two data types
  EXPECT_EQ(d->set_irqs(trig, 2, 1, 2, fds).error().code, ErrorCode::kInvalidArgument);  // > count
  EXPECT_EQ(d->set_irqs(trig, 2, 0, 2, std::span(fds).first(1)).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      d->set_irqs(vfio::kIrqSetDataEventfd | vfio::kIrqSetActionMask, 2, 0, 2, fds).error().code,
      ErrorCode::kUnsupported);
  EXPECT_EQ(d->irq_type(), VfioIrqType::kNone);
  EXPECT_FALSE(nic.msix_enabled());
  ASSERT_TRUE(d->set_irqs(trig, 2, 0, 2, fds));
  EXPECT_TRUE(nic.msix_enabled());
  // The device's table holds the remappable message of each vector's IRTE, unmasked.
  for (unsigned v = 0; v < 2; ++v) {
    const auto& e = nic.msix_table()->entry(v);
    const auto m = rig.kernel->msi_message(*d->host_irq(v));
    EXPECT_EQ(e.address, m.address);
    EXPECT_EQ(e.data, m.data);
    EXPECT_FALSE(e.masked());
  }
  EXPECT_EQ(d->set_irqs(trig, 1, 0, 1, std::span(fds).first(1)).error().code,
            ErrorCode::kInvalidArgument);  // MSI while MSI-X is on
  // Loopback trigger and a device-raised interrupt both signal the eventfd.
  ASSERT_TRUE(d->set_irqs(vfio::kIrqSetDataNone | vfio::kIrqSetActionTrigger, 2, 1, 1));
  EXPECT_EQ(e1.count(), 1u);
  EXPECT_EQ(nic.signal_interrupt(0), pci::InterruptOutcome::kDelivered);
  EXPECT_EQ(e0.count(), 1u);
  // Unbinding vector 0 masks it; disabling turns MSI-X off and frees the host vectors.
  std::array<EventFd*, 1> none{nullptr};
  ASSERT_TRUE(d->set_irqs(trig, 2, 0, 1, none));
  EXPECT_TRUE(nic.msix_table()->entry(0).masked());
  ASSERT_TRUE(d->set_irqs(vfio::kIrqSetDataNone | vfio::kIrqSetActionTrigger, 2, 0, 0));
  EXPECT_FALSE(nic.msix_enabled());
  EXPECT_EQ(rig.kernel->stats().irqs_freed, 2u);
}

TEST(VfioDeviceTest, MsiUsesOneIrteBlock) {
  Rig rig;
  Vfio vfio(*rig.kernel);
  Opened o = open_nic(rig, vfio, "nic0");
  VfioDevice* d = o.group->get_device_fd("00:03.0").value();
  pci::Nic& nic = rig.nic("nic0");
  EventFd e;
  std::array<EventFd*, 1> fds{&e};
  ASSERT_TRUE(d->set_irqs(vfio::kIrqSetDataEventfd | vfio::kIrqSetActionTrigger, 1, 0, 1, fds));
  EXPECT_TRUE(nic.msi_enabled());
  EXPECT_EQ(nic.signal_interrupt(0), pci::InterruptOutcome::kDelivered);
  EXPECT_EQ(e.count(), 1u);
}

}  // namespace
}  // namespace vtdsim::passthrough
