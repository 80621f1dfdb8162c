// ATS device: translation requests, device-TLB hits/misses, translated requests, invalidation.
#include <gtest/gtest.h>

#include <array>

#include "fakes.h"
#include "pci/ats_device.h"

namespace vtdsim::pci {
namespace {

using model::AddressType;

class AtsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dev.connect(translator, memory, &msi);
    dev.dma().set_source_id(sid);
    dev.config_write(cfg::kCommand, 2, command::MSE::kMask | command::BME::kMask);
    ats_cap = *dev.ats_offset();
    dev.config_write(ats_cap + ats::kControl, 2, 0x8000);  // enable, STU 0
    dev.config_write(*dev.pasid_offset() + pasid::kControl, 2, 1);
  }
  model::SourceId sid = model::SourceId::make(4, 0, 0);
  model::PhysicalMemory memory{40};
  testing::FakeTranslator translator;
  testing::FakeMsiTarget msi;
  AtsDevice dev;
  std::uint32_t ats_cap = 0;
};

TEST_F(AtsTest, MissThenHitUsesTranslatedRequests) {
  std::array<std::byte, 64> data{};
  data.fill(std::byte{0x3C});
  ASSERT_TRUE(dev.write(0x5010, data).ok());
  ASSERT_EQ(translator.requests.size(), 2u);
  EXPECT_EQ(translator.requests[0].address_type, AddressType::kTranslationRequest);
  EXPECT_EQ(translator.requests[0].address, 0x5000u);
  EXPECT_EQ(translator.requests[1].address_type, AddressType::kTranslated);
  EXPECT_EQ(translator.requests[1].address, 0x5010u + translator.offset);
  EXPECT_EQ(*memory.read<std::uint8_t>(0x5010 + translator.offset), 0x3Cu);
  std::array<std::byte, 64> back{};
  ASSERT_TRUE(dev.read(0x5010, back).ok());
  EXPECT_EQ(back, data);
  EXPECT_EQ(translator.requests.size(), 3u);  // a hit: only the translated read
  EXPECT_EQ(dev.device_tlb_stats().hits, 1u);
  EXPECT_EQ(dev.device_tlb_stats().misses, 1u);
  EXPECT_EQ(dev.stats().translation_requests, 1u);
}

TEST_F(AtsTest, CrossPageTransferTranslatesEachPage) {
  std::array<std::byte, 0x1800> data{};
  ASSERT_TRUE(dev.write(0x7800, data).ok());
  EXPECT_EQ(dev.stats().translation_requests, 2u);
  EXPECT_EQ(dev.stats().translated_requests, 2u);
  EXPECT_EQ(dev.device_tlb_size(), 2u);
}

TEST_F(AtsTest, FailedTranslationWritesNothing) {
  translator.faulting_pages = {0x9};
  std::array<std::byte, 0x1800> data{};
  data.fill(std::byte{1});
  const DmaResult r = dev.write(0x8800, data);
  EXPECT_EQ(r.status, DmaStatus::kFault);
  EXPECT_EQ(r.fault_reason, 0x06);
  EXPECT_EQ(memory.frames_resident(), 0u);
  EXPECT_EQ(dev.stats().translation_failures, 1u);
}

TEST_F(AtsTest, ReadOnlyTranslationRefusesWrites) {
  translator.permissions = {true, false, false};
  std::array<std::byte, 8> buf{};
  ASSERT_TRUE(dev.read(0x2000, buf).ok());
  EXPECT_EQ(dev.write(0x2000, buf).status, DmaStatus::kFault);
  EXPECT_EQ(dev.stats().translation_requests, 2u);  // the write re-asked for write access
}

