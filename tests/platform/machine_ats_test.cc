// ATS through the machine: an ATS device caches a translation from the unit in its device-TLB,
// keeps using it after the page table and IOTLB change, and drops it when the host queues a
// device-TLB invalidation descriptor (VT-d §6.5.2.5), which the platform forwards to the
// device as an ATS Invalidate Request (PCIe 4.0 §10.3).
#include <gtest/gtest.h>

#include <array>
#include <cstddef>

#include "pci/ats_device.h"
#include "pci/device_tlb_invalidation.h"
#include "tests/iommu/unit_test_util.h"
#include "tests/platform/machine_rig.h"

namespace vtdsim::platform {
namespace {

using namespace test_support;
namespace its = iommu::test_support;
using model::SourceId;

TEST(DeviceTlbRouter, RangeEncodingRoundTrips) {
  for (unsigned order : {12u, 13u, 14u, 21u, 30u, 63u}) {
    const std::uint64_t size = std::uint64_t{1} << order;
    const std::uint64_t base = 0x7654'3210'0000ull & ~(size - 1);
    const pci::DeviceTlbInvalidation r =
        to_ats_invalidation(iommu::DeviceTlbInvalidation{SourceId::make(1, 0, 0), 0, base, order});
    EXPECT_EQ(r.size_bit, order > 12) << order;
    const pci::AtsRange range = pci::decode_ats_range(r.address, r.size_bit);
    EXPECT_EQ(range.base, base) << order;
    EXPECT_EQ(range.size, size) << order;
  }
  const pci::DeviceTlbInvalidation all =
      to_ats_invalidation(iommu::DeviceTlbInvalidation{SourceId::make(1, 0, 0), 0, 0, 64});
  EXPECT_EQ(pci::decode_ats_range(all.address, all.size_bit).size, 0u);  // everything
}

TEST(DeviceTlbRouter, PasidFieldsReachTheDevice) {
  iommu::DeviceTlbInvalidation d{SourceId::make(2, 0, 0), 0, 0x5000, 12};
  d.has_pasid = true;
  d.pasid = 0x1234;
  d.global = false;
  const pci::DeviceTlbInvalidation r = to_ats_invalidation(d);
  EXPECT_EQ(r.source_id, SourceId::make(2, 0, 0));
  EXPECT_TRUE(r.has_pasid);
  EXPECT_EQ(r.pasid, 0x1234u);
  EXPECT_FALSE(r.global);
  EXPECT_EQ(r.address, 0x5000u);
  EXPECT_FALSE(r.size_bit);
  d.global = true;
  EXPECT_TRUE(to_ats_invalidation(d).global);
  d.has_pasid = false;
  EXPECT_FALSE(to_ats_invalidation(d).has_pasid);
}

class MachineAts : public ::testing::Test {
 protected:
  void SetUp() override {
    MachineConfig c;
    iommu::UnitConfig u;
    u.device_tlb = true;
    c.units.push_back(catch_all_unit(u));
    c.pci.push_back(port_with("rp1", 1, PciNode::device("ats", NodeKind::kAts, 0)));
    c.pci.push_back(port_with("rp2", 2, PciNode::device("ats2", NodeKind::kAts, 0)));
    auto m = Machine::create(c);
    ASSERT_TRUE(m) << m.error().message;
    m_ = std::move(*m);
    dev_ = m_->device<pci::AtsDevice>("ats");
    ASSERT_NE(dev_, nullptr);
    ASSERT_EQ(dev_->requester_id(), kSid);

    // The host enables ATS in the device (STU = 0: 4 KiB).
    m_->config_write(kSid, *dev_->ats_offset() + pci::ats::kControl, 2, 0x8000);
    ASSERT_TRUE(dev_->ats_enabled());

    auto frames = m_->frame_allocator().allocate(64);
    ASSERT_TRUE(frames);
    tables_ = std::make_unique<TableBuilder>(m_->memory(), *frames);
    pt_ = tables_->alloc_table();
    tables_->set_context(kSid, ContextSpec{.tt = 1, .did = 1, .slptptr = pt_});
    tables_->map(pt_, 4, 0x10000, 0x200000, model::kPageSize, 3);
    UnitProgrammer p(*m_, 0);
    p.set_root(tables_->root_table());
    p.enable_translation();
    queue_ = *m_->frame_allocator().allocate();
    p.enable_qi(queue_);
  }
  void write(std::uint64_t iova, std::uint64_t value) {
    std::array<std::byte, 8> bytes{};
    std::memcpy(bytes.data(), &value, 8);
    const pci::DmaResult r = dev_->write(iova, bytes);
    ASSERT_TRUE(r.ok()) << pci::to_string(r.status);
  }
  std::uint64_t read64(std::uint64_t pa) { return *m_->memory().read<std::uint64_t>(pa); }

