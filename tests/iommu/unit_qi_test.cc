// Queued invalidation on a fake target: decoding of each descriptor type, wait descriptors
// (status write, IWC, invalidation event), and every IQE cause with IQER, IQH and resumption.
#include <gtest/gtest.h>

#include <ostream>

#include "iommu/event_interrupt.h"
#include "iommu/fault_recorder.h"
#include "iommu/invalidation_queue.h"
#include "iommu/register_file.h"
#include "iommu/registers.h"
#include "tests/iommu/unit_test_util.h"

namespace vtdsim::iommu {
namespace {

using namespace test_support;
using namespace reg_offset;

constexpr std::uint64_t kQueue = 0x40000;

class QueueTest : public ::testing::Test {
 protected:
  static UnitConfig default_config() {
    UnitConfig c;
    c.device_tlb = true;
    return c;
  }
  explicit QueueTest(const UnitConfig& c = default_config())
      : config_(c),
        memory_(40),
        regs_(config_),
        fault_event_(regs_, Reg::kFectl, Reg::kFedata, Reg::kFeaddr, Reg::kFeuaddr,
                     stats_.fault_events),
        inv_event_(regs_, Reg::kIectl, Reg::kIedata, Reg::kIeaddr, Reg::kIeuaddr,
                   stats_.invalidation_events),
        recorder_(regs_, config_, fault_event_, stats_),
        queue_(regs_, config_, memory_, target_, recorder_, inv_event_, stats_) {
    fault_event_.set_sink(&faults_);
    inv_event_.set_sink(&events_);
    regs_.set(Reg::kIqa, kQueue);  // QS = 0: 256 descriptors
    regs_.set_field<gsts::QIES>(Reg::kGsts, 1);
  }

  // Appends descriptors at IQT and writes the new tail.
  void submit(const std::vector<model::U128>& ds) {
    std::uint64_t tail = regs_.get(Reg::kIqt);
    for (const auto& d : ds) {
      ASSERT_TRUE(memory_.write(kQueue + tail, d));
      tail = (tail + 16) % 0x1000;
    }
    write_tail(tail);
  }
  void write_tail(std::uint64_t tail) {
    regs_.write(kIqt, 8, tail);
    queue_.process(scalable_, 0);
  }
  std::uint64_t iqh() { return regs_.read(kIqh, 8); }
  std::uint64_t iqei() { return regs_.read(kIqer, 8) & 0xF; }
  std::uint64_t fsts() { return regs_.read(kFsts, 4); }
  void clear_iqe() {
    regs_.write(kFsts, 4, 0x10);
    recorder_.after_status_write();
  }

