// End-to-end through the remapping unit, programmed only with mmio_write and tables in memory:
// translations, every legacy fault reason recorded bit-exact, FPD suppression, fault events,
// and invalidation effects (stale entries used until invalidated, not after).
#include <gtest/gtest.h>

#include <functional>
#include <ostream>

#include "iommu/registers.h"
#include "tests/iommu/table_builder.h"
#include "tests/iommu/unit_test_util.h"

namespace vtdsim::iommu {
namespace {

using namespace test_support;
using namespace reg_offset;

constexpr model::SourceId kDev = model::SourceId::make(0, 3, 0);
constexpr model::SourceId kOther = model::SourceId::make(0, 4, 0);
constexpr std::uint64_t kQueue = 0x40000;
constexpr std::uint64_t kStatus = 0x9000;

class UnitE2E : public ::testing::Test {
 protected:
  explicit UnitE2E(const UnitConfig& c = UnitConfig{}) : rig_(c), tables_(rig_.memory) {
    pt_ = tables_.alloc_table();
    tables_.set_context(kDev, ContextSpec{.did = 1, .slptptr = pt_});
    tables_.map(pt_, 4, 0x1000, 0x200000, model::kPageSize, kRW);
    rig_.set_root(tables_.root_table());
    rig_.enable_te();
  }

  model::Translation access(model::SourceId sid, std::uint64_t iova, model::AccessType type,
                            model::AddressType at = model::AddressType::kUntranslated) {
    model::DmaRequest req;
    req.source_id = sid;
    req.address = iova;
    req.access = type;
    req.address_type = at;
    req.arrival = ++now_;
    return rig_.unit.translate(req);
  }
  model::Translation read(std::uint64_t iova, model::SourceId sid = kDev) {
    return access(sid, iova, model::AccessType::kRead);
  }
  model::Translation write(std::uint64_t iova, model::SourceId sid = kDev) {
    return access(sid, iova, model::AccessType::kWrite);
  }
  std::uint32_t status_word() { return rig_.memory.read<std::uint32_t>(kStatus).value(); }