  static constexpr SourceId kSid = SourceId::make(1, 0, 0);
  std::unique_ptr<Machine> m_;
  pci::AtsDevice* dev_ = nullptr;
  std::unique_ptr<TableBuilder> tables_;
  std::uint64_t pt_ = 0;
  std::uint64_t queue_ = 0;
};

TEST_F(MachineAts, DeviceTlbIsInvalidatedByAQueuedDescriptor) {
  write(0x10000, 1);
  EXPECT_EQ(read64(0x200000), 1u);
  EXPECT_EQ(dev_->stats().translation_requests, 1u);
  EXPECT_EQ(dev_->device_tlb_size(), 1u);

  // Remap the page and flush only the IOTLB: the device keeps its stale translation.
  tables_->map(pt_, 4, 0x10000, 0x280000, model::kPageSize, 3);
  const std::uint64_t status = *m_->frame_allocator().allocate();
  UnitProgrammer p(*m_, 0);
  p.submit({its::iotlb_descriptor(1), its::wait_descriptor(true, false, 1, status)});
  ASSERT_EQ(read64(status) & 0xFFFFFFFFu, 1u);
  write(0x10000, 2);
  EXPECT_EQ(read64(0x200000), 2u);
  EXPECT_EQ(read64(0x280000), 0u);
  EXPECT_EQ(dev_->stats().translation_requests, 1u);

  // The device-TLB invalidation reaches the device; the next write translates afresh.
  p.submit({its::dev_tlb_descriptor(kSid.raw, 0x10000, false),
            its::wait_descriptor(true, false, 2, status)});
  ASSERT_EQ(read64(status) & 0xFFFFFFFFu, 2u);
  EXPECT_EQ(dev_->stats().invalidations, 1u);
  EXPECT_EQ(dev_->stats().entries_invalidated, 1u);
  EXPECT_EQ(dev_->device_tlb_size(), 0u);
  EXPECT_EQ(m_->stats().dev_tlb_forwarded, 1u);
  write(0x10000, 3);
  EXPECT_EQ(read64(0x280000), 3u);
  EXPECT_EQ(read64(0x200000), 2u);
  EXPECT_EQ(dev_->stats().translation_requests, 2u);
  EXPECT_EQ(p.fsts() & 0x70u, 0u);  // no IQE/ICE/ITE
}

TEST_F(MachineAts, InvalidationForAnotherSourceIdGoesToThatDeviceOnly) {
  write(0x10000, 1);
  auto* other = m_->device<pci::AtsDevice>("ats2");
  UnitProgrammer p(*m_, 0);
  const std::uint64_t status = *m_->frame_allocator().allocate();
  p.submit({its::dev_tlb_descriptor(other->requester_id().raw, 0, true),
            its::dev_tlb_descriptor(SourceId::make(0x40, 0, 0).raw, 0, false),
            its::wait_descriptor(true, false, 9, status)});
  ASSERT_EQ(read64(status) & 0xFFFFFFFFu, 9u);
  EXPECT_EQ(other->stats().invalidations, 1u);
  EXPECT_EQ(dev_->stats().invalidations, 0u);
  EXPECT_EQ(dev_->device_tlb_size(), 1u);
  EXPECT_EQ(m_->stats().dev_tlb_forwarded, 1u);
  EXPECT_EQ(m_->stats().dev_tlb_unclaimed, 1u);
}

}  // namespace
}  // namespace vtdsim::platform
