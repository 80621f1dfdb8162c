// Interrupt posting (VT-d §5.2.3, descriptor §9.11): PIR bit, ON transitions, SN suppression,
// URG override, notification fields, two vectors in one descriptor, descriptor faults.
#include <gtest/gtest.h>

#include "irq_remap/posted.h"
#include "tests/irq_remap/ir_test_util.h"

namespace vtdsim::irq_remap {
namespace {

using testing::IrFixture;
using testing::pid_control;
using testing::PostedIrte;

class Posted : public IrFixture {
 protected:
  void set_control(bool on, bool sn, std::uint8_t nv, std::uint32_t ndst) {
    ASSERT_TRUE(mem_.write<std::uint64_t>(kPid + 32, pid_control(on, sn, nv, ndst)));
  }
  std::uint64_t control() { return q(kPid + 32); }
  std::uint64_t pir(unsigned word) { return q(kPid + 8 * word); }
  void put_posted(std::uint16_t index, std::uint8_t vv, bool urg = false, bool fpd = false,
                  std::uint64_t pda = kPid) {
    PostedIrte p;
    p.vv = vv;
    p.urg = urg;
    p.fpd = fpd;
    p.pda = pda;
    put(index, p.build());
  }
};

TEST_F(Posted, FirstPostSetsPirAndOnAndNotifiesX2apic) {
  set_control(false, false, 0xF2, 0x00012345);
  put_posted(9, 0x50);
  const IrResult r = fire(9, 1000);
  EXPECT_EQ(r.outcome, IrOutcome::kPosted);
  EXPECT_TRUE(r.notify);
  model::ApicMessage want;
  want.destination = 0x00012345;
  want.vector = 0xF2;
  want.delivery_mode = model::DeliveryMode::kFixed;
  want.time = 1000 + 3 + 50 + 70;
  EXPECT_EQ(r.notification, want);
  EXPECT_EQ(r.completion, 1123u);
  EXPECT_EQ(r.index, 9);
  EXPECT_EQ(pir(0), 0u);
  EXPECT_EQ(pir(1), std::uint64_t{1} << (0x50 - 64));
  EXPECT_EQ(pir(2), 0u);
  EXPECT_EQ(pir(3), 0u);
  EXPECT_EQ(control(), pid_control(true, false, 0xF2, 0x00012345));
  EXPECT_EQ(ir_.stats().posted, 1u);
  EXPECT_EQ(ir_.stats().notifications, 1u);
}

TEST_F(Posted, TwoVectorsOneDescriptorSecondIsNotNotified) {
  set_control(false, false, 0xF2, 3);
  put_posted(9, 0x50);
  put_posted(10, 0xC3);
  EXPECT_TRUE(fire(9).notify);
  const IrResult r = fire(10, 2000);
  EXPECT_EQ(r.outcome, IrOutcome::kPosted);
  EXPECT_FALSE(r.notify);  // ON already set
  EXPECT_EQ(r.notification, model::ApicMessage{});
  EXPECT_EQ(r.completion, 2000u + 3 + 50 + 70);
  EXPECT_EQ(pir(1), std::uint64_t{1} << (0x50 - 64));
  EXPECT_EQ(pir(3), std::uint64_t{1} << (0xC3 - 192));
  EXPECT_EQ(control(), pid_control(true, false, 0xF2, 3));
  // The CPU consumes the notification: clears ON and PIR. The next post notifies again.
  ASSERT_TRUE(mem_.write<std::uint64_t>(kPid + 8, 0));
  ASSERT_TRUE(mem_.write<std::uint64_t>(kPid + 24, 0));
  set_control(false, false, 0xF2, 3);
  EXPECT_TRUE(fire(10, 3000).notify);  // IEC hit: 3000 + 3 + 70
  EXPECT_EQ(pir(3), std::uint64_t{1} << (0xC3 - 192));
  EXPECT_EQ(ir_.stats().notifications, 2u);
  EXPECT_EQ(ir_.stats().notifications_suppressed, 1u);
}

TEST_F(Posted, PostingTheSameVectorTwiceKeepsOneBit) {
  set_control(true, false, 0xF2, 3);
  put_posted(9, 0x00);
  EXPECT_FALSE(fire(9).notify);
  EXPECT_FALSE(fire(9).notify);
  EXPECT_EQ(pir(0), 1u);
}

TEST_F(Posted, SuppressNotificationHoldsNonUrgent) {
  set_control(false, true, 0xF2, 3);
  put_posted(9, 0x31);
  const IrResult r = fire(9);
  EXPECT_EQ(r.outcome, IrOutcome::kPosted);
  EXPECT_FALSE(r.notify);
  EXPECT_EQ(pir(0), std::uint64_t{1} << 0x31);
  EXPECT_EQ(control(), pid_control(false, true, 0xF2, 3));  // ON not modified
  EXPECT_EQ(ir_.stats().notifications_suppressed, 1u);
}

TEST_F(Posted, UrgentOverridesSuppressNotification) {
  set_control(false, true, 0xE1, 0x44);
  put_posted(9, 0x31, /*urg=*/true);
  const IrResult r = fire(9);
  EXPECT_TRUE(r.notify);
  EXPECT_EQ(r.notification.vector, 0xE1);
  EXPECT_EQ(r.notification.destination, 0x44u);
  EXPECT_EQ(control(), pid_control(true, true, 0xE1, 0x44));
  // Urgent but ON already set: no second notification.
  EXPECT_FALSE(fire(9).notify);
}

TEST_F(Posted, XapicNotificationDestinationIsNdstBits15To8) {
  state_.eime = false;
  set_control(false, false, 0xF0, 0x00000900);
  put_posted(9, 0x40);
  const IrResult r = fire(9);
  EXPECT_TRUE(r.notify);
  EXPECT_EQ(r.notification.destination, 9u);
  EXPECT_FALSE(r.notification.logical);
  EXPECT_FALSE(r.notification.level);
  EXPECT_FALSE(r.notification.redirection_hint);
}

TEST_F(Posted, DescriptorReservedBitsBlockAndLeaveItUntouched) {
  // xAPIC mode: NDST bits outside 15:8 are reserved.
  state_.eime = false;
  set_control(false, false, 0xF0, 0x00010900);
  put_posted(9, 0x40, false, /*fpd=*/true);
  IrResult r = fire(9);
  EXPECT_EQ(r.outcome, IrOutcome::kFault);
  EXPECT_EQ(r.fault_reason, 0x28);
  EXPECT_TRUE(r.fpd);
  EXPECT_EQ(r.completion, 1123u);
  EXPECT_EQ(pir(1), 0u);
  EXPECT_EQ(control(), pid_control(false, false, 0xF0, 0x00010900));
  // Reserved 271:258 and 511:320 in either mode.
  state_.eime = true;
  set_control(false, false, 0xF0, 1);
  ASSERT_TRUE(mem_.write<std::uint64_t>(kPid + 32, control() | (1ull << 2)));
  r = fire(9);
  EXPECT_EQ(r.fault_reason, 0x28);
  set_control(false, false, 0xF0, 1);
  ASSERT_TRUE(mem_.write<std::uint64_t>(kPid + 56, 1ull << 63));
  r = fire(9);
  EXPECT_EQ(r.fault_reason, 0x28);
  EXPECT_EQ(pir(1), 0u);
  EXPECT_EQ(ir_.stats().fault_pid_reserved, 3u);
}

TEST_F(Posted, DescriptorBeyondMemoryIsAnUnqualifiedAccessError) {
  put_posted(9, 0x40, false, /*fpd=*/true, (1ull << 40) + 0x40);
  const IrResult r = fire(9);
  EXPECT_EQ(r.outcome, IrOutcome::kFault);
  EXPECT_EQ(r.fault_reason, 0x27);
  EXPECT_FALSE(r.fpd);
  EXPECT_EQ(r.completion, 1123u);
  EXPECT_EQ(ir_.stats().fault_pid_access, 1u);
  // Last 64 bytes of memory are fine.
  set_control(false, false, 0xF2, 1);
  put_posted(10, 0x40, false, false, (1ull << 40) - 64);
  EXPECT_EQ(fire(10).outcome, IrOutcome::kPosted);
  EXPECT_EQ(q((1ull << 40) - 64 + 8), 1u);
}

TEST_F(Posted, SourceIdAndPresenceAreCheckedForPostedEntries) {
  set_control(false, false, 0xF2, 1);
  PostedIrte p;
  p.pda = kPid;
  p.svt = 1;
  p.sid = 0x0001;
  p.fpd = true;
  put(11, p.build());
  IrResult r = fire(11);
  EXPECT_EQ(r.fault_reason, 0x26);
  EXPECT_TRUE(r.fpd);
  p.present = false;
  put(12, p.build());
  r = fire(12);
  EXPECT_EQ(r.fault_reason, 0x22);
  // Reserved bits of the posted format: 7:2, 13:12, 37:24, 95:84.
  p.present = true;
  p.svt = 0;
  std::uint16_t index = 13;
  for (auto [word, bit] : {std::pair{0u, 2u},
                           {0u, 7u},
                           {0u, 12u},
                           {0u, 13u},
                           {0u, 24u},
                           {0u, 37u},
                           {1u, 20u},
                           {1u, 31u}}) {
    model::Entry128 e = p.build();
    e.q[word] |= std::uint64_t{1} << bit;
    put(index, e);
    r = fire(index);
    EXPECT_EQ(r.fault_reason, 0x24) << word << ":" << bit;
    EXPECT_TRUE(r.fpd);
    ++index;
  }
  EXPECT_EQ(pir(1), 0u);
  EXPECT_EQ(control(), pid_control(false, false, 0xF2, 1));
}

TEST(PostInterrupt, DirectCallOnAFreshDescriptor) {
  model::PhysicalMemory mem(32);
  // Zeroed descriptor: ON=0, SN=0, NV=0, NDST=0 → notification to APIC 0 with vector 0.
  const PostOutcome o = post_interrupt(mem, 0x1000, 0xFF, false, true);
  EXPECT_FALSE(o.fault);
  EXPECT_TRUE(o.notify);
  EXPECT_EQ(mem.read<std::uint64_t>(0x1018).value(), 1ull << 63);
  EXPECT_EQ(mem.read<std::uint64_t>(0x1020).value(), 1u);
}

}  // namespace
}  // namespace vtdsim::irq_remap