  UnitRig rig_;
  TableBuilder tables_;
  std::uint64_t pt_ = 0;
  model::Cycle now_ = 0;
};

TEST_F(UnitE2E, TranslatesThroughProgrammedTables) {
  const model::Translation t = read(0x1234);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.hpa, 0x200234u);
  EXPECT_EQ(t.page_size, model::kPageSize);
  EXPECT_EQ(rig_.fsts(), 0u);
  EXPECT_EQ(rig_.unit.stats().faults_recorded, 0u);
}

struct FaultCase {
  const char* name;
  std::uint8_t reason;
  std::function<void(UnitRig&, TableBuilder&, std::uint64_t pt)> setup;
  model::SourceId sid;
  std::uint64_t iova;
  model::AccessType access;
  model::AddressType at = model::AddressType::kUntranslated;
};

void PrintTo(const FaultCase& c, std::ostream* os) {
  *os << c.name;
}

class UnitFaultReasons : public UnitE2E, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(UnitFaultReasons, RaisedAndRecordedBitExact) {
  const FaultCase& c = GetParam();
  c.setup(rig_, tables_, pt_);
  const model::Translation t = access(c.sid, c.iova, c.access, c.at);
  ASSERT_EQ(t.status, model::TranslationStatus::kFault);
  EXPECT_EQ(t.fault_reason, c.reason);
  EXPECT_TRUE(t.fault_recorded);
  EXPECT_EQ(rig_.fsts(), 0x2u);  // PPF, FRI 0
  EXPECT_EQ(rig_.frcd_lo(0), c.iova & ~std::uint64_t{0xFFF});
  const std::uint64_t type = c.access == model::AccessType::kRead ? 1 : 0;
  EXPECT_EQ(rig_.frcd_hi(0), (1ull << 63) | (type << 62) |
                                 (static_cast<std::uint64_t>(c.at) << 60) |
                                 (std::uint64_t{c.reason} << 32) | c.sid.raw);
  EXPECT_EQ(rig_.unit.stats().faults_recorded, 1u);
}

using model::AccessType;
const auto kNoSetup = [](UnitRig&, TableBuilder&, std::uint64_t) {};

INSTANTIATE_TEST_SUITE_P(
    Legacy, UnitFaultReasons,
    ::testing::Values(FaultCase{"root_not_present_01", 0x01, kNoSetup,
                                model::SourceId::make(5, 0, 0), 0x1000, AccessType::kRead},
                      FaultCase{"context_not_present_02", 0x02,
                                [](UnitRig&, TableBuilder& tb, std::uint64_t pt) {
                                  tb.set_context(kOther,
                                                 ContextSpec{.present = false, .slptptr = pt});
                                },
                                kOther, 0x1000, AccessType::kWrite},
                      FaultCase{"context_invalid_03", 0x03,
                                [](UnitRig&, TableBuilder& tb, std::uint64_t pt) {
                                  tb.set_context(
                                      kOther, ContextSpec{.aw = 3, .slptptr = pt});  // no 5-level
                                },
                                kOther, 0x1000, AccessType::kRead},
                      FaultCase{"address_beyond_aw_04", 0x04,
                                [](UnitRig&, TableBuilder& tb, std::uint64_t) {
                                  tb.set_context(kOther,
                                                 ContextSpec{.aw = 1, .slptptr = tb.alloc_table()});
                                },
                                kOther, std::uint64_t{1} << 39, AccessType::kRead},
                      FaultCase{"write_denied_05", 0x05,
                                [](UnitRig&, TableBuilder& tb, std::uint64_t pt) {
                                  tb.map(pt, 4, 0x3000, 0x300000, model::kPageSize, kR);
                                },
                                kDev, 0x3010, AccessType::kWrite},
                      FaultCase{"read_denied_06", 0x06,
                                [](UnitRig&, TableBuilder& tb, std::uint64_t pt) {
                                  tb.map(pt, 4, 0x4000, 0x300000, model::kPageSize, kW);
                                },
                                kDev, 0x4020, AccessType::kRead},
                      FaultCase{"paging_entry_read_error_07", 0x07,
                                [](UnitRig&, TableBuilder& tb, std::uint64_t) {
                                  tb.set_context(kOther,
                                                 ContextSpec{.slptptr = std::uint64_t{1} << 42});
                                },
                                kOther, 0x1000, AccessType::kRead},
                      FaultCase{"root_read_error_08", 0x08,
                                [](UnitRig& r, TableBuilder&, std::uint64_t) {
                                  r.set_root(std::uint64_t{1} << 42);  // within HAW, beyond memory
                                },
                                kDev, 0x1000, AccessType::kRead},
                      FaultCase{"context_read_error_09", 0x09,
                                [](UnitRig&, TableBuilder& tb, std::uint64_t) {
                                  tb.set_root_raw(7, (std::uint64_t{1} << 42) | 1, 0);
                                },
                                model::SourceId::make(7, 1, 2), 0x1000, AccessType::kWrite},
                      FaultCase{"root_reserved_0a", 0x0A,
                                [](UnitRig&, TableBuilder& tb, std::uint64_t) {
                                  tb.set_root_raw(8, tb.alloc_table() | 1 | (1u << 11), 0);
                                },
                                model::SourceId::make(8, 0, 0), 0x1000, AccessType::kRead},
                      FaultCase{"context_reserved_0b", 0x0B,
                                [](UnitRig&, TableBuilder& tb, std::uint64_t pt) {
                                  tb.set_context(kOther,
                                                 ContextSpec{.slptptr = pt, .extra_lo = 1u << 4});
                                },
                                kOther, 0x1000, AccessType::kRead},
                      FaultCase{"paging_entry_reserved_0c", 0x0C,
                                [](UnitRig&, TableBuilder& tb, std::uint64_t pt) {
                                  tb.map(pt, 4, 0x5000, std::uint64_t{1} << 50, model::kPageSize,
                                         kRW);
                                },
                                kDev, 0x5000, AccessType::kRead},
                      FaultCase{"translated_request_blocked_0d", 0x0D, kNoSetup, kDev, 0x1000,
                                AccessType::kRead, model::AddressType::kTranslated},
                      FaultCase{"output_in_interrupt_range_0e", 0x0E,
                                [](UnitRig&, TableBuilder& tb, std::uint64_t pt) {
                                  tb.map(pt, 4, 0x6000, 0xFEE00000, model::kPageSize, kRW);
                                },
                                kDev, 0x6004, AccessType::kWrite}),
    [](const auto& p) { return std::string(p.param.name); });

TEST_F(UnitE2E, QualifiedFaultsSuppressedByFpd) {
  tables_.set_context(kOther, ContextSpec{.present = false, .fpd = true, .slptptr = pt_});
  model::Translation t = read(0x1000, kOther);
  EXPECT_EQ(t.fault_reason, 0x02);
  EXPECT_FALSE(t.fault_recorded);
  const model::SourceId third = model::SourceId::make(0, 5, 0);
  tables_.set_context(third, ContextSpec{.fpd = true, .slptptr = pt_});
  tables_.map(pt_, 4, 0x7000, 0x300000, model::kPageSize, kR);
  t = write(0x7000, third);
  EXPECT_EQ(t.fault_reason, 0x05);
  EXPECT_FALSE(t.fault_recorded);
  EXPECT_EQ(rig_.fsts(), 0u);
  EXPECT_EQ(rig_.frcd_hi(0), 0u);
  EXPECT_EQ(rig_.unit.stats().faults_suppressed, 2u);
  // Reserved bits in a context entry (0x0B) are not qualified: recorded despite FPD.
  const model::SourceId fourth = model::SourceId::make(0, 6, 0);
  tables_.set_context(fourth, ContextSpec{.fpd = true, .slptptr = pt_, .extra_hi = 1ull << 40});
  t = read(0x1000, fourth);
  EXPECT_EQ(t.fault_reason, 0x0B);
  EXPECT_TRUE(t.fault_recorded);
  EXPECT_EQ(rig_.frcd_hi(0), 0xC000000B00000000u | fourth.raw);
}

TEST_F(UnitE2E, FaultEventInterruptThroughRegisters) {
  rig_.wr32(kFedata, 0x0062);
  rig_.wr32(kFeaddr, 0xFEE05000);
  rig_.wr32(kFectl, 0);
  read(0x1000, model::SourceId::make(9, 0, 0));  // root not present
  ASSERT_EQ(rig_.events.messages.size(), 1u);
  EXPECT_EQ(rig_.events.messages[0].vector, 0x62);
  EXPECT_EQ(rig_.events.messages[0].destination, 5u);
  read(0x2000, model::SourceId::make(9, 0, 0));  // PPF still set: no new event
  EXPECT_EQ(rig_.events.messages.size(), 1u);
  EXPECT_EQ(rig_.fsts(), 0x2u);
  EXPECT_EQ(rig_.frcd_lo(1), 0x2000u);
  // Software handler: clear both records, then FSTS.
  rig_.wr32(0x220 + 12, 0x80000000);
  rig_.wr32(0x230 + 12, 0x80000000);
  EXPECT_EQ(rig_.fsts(), 0u);
  read(0x3000, model::SourceId::make(9, 0, 0));
  EXPECT_EQ(rig_.events.messages.size(), 2u);
  EXPECT_EQ(rig_.fsts(), 0x202u);  // FRI = 2
  EXPECT_EQ(rig_.unit.stats().fault_events, 2u);
}

TEST_F(UnitE2E, OverflowThroughTheUnit) {
  for (unsigned i = 0; i < 9; ++i) read(0x1000, model::SourceId::make(9, 0, 0));
  EXPECT_EQ(rig_.fsts(), 0x3u);  // PFO | PPF
  EXPECT_EQ(rig_.unit.stats().faults_recorded, 8u);
  EXPECT_EQ(rig_.unit.stats().faults_dropped_overflow, 1u);
}

TEST_F(UnitE2E, StaleIotlbEntryUsedUntilQueuedInvalidation) {
  rig_.enable_qi(kQueue);
  ASSERT_EQ(read(0x1000).hpa, 0x200000u);
  tables_.map(pt_, 4, 0x1000, 0x300000, model::kPageSize, kRW);
  EXPECT_EQ(read(0x1000).hpa, 0x200000u);  // stale
  rig_.submit({iotlb_descriptor(2, 9), wait_descriptor(true, false, 1, kStatus)});
  EXPECT_EQ(read(0x1000).hpa, 0x200000u);  // other domain: still stale
  EXPECT_EQ(status_word(), 1u);
  rig_.submit({iotlb_descriptor(3, 1, 0x1000, 0), wait_descriptor(true, false, 2, kStatus)});
  EXPECT_EQ(status_word(), 2u);
  EXPECT_EQ(read(0x1000).hpa, 0x300000u);
  const UnitStats& s = rig_.unit.stats();
  EXPECT_EQ(s.iotlb_inv_domain, 1u);
  EXPECT_EQ(s.iotlb_inv_page, 1u);
  EXPECT_EQ(s.qi_descriptors, 4u);
  EXPECT_EQ(s.qi_wait_descriptors, 2u);
  EXPECT_EQ(rig_.rd64(kIqh), 0x40u);
}

TEST_F(UnitE2E, StaleIotlbEntryUsedUntilRegisterInvalidation) {
  ASSERT_EQ(read(0x1000).hpa, 0x200000u);
  tables_.map(pt_, 4, 0x1000, 0x300000, model::kPageSize, kRW);
  EXPECT_EQ(read(0x1000).hpa, 0x200000u);
  rig_.wr64(0x200, 0x1000);                                      // IVA
  rig_.wr64(0x208, (1ull << 63) | (3ull << 60) | (1ull << 32));  // page-selective, DID 1
  EXPECT_EQ(rig_.rd64(0x208) >> 57 & 3, 3u);                     // IAIG page
  EXPECT_EQ(read(0x1000).hpa, 0x300000u);
}

TEST_F(UnitE2E, ContextCacheInvalidationMakesContextChangeVisible) {
  rig_.enable_qi(kQueue);
  ASSERT_TRUE(read(0x1000).ok());
  tables_.set_context(kDev, ContextSpec{.present = false, .did = 1, .slptptr = pt_});
  EXPECT_TRUE(read(0x1000).ok());  // context cache and IOTLB still hold it
  rig_.submit({cc_descriptor(3, 1, kDev.raw, 0), iotlb_descriptor(2, 1),
               wait_descriptor(true, false, 3, kStatus)});
  const model::Translation t = read(0x1000);
  EXPECT_EQ(t.fault_reason, 0x02);
  EXPECT_EQ(rig_.unit.stats().ctxt_inv_device + rig_.unit.stats().ctxt_inv_domain +
                rig_.unit.stats().ctxt_inv_global,
            1u);
}

TEST_F(UnitE2E, InvalidDescriptorThroughTheUnit) {
  rig_.wr32(kFectl, 0);
  rig_.enable_qi(kQueue);
  rig_.submit({cc_descriptor(1), {0x9, 0}, wait_descriptor(true, false, 5, kStatus)});
  EXPECT_EQ(rig_.fsts(), 0x10u);
  EXPECT_EQ(rig_.rd64(kIqer), 3u);
  EXPECT_EQ(rig_.rd64(kIqh), 0x10u);
  EXPECT_EQ(rig_.events.messages.size(), 1u);
  EXPECT_EQ(status_word(), 0u);
  (void)rig_.memory.write(kQueue + 0x10, wait_descriptor(false, false));
  rig_.wr32(kFsts, 0x10);
  rig_.wr64(kIqt, 0x30);
  EXPECT_EQ(status_word(), 5u);
  EXPECT_EQ(rig_.rd64(kIqh), 0x30u);
  EXPECT_EQ(rig_.unit.stats().qi_errors, 1u);
}

TEST_F(UnitE2E, WaitDescriptorCompletionEventThroughRegisters) {
  rig_.enable_qi(kQueue);
  rig_.wr32(kIedata, 0x0071);
  rig_.wr32(kIeaddr, 0xFEE01000);
  rig_.submit({wait_descriptor(false, true)});
  EXPECT_EQ(rig_.rd32(kIcs), 1u);
  EXPECT_EQ(rig_.rd32(kIectl), 0xC0000000u);
  EXPECT_TRUE(rig_.events.messages.empty());
  rig_.wr32(kIectl, 0);
  ASSERT_EQ(rig_.events.messages.size(), 1u);
  EXPECT_EQ(rig_.events.messages[0].vector, 0x71);
  rig_.wr32(kIcs, 1);
  EXPECT_EQ(rig_.rd32(kIcs), 0u);
  rig_.submit({wait_descriptor(false, true)});
  EXPECT_EQ(rig_.events.messages.size(), 2u);
  EXPECT_EQ(rig_.unit.stats().invalidation_events, 2u);
}

UnitConfig esrtps_config() {
  UnitConfig c;
  c.esrtps = true;
  return c;
}

class UnitE2EEsrtps : public UnitE2E {
 protected:
  UnitE2EEsrtps() : UnitE2E(esrtps_config()) {}
};

TEST_F(UnitE2E, SrtpKeepsCachesWithoutEsrtps) {
  read(0x1000);
  rig_.set_root(tables_.root_table());
  read(0x1000);
  EXPECT_EQ(rig_.unit.dma_remapper().stats().iotlb_hit, 1u);
}

TEST_F(UnitE2EEsrtps, SrtpDropsCachesWithEsrtps) {
  read(0x1000);
  rig_.set_root(tables_.root_table());
  read(0x1000);
  EXPECT_EQ(rig_.unit.dma_remapper().stats().iotlb_hit, 0u);
  EXPECT_EQ(rig_.unit.dma_remapper().stats().ctxt_cache_miss, 2u);
}

class RecordingDeviceTlb final : public DeviceTlbSink {
 public:
  void invalidate_device_tlb(const DeviceTlbInvalidation& r) override { seen.push_back(r); }
  std::vector<DeviceTlbInvalidation> seen;
};

UnitConfig dt_config() {
  UnitConfig c;
  c.device_tlb = true;
  return c;
}

TEST(UnitDeviceTlb, ForwardedToTheSinkAndRecorded) {
  UnitRig rig(dt_config());
  RecordingDeviceTlb devices;
  rig.unit.set_device_tlb_sink(&devices);
  rig.enable_qi(kQueue);
  rig.submit(
      {dev_tlb_descriptor(0x0318, 0xABC000, false, 2), dev_tlb_descriptor(0x0318, 0xABD000, true)});
  ASSERT_EQ(devices.seen.size(), 2u);
  EXPECT_EQ(devices.seen[0], (DeviceTlbInvalidation{model::SourceId{0x0318}, 2, 0xABC000, 12}));
  EXPECT_EQ(devices.seen[1], (DeviceTlbInvalidation{model::SourceId{0x0318}, 0, 0xABC000, 14}));
  EXPECT_EQ(rig.unit.last_device_tlb_invalidation(), devices.seen[1]);
  EXPECT_EQ(rig.unit.stats().dev_tlb_inv, 2u);
}

}  // namespace
}  // namespace vtdsim::iommu
