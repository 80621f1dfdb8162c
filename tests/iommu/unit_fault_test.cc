// Fault recording and the fault event, on the FaultRecorder with a register file (records read
// back through MMIO decoding): record contents bit-exact, PPF/FRI, round-robin, overflow, IM/IP.
#include <gtest/gtest.h>

#include "iommu/event_interrupt.h"
#include "iommu/fault_recorder.h"
#include "iommu/register_file.h"
#include "iommu/registers.h"
#include "tests/iommu/unit_test_util.h"

namespace vtdsim::iommu {
namespace {

using test_support::FakeSink;
using namespace reg_offset;

class FaultRecorderTest : public ::testing::Test {
 protected:
  static UnitConfig make_config() {
    UnitConfig c;
    c.nfr = 4;
    return c;
  }
  FaultRecorderTest()
      : config_(make_config()),
        regs_(config_),
        event_(regs_, Reg::kFectl, Reg::kFedata, Reg::kFeaddr, Reg::kFeuaddr, stats_.fault_events),
        recorder_(regs_, config_, event_, stats_) {
    event_.set_sink(&sink_);
  }

  FaultInfo dma(std::uint64_t address, std::uint8_t reason, std::uint16_t sid = 0x0108,
                model::AccessType access = model::AccessType::kRead) {
    FaultInfo f;
    f.source = model::SourceId{sid};
    f.reason = reason;
    f.address = address;
    f.access = access;
    return f;
  }
  std::uint64_t lo(unsigned i) { return regs_.read(0x220 + 16 * i, 8); }
  std::uint64_t hi(unsigned i) { return regs_.read(0x228 + 16 * i, 8); }
  std::uint64_t fsts() { return regs_.read(kFsts, 4); }
  std::uint64_t fectl() { return regs_.read(kFectl, 4); }
  void clear_record(unsigned i) {
    regs_.write(0x22C + 16 * i, 4, 0x80000000);
    recorder_.after_status_write();
  }
  void write_fsts(std::uint64_t v) {
    regs_.write(kFsts, 4, v);
    recorder_.after_status_write();
  }
  void write_fectl(std::uint64_t v) {
    regs_.write(kFectl, 4, v);
    event_.on_control_write(0);
  }