TEST_F(AtsTest, InvalidationRemovesMatchingEntries) {
  std::array<std::byte, 8> buf{};
  for (std::uint64_t page = 0x10; page < 0x18; ++page) ASSERT_TRUE(dev.read(page << 12, buf).ok());
  ASSERT_TRUE(dev.read(0x10000, buf, 5u).ok());  // PASID 5, page 0x10
  EXPECT_EQ(dev.device_tlb_size(), 9u);
  // S=1, address 0x11000 | bit 12 set: 16 KiB at 0x10000 (pages 0x10-0x13), no PASID.
  const model::Cycle done =
      dev.invalidate_device_tlb(DeviceTlbInvalidation{sid, 0x11000, true, false, 0, false, 1000});
  EXPECT_EQ(done, 1100u);
  EXPECT_EQ(dev.stats().entries_invalidated, 5u);  // 4 pages + the PASID 5 entry
  EXPECT_EQ(dev.device_tlb_size(), 4u);
  ASSERT_TRUE(dev.read(0x10000, buf).ok());
  EXPECT_EQ(dev.stats().translation_requests, 10u);  // miss again after invalidation
  // Another source-id: ignored.
  dev.invalidate_device_tlb(
      DeviceTlbInvalidation{model::SourceId::make(9, 0, 0), 0x14000, false, false, 0, false, 0});
  EXPECT_EQ(dev.stats().invalidations_ignored, 1u);
  EXPECT_EQ(dev.device_tlb_size(), 5u);
}

TEST_F(AtsTest, PasidInvalidationMatchesOnlyThatPasid) {
  std::array<std::byte, 8> buf{};
  ASSERT_TRUE(dev.read(0x3000, buf, 1u).ok());
  ASSERT_TRUE(dev.read(0x3000, buf, 2u).ok());
  ASSERT_TRUE(dev.read(0x3000, buf).ok());
  dev.invalidate_device_tlb(DeviceTlbInvalidation{sid, 0x3000, false, true, 1, false, 0});
  EXPECT_EQ(dev.device_tlb_size(), 2u);
  dev.invalidate_device_tlb(DeviceTlbInvalidation{sid, 0x3000, false, true, 7, true, 0});
  EXPECT_EQ(dev.device_tlb_size(), 0u);  // global: every PASID
}

TEST_F(AtsTest, AtsDisabledSendsUntranslatedRequests) {
  dev.config_write(ats_cap + ats::kControl, 2, 0);
  std::array<std::byte, 8> buf{};
  ASSERT_TRUE(dev.read(0x4000, buf).ok());
  ASSERT_EQ(translator.requests.size(), 1u);
  EXPECT_EQ(translator.requests[0].address_type, AddressType::kUntranslated);
  EXPECT_EQ(dev.device_tlb_size(), 0u);
}

TEST_F(AtsTest, RejectedTranslatedRequestIsReported) {
  translator.reject_translated = true;
  std::array<std::byte, 8> buf{};
  const DmaResult r = dev.read(0x4000, buf);
  EXPECT_EQ(r.status, DmaStatus::kFault);
  EXPECT_EQ(r.fault_reason, 0x0D);
}

TEST_F(AtsTest, StuFromControlRegister) {
  dev.config_write(ats_cap + ats::kControl, 2, 0x8003);
  EXPECT_EQ(dev.smallest_translation_unit(), 0x8000u);
}

TEST(AtsRange, Decoding) {
  EXPECT_EQ(decode_ats_range(0x12345678, false).base, 0x12345000u);
  EXPECT_EQ(decode_ats_range(0x12345678, false).size, 0x1000u);
  const AtsRange r = decode_ats_range(0x10000 | 0x7000, true);  // three 1s: 64 KiB
  EXPECT_EQ(r.base, 0x10000u);
  EXPECT_EQ(r.size, 0x10000u);
  EXPECT_EQ(decode_ats_range(0x2000, true).size, 0x2000u);
  EXPECT_EQ(decode_ats_range(0x7FFFFFFFFFFFF000ull, true).size, 0u);  // everything
}

}  // namespace
}  // namespace vtdsim::pci