  UnitConfig config_;
  model::PhysicalMemory memory_;
  UnitStats stats_{};
  RegisterFile regs_;
  EventInterrupt fault_event_;
  EventInterrupt inv_event_;
  FaultRecorder recorder_;
  FakeTarget target_;
  InvalidationQueue queue_;
  FakeSink faults_;
  FakeSink events_;
  bool scalable_ = false;
};

TEST_F(QueueTest, ContextCacheDescriptors) {
  submit({cc_descriptor(1), cc_descriptor(2, 7), cc_descriptor(3, 9, 0x0318, 2)});
  ASSERT_EQ(target_.contexts.size(), 3u);
  EXPECT_EQ(target_.contexts[0].granularity, Granularity::kGlobal);
  EXPECT_EQ(target_.contexts[1].granularity, Granularity::kDomain);
  EXPECT_EQ(target_.contexts[1].did, 7u);
  EXPECT_EQ(target_.contexts[2].granularity, Granularity::kSelective);
  EXPECT_EQ(target_.contexts[2].did, 9u);
  EXPECT_EQ(target_.contexts[2].sid.raw, 0x0318u);
  EXPECT_EQ(target_.contexts[2].function_mask, 2u);
  EXPECT_EQ(iqh(), 0x30u);
  EXPECT_EQ(stats_.qi_descriptors, 3u);
  EXPECT_EQ(fsts(), 0u);
}

TEST_F(QueueTest, IotlbDescriptors) {
  model::U128 drain = iotlb_descriptor(2, 4);
  drain.lo |= 0xC0;  // DR | DW accepted
  submit({iotlb_descriptor(1), drain, iotlb_descriptor(3, 5, 0x7654321000, 3, true)});
  ASSERT_EQ(target_.iotlbs.size(), 3u);
  EXPECT_EQ(target_.iotlbs[0].granularity, Granularity::kGlobal);
  EXPECT_EQ(target_.iotlbs[1].granularity, Granularity::kDomain);
  EXPECT_EQ(target_.iotlbs[1].did, 4u);
  EXPECT_TRUE(target_.iotlbs[1].drain_reads);
  EXPECT_TRUE(target_.iotlbs[1].drain_writes);
  const IotlbInvalidation& p = target_.iotlbs[2];
  EXPECT_EQ(p.granularity, Granularity::kSelective);
  EXPECT_EQ(p.did, 5u);
  EXPECT_EQ(p.address, 0x7654321000u);
  EXPECT_EQ(p.am, 3u);
  EXPECT_TRUE(p.ih);
  EXPECT_FALSE(p.drain_reads);
}

TEST_F(QueueTest, DeviceTlbDescriptorsDecodeTheRange) {
  submit({dev_tlb_descriptor(0x0210, 0x123456000, false, 4),
          dev_tlb_descriptor(0x0210, 0x123455000, true),              // one trailing 1: 16 KiB
          dev_tlb_descriptor(0x0210, 0x123400000 | 0x7F000, true)});  // 2^7 ones: 1 MiB
  ASSERT_EQ(target_.dev_tlbs.size(), 3u);
  EXPECT_EQ(target_.dev_tlbs[0],
            (DeviceTlbInvalidation{model::SourceId{0x0210}, 4, 0x123456000, 12}));
  EXPECT_EQ(target_.dev_tlbs[1].size_order, 14u);
  EXPECT_EQ(target_.dev_tlbs[1].address, 0x123454000u);
  EXPECT_EQ(target_.dev_tlbs[2].size_order, 20u);
  EXPECT_EQ(target_.dev_tlbs[2].address, 0x123400000u);
}

TEST_F(QueueTest, IecDescriptors) {
  submit({iec_descriptor(false), iec_descriptor(true, 0x40, 3)});
  ASSERT_EQ(target_.iecs.size(), 2u);
  EXPECT_TRUE(target_.iecs[0].global);
  EXPECT_FALSE(target_.iecs[1].global);
  EXPECT_EQ(target_.iecs[1].index, 0x40u);
  EXPECT_EQ(target_.iecs[1].index_mask, 3u);
}

TEST_F(QueueTest, WaitDescriptorStatusWriteAndCompletionEvent) {
  ASSERT_TRUE(memory_.write<std::uint64_t>(0x9000, ~std::uint64_t{0}));
  regs_.write(kIedata, 4, 0x0051);
  regs_.write(kIeaddr, 4, 0xFEE02000);
  submit({iotlb_descriptor(1), wait_descriptor(true, false, 0x600DF00D, 0x9004, true)});
  EXPECT_EQ(memory_.read<std::uint64_t>(0x9000).value(), 0x600DF00DFFFFFFFFu);
  EXPECT_EQ(regs_.read(kIcs, 4), 0u);
  // IF with IM = 1: IWC and IP set, no message.
  submit({wait_descriptor(false, true)});
  EXPECT_EQ(regs_.read(kIcs, 4), 1u);
  EXPECT_EQ(regs_.read(kIectl, 4), 0xC0000000u);
  EXPECT_TRUE(events_.messages.empty());
  regs_.write(kIectl, 4, 0);
  inv_event_.on_control_write(0);
  ASSERT_EQ(events_.messages.size(), 1u);
  EXPECT_EQ(events_.messages[0].vector, 0x51);
  EXPECT_EQ(events_.messages[0].destination, 2u);
  EXPECT_EQ(regs_.read(kIectl, 4), 0u);
  // IWC still set: another IF does nothing.
  submit({wait_descriptor(false, true)});
  EXPECT_EQ(events_.messages.size(), 1u);
  // Software clears IWC; SW and IF together both take effect.
  regs_.write(kIcs, 4, 1);
  queue_.after_ics_write();
  EXPECT_EQ(regs_.read(kIcs, 4), 0u);
  submit({wait_descriptor(true, true, 7, 0x9000)});
  EXPECT_EQ(memory_.read<std::uint32_t>(0x9000).value(), 7u);
  EXPECT_EQ(events_.messages.size(), 2u);
  EXPECT_EQ(stats_.qi_wait_descriptors, 4u);
  EXPECT_EQ(stats_.invalidation_events, 2u);
}

TEST_F(QueueTest, ClearingIwcDropsPendingCompletionEvent) {
  submit({wait_descriptor(false, true)});
  EXPECT_EQ(regs_.read(kIectl, 4), 0xC0000000u);
  regs_.write(kIcs, 4, 1);
  queue_.after_ics_write();
  EXPECT_EQ(regs_.read(kIectl, 4), 0x80000000u);
  regs_.write(kIectl, 4, 0);
  inv_event_.on_control_write(0);
  EXPECT_TRUE(events_.messages.empty());
}

TEST_F(QueueTest, QueueWrapsAround) {
  regs_.set(Reg::kIqh, 0xFF0);
  regs_.set(Reg::kIqt, 0xFF0);
  submit({cc_descriptor(1), cc_descriptor(1), cc_descriptor(1)});
  EXPECT_EQ(target_.contexts.size(), 3u);
  EXPECT_EQ(iqh(), 0x20u);
}

TEST_F(QueueTest, NothingHappensWhileQieIsClear) {
  regs_.set_field<gsts::QIES>(Reg::kGsts, 0);
  submit({cc_descriptor(1)});
  EXPECT_EQ(target_.total(), 0u);
  EXPECT_EQ(iqh(), 0u);
}

// One bad descriptor after a good one: IQE, IQEI, IQH at the bad slot, nothing after it runs;
// the fault event is raised; fixing the slot, clearing IQE and rewriting IQT resumes.
struct BadDescriptorCase {
  const char* name;
  model::U128 descriptor;
  QueueError error;
};

void PrintTo(const BadDescriptorCase& c, std::ostream* os) {
  *os << c.name;
}

class QueueErrorTest : public QueueTest, public ::testing::WithParamInterface<BadDescriptorCase> {};

TEST_P(QueueErrorTest, StopsAtTheBadDescriptorAndResumes) {
  regs_.write(kFectl, 4, 0);  // unmask the fault event
  fault_event_.on_control_write(0);
  submit({cc_descriptor(1), GetParam().descriptor, iotlb_descriptor(1)});
  EXPECT_EQ(target_.contexts.size(), 1u);
  EXPECT_EQ(target_.iotlbs.size(), 0u);
  EXPECT_EQ(fsts(), 0x10u);
  EXPECT_EQ(iqei(), static_cast<std::uint64_t>(GetParam().error));
  EXPECT_EQ(iqh(), 0x10u);
  EXPECT_EQ(faults_.messages.size(), 1u);
  EXPECT_EQ(stats_.qi_errors, 1u);
  // While IQE is set, tail writes fetch nothing.
  write_tail(0x30);
  EXPECT_EQ(iqh(), 0x10u);
  // Software replaces the bad descriptor by a wait, clears IQE, rewrites IQT.
  ASSERT_TRUE(memory_.write(kQueue + 0x10, wait_descriptor(false, false)));
  clear_iqe();
  EXPECT_EQ(fsts(), 0u);
  EXPECT_EQ(iqh(), 0x10u);  // no fetch before the next IQT write
  write_tail(0x30);
  EXPECT_EQ(iqh(), 0x30u);
  EXPECT_EQ(target_.iotlbs.size(), 1u);
  EXPECT_EQ(stats_.qi_errors, 1u);
}

model::U128 with(model::U128 d, std::uint64_t lo_bits, std::uint64_t hi_bits = 0) {
  d.lo |= lo_bits;
  d.hi |= hi_bits;
  return d;
}

INSTANTIATE_TEST_SUITE_P(
    Causes, QueueErrorTest,
    ::testing::Values(
        BadDescriptorCase{"type0", {0, 0}, QueueError::kInvalidType},
        BadDescriptorCase{"type6_pasid_iotlb", {6, 0}, QueueError::kInvalidType},
        BadDescriptorCase{"type7_pasid_cache", {7, 0}, QueueError::kInvalidType},
        BadDescriptorCase{"type_hi_bits", with(cc_descriptor(1), 1u << 9),
                          QueueError::kInvalidType},
        BadDescriptorCase{"cc_reserved_lo", with(cc_descriptor(1), 1u << 6),
                          QueueError::kReservedField},
        BadDescriptorCase{"cc_reserved_hi", with(cc_descriptor(1), 0, 1),
                          QueueError::kReservedField},
        BadDescriptorCase{"cc_granularity_00", cc_descriptor(0), QueueError::kReservedField},
        BadDescriptorCase{"iotlb_reserved_lo", with(iotlb_descriptor(1), 1ull << 32),
                          QueueError::kReservedField},
        BadDescriptorCase{"iotlb_reserved_hi", with(iotlb_descriptor(1), 0, 1u << 7),
                          QueueError::kReservedField},
        BadDescriptorCase{"iotlb_granularity_00", iotlb_descriptor(0), QueueError::kReservedField},
        BadDescriptorCase{"iotlb_am_beyond_mamv", iotlb_descriptor(3, 1, 0, 19),
                          QueueError::kReservedField},
        BadDescriptorCase{"devtlb_pfsid_without_dit",
                          with(dev_tlb_descriptor(1, 0, false), 1u << 12),
                          QueueError::kReservedField},
        BadDescriptorCase{"iec_reserved", with(iec_descriptor(false), 1u << 12),
                          QueueError::kReservedField},
        BadDescriptorCase{"iec_reserved_hi", with(iec_descriptor(false), 0, 1ull << 63),
                          QueueError::kReservedField},
        BadDescriptorCase{"wait_pd_without_pds", with(wait_descriptor(false, false), 1u << 7),
                          QueueError::kReservedField},
        BadDescriptorCase{"wait_reserved_addr_bits", with(wait_descriptor(true, false), 0, 2),
                          QueueError::kReservedField}),
    [](const auto& p) { return std::string(p.param.name); });

TEST_F(QueueTest, IecIndexMaskBeyondMhmv) {
  submit({iec_descriptor(true, 0, 16 - 1), iec_descriptor(true, 0, 16)});
  // IM is 5 bits; MHMV = 15 allows 0..15.
  EXPECT_EQ(target_.iecs.size(), 1u);
  EXPECT_EQ(iqei(), static_cast<std::uint64_t>(QueueError::kReservedField));
  EXPECT_EQ(iqh(), 0x10u);
}

TEST_F(QueueTest, TailBeyondTheQueue) {
  ASSERT_TRUE(memory_.write(kQueue, cc_descriptor(1)));
  write_tail(0x1000);  // QS = 0: 256 entries, offset 0x1000 is entry 256
  EXPECT_EQ(fsts(), 0x10u);
  EXPECT_EQ(iqei(), static_cast<std::uint64_t>(QueueError::kInvalidTail));
  EXPECT_EQ(iqh(), 0u);
  EXPECT_EQ(target_.total(), 0u);
  clear_iqe();
  write_tail(0x10);
  EXPECT_EQ(target_.contexts.size(), 1u);
  EXPECT_EQ(fsts(), 0u);
}

TEST_F(QueueTest, FetchErrorBeyondPhysicalMemory) {
  regs_.set(Reg::kIqa, std::uint64_t{1} << 41);  // within HAW, beyond the 40-bit memory
  write_tail(0x10);
  EXPECT_EQ(iqei(), static_cast<std::uint64_t>(QueueError::kFetchError));
  EXPECT_EQ(iqh(), 0u);
}

TEST_F(QueueTest, LegacyWidthWithScalableTtmIsInvalid) {
  scalable_ = true;
  ASSERT_TRUE(memory_.write(kQueue, cc_descriptor(1)));
  write_tail(0x10);
  EXPECT_EQ(iqei(), static_cast<std::uint64_t>(QueueError::kInvalidWidth));
  EXPECT_EQ(target_.total(), 0u);
}

TEST_F(QueueTest, DeviceTlbAndIecNeedTheirCapabilities) {
  UnitConfig c;
  c.device_tlb = false;
  c.interrupt_remapping = false;
  c.eim = false;
  c.posted_interrupts = false;
  UnitStats stats{};
  RegisterFile regs(c);
  EventInterrupt fe(regs, Reg::kFectl, Reg::kFedata, Reg::kFeaddr, Reg::kFeuaddr,
                    stats.fault_events);
  EventInterrupt ie(regs, Reg::kIectl, Reg::kIedata, Reg::kIeaddr, Reg::kIeuaddr,
                    stats.invalidation_events);
  FaultRecorder rec(regs, c, fe, stats);
  FakeTarget target;
  InvalidationQueue q(regs, c, memory_, target, rec, ie, stats);
  regs.set(Reg::kIqa, kQueue);
  regs.set_field<gsts::QIES>(Reg::kGsts, 1);
  ASSERT_TRUE(memory_.write(kQueue, dev_tlb_descriptor(1, 0, false)));
  ASSERT_TRUE(memory_.write(kQueue + 16, iec_descriptor(false)));
  regs.write(kIqt, 8, 0x20);
  q.process(false, 0);
  EXPECT_EQ(regs.field<iqer::IQEI>(Reg::kIqer), 3u);
  EXPECT_EQ(regs.get(Reg::kIqh), 0u);
  ASSERT_TRUE(memory_.write(kQueue, wait_descriptor(false, false)));
  regs.write(kFsts, 4, 0x10);
  q.process(false, 0);
  EXPECT_EQ(regs.get(Reg::kIqh), 0x10u);
  EXPECT_EQ(regs.field<iqer::IQEI>(Reg::kIqer), 3u);
  EXPECT_EQ(regs.field<fsts::IQE>(Reg::kFsts), 1u);
  EXPECT_EQ(target.total(), 0u);
}

class WideQueueTest : public QueueTest {
 protected:
  static UnitConfig wide_config() {
    UnitConfig c;
    c.scalable_mode = true;
    return c;
  }
  WideQueueTest() : QueueTest(wide_config()) {
    regs_.set(Reg::kIqa, kQueue | (1u << 11));  // DW = 1: 128 descriptors of 32 bytes
  }
  void put(unsigned slot, model::U128 lo, model::U128 hi = {}) {
    ASSERT_TRUE(memory_.write(kQueue + 32 * slot, lo));
    ASSERT_TRUE(memory_.write(kQueue + 32 * slot + 16, hi));
  }
};

TEST_F(WideQueueTest, Processes256BitDescriptors) {
  scalable_ = true;
  put(0, cc_descriptor(1));
  put(1, iotlb_descriptor(2, 3));
  write_tail(0x40);
  EXPECT_EQ(target_.contexts.size(), 1u);
  EXPECT_EQ(target_.iotlbs.size(), 1u);
  EXPECT_EQ(iqh(), 0x40u);
}

TEST_F(WideQueueTest, TailWithBit4SetIsInvalid) {
  put(0, cc_descriptor(1));
  write_tail(0x30);
  EXPECT_EQ(iqei(), static_cast<std::uint64_t>(QueueError::kInvalidTail));
  EXPECT_EQ(target_.total(), 0u);
}

TEST_F(WideQueueTest, TailBeyondTheWideQueue) {
  write_tail(0x1000);  // 128 entries of 32 bytes
  EXPECT_EQ(iqei(), static_cast<std::uint64_t>(QueueError::kInvalidTail));
}

TEST_F(WideQueueTest, UpperHalfOfLegacyTypesIsReserved) {
  put(0, cc_descriptor(1));
  put(1, cc_descriptor(1), {0, 1});
  write_tail(0x40);
  EXPECT_EQ(target_.contexts.size(), 1u);
  EXPECT_EQ(iqei(), static_cast<std::uint64_t>(QueueError::kReservedField));
  EXPECT_EQ(iqh(), 0x20u);
}

}  // namespace
}  // namespace vtdsim::iommu