  UnitConfig config_;
  UnitStats stats_{};
  RegisterFile regs_;
  EventInterrupt event_;
  FaultRecorder recorder_;
  FakeSink sink_;
};

TEST_F(FaultRecorderTest, DmaReadFaultRecordIsBitExact) {
  EXPECT_TRUE(recorder_.record(dma(0x12345678, 0x06), 10));
  EXPECT_EQ(lo(0), 0x12345000u);
  EXPECT_EQ(hi(0), 0xC000000600000108u);  // F, T=read, FR=6, SID 01:01.0
  EXPECT_EQ(regs_.read(0x22C, 4), 0xC0000006u);
  EXPECT_EQ(fsts(), 0x2u);  // PPF, FRI = 0
  EXPECT_EQ(stats_.faults_recorded, 1u);
}

TEST_F(FaultRecorderTest, WriteFaultTranslatedRequestAndPasid) {
  FaultInfo f = dma(0xFFFF'1234'5678'9ABC, 0x05, 0xFFFF, model::AccessType::kWrite);
  f.address_type = model::AddressType::kTranslated;
  f.has_pasid = true;
  f.pasid = 0xABCDE;
  f.privileged = true;
  f.execute = true;
  EXPECT_TRUE(recorder_.record(f, 0));
  EXPECT_EQ(lo(0), 0x0000'1234'5678'9000u);  // FI limited to MGAW (48 bits)
  // F | AT=10 | PV | FR=5 | PP | EXE | PRIV | SID
  EXPECT_EQ(hi(0), (1ull << 63) | (2ull << 60) | (0xABCDEull << 40) | (5ull << 32) | (1ull << 31) |
                       (1ull << 30) | (1ull << 29) | 0xFFFFu);
}

TEST_F(FaultRecorderTest, InterruptFaultRecordsIndexInFi) {
  FaultInfo f;
  f.source = model::SourceId{0x0320};
  f.reason = 0x22;
  f.interrupt = true;
  f.index = 0x1234;
  f.address = 0xFFFFF000;  // ignored for IR faults
  f.access = model::AccessType::kWrite;
  EXPECT_TRUE(recorder_.record(f, 0));
  EXPECT_EQ(lo(0), 0x1234000000000000u);
  EXPECT_EQ(hi(0), 0x8000002200000320u);  // no T bit for IR faults
}

TEST_F(FaultRecorderTest, PpfFriAndRoundRobin) {
  recorder_.record(dma(0x1000, 2), 0);
  recorder_.record(dma(0x2000, 3), 0);
  EXPECT_EQ(fsts(), 0x2u);  // FRI stays at the first pending record
  EXPECT_EQ(lo(1), 0x2000u);
  clear_record(0);
  EXPECT_EQ(fsts(), 0x2u);  // record 1 still pending
  recorder_.record(dma(0x3000, 4), 0);
  EXPECT_EQ(lo(2), 0x3000u);  // next index keeps going round-robin
  clear_record(1);
  clear_record(2);
  EXPECT_EQ(fsts(), 0x0u);
  recorder_.record(dma(0x4000, 5), 0);
  EXPECT_EQ(lo(3), 0x4000u);
  EXPECT_EQ(fsts(), 0x302u);  // PPF, FRI = 3
  recorder_.record(dma(0x5000, 5), 0);
  EXPECT_EQ(lo(0), 0x5000u);  // wrapped
  EXPECT_EQ(recorder_.next_index(), 1u);
  EXPECT_EQ(stats_.faults_recorded, 5u);
}

TEST_F(FaultRecorderTest, OverflowSetsPfoAndDropsFaults) {
  for (unsigned i = 0; i < 4; ++i) EXPECT_TRUE(recorder_.record(dma(0x1000 * (i + 1), 6), 0));
  EXPECT_FALSE(recorder_.record(dma(0x9000, 6), 0));  // record 0 still pending
  EXPECT_EQ(fsts(), 0x3u);                            // PFO | PPF
  EXPECT_EQ(lo(0), 0x1000u);
  clear_record(0);
  EXPECT_FALSE(recorder_.record(dma(0xA000, 6), 0));  // PFO still set: dropped
  EXPECT_EQ(lo(0), 0x1000u);
  EXPECT_EQ(hi(0), 0x4000000600000108u);  // F cleared, contents kept
  write_fsts(0x1);                        // clear PFO (RW1C)
  EXPECT_EQ(fsts(), 0x2u);
  EXPECT_TRUE(recorder_.record(dma(0xB000, 6), 0));
  EXPECT_EQ(lo(0), 0xB000u);
  EXPECT_EQ(stats_.faults_dropped_overflow, 2u);
  EXPECT_EQ(stats_.faults_recorded, 5u);
}

TEST_F(FaultRecorderTest, FaultEventHeldByImAndDeliveredOnce) {
  regs_.write(kFedata, 4, 0x4041);      // vector 0x41, delivery mode 0
  regs_.write(kFeaddr, 4, 0xFEE03000);  // destination 3
  recorder_.record(dma(0x1000, 2), 5);
  EXPECT_EQ(fectl(), 0xC0000000u);  // IM | IP
  EXPECT_TRUE(sink_.messages.empty());
  recorder_.record(dma(0x2000, 2), 6);  // PPF already set: no new condition
  write_fectl(0);                       // clear IM: the pending message goes out
  ASSERT_EQ(sink_.messages.size(), 1u);
  EXPECT_EQ(sink_.messages[0].vector, 0x41);
  EXPECT_EQ(sink_.messages[0].destination, 3u);
  EXPECT_EQ(fectl(), 0u);
  write_fectl(0);
  EXPECT_EQ(sink_.messages.size(), 1u);
  EXPECT_EQ(stats_.fault_events, 1u);
  // A new condition while PPF is still set does not interrupt.
  recorder_.record(dma(0x3000, 2), 7);
  EXPECT_EQ(sink_.messages.size(), 1u);
  // Service everything, then a new fault interrupts immediately (IM = 0).
  for (unsigned i = 0; i < 3; ++i) clear_record(i);
  recorder_.record(dma(0x4000, 2), 8);
  ASSERT_EQ(sink_.messages.size(), 2u);
  EXPECT_EQ(sink_.messages[1].time, 8u);
  EXPECT_EQ(fsts(), 0x302u);
}

TEST_F(FaultRecorderTest, ServicingStatusDropsPendingEvent) {
  recorder_.record(dma(0x1000, 2), 0);
  EXPECT_EQ(fectl(), 0xC0000000u);
  clear_record(0);
  EXPECT_EQ(fectl(), 0x80000000u);  // IP cleared with PPF
  write_fectl(0);
  EXPECT_TRUE(sink_.messages.empty());
}

TEST_F(FaultRecorderTest, InvalidationErrorRaisesFaultEvent) {
  write_fectl(0);
  recorder_.set_error(fsts::IQE::kMask, 3);
  EXPECT_EQ(fsts(), 0x10u);
  ASSERT_EQ(sink_.messages.size(), 1u);
  recorder_.record(dma(0x1000, 2), 4);  // IQE pending: PPF is not a new condition
  EXPECT_EQ(sink_.messages.size(), 1u);
  EXPECT_EQ(fsts(), 0x12u);
  write_fsts(0x10);
  EXPECT_EQ(fsts(), 0x2u);
}

}  // namespace
}  // namespace vtdsim::iommu
