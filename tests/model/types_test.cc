// Shared vocabulary: SourceId, compatibility-format MSI decoding, the interrupt window, the
// DmaTranslator / InterruptSink interfaces (through fakes) and error names.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "model/dma_translator.h"
#include "model/error.h"
#include "model/interrupt_sink.h"
#include "model/types.h"

namespace vtdsim::model {
namespace {

TEST(SourceId, FieldsAndText) {
  constexpr SourceId sid = SourceId::make(0x3A, 0x1F, 7);
  static_assert(sid.raw == 0x3AFF);
  EXPECT_EQ(sid.bus(), 0x3Au);
  EXPECT_EQ(sid.dev(), 0x1Fu);
  EXPECT_EQ(sid.fn(), 7u);
  EXPECT_EQ(sid.devfn(), 0xFFu);
  EXPECT_EQ(to_string(sid), "3a:1f.7");
  EXPECT_EQ(to_string(SourceId::make(0, 2, 0)), "00:02.0");
  EXPECT_EQ(to_string(SourceId{0x0108}), "01:01.0");
  // Out-of-range parts are truncated to their field widths.
  EXPECT_EQ(SourceId::make(0x1FF, 0x20, 8).raw, 0xFF00u);
  EXPECT_LT(SourceId::make(0, 31, 7), SourceId::make(1, 0, 0));
  EXPECT_EQ(SourceId::make(1, 2, 3), SourceId{0x0113});
}

TEST(InterruptSink, DecodeCompatMsi) {
  // Destination 0x12, RH=1, DM=1 (logical); vector 0x41, lowest priority, level-triggered.
  constexpr ApicMessage m = decode_compat_msi(0xFEE1200C, 0x8141);
  static_assert(m.destination == 0x12);
  EXPECT_EQ(m.destination, 0x12u);
  EXPECT_TRUE(m.redirection_hint);
  EXPECT_TRUE(m.logical);
  EXPECT_EQ(m.vector, 0x41u);
  EXPECT_EQ(m.delivery_mode, DeliveryMode::kLowestPriority);
  EXPECT_TRUE(m.level);
  EXPECT_EQ(m.time, 0u);

  const ApicMessage n = decode_compat_msi(0xFEEFF000, 0x0430);
  ApicMessage expected;
  expected.destination = 0xFF;
  expected.vector = 0x30;
  expected.delivery_mode = DeliveryMode::kNmi;
  EXPECT_EQ(n, expected);

  // Data bit 14 (level assert) and address bits outside 19:12, 3, 2 do not change the message.
  EXPECT_EQ(decode_compat_msi(0xFEE01FF3, 0x4000 | 0x0720), decode_compat_msi(0xFEE01000, 0x0720));
  EXPECT_EQ(decode_compat_msi(0xFEE01000, 0x0720).delivery_mode, DeliveryMode::kExtInt);
  EXPECT_EQ(decode_compat_msi(0xFEE01000, 0x0500).delivery_mode, DeliveryMode::kInit);
  EXPECT_EQ(decode_compat_msi(0xFEE01000, 0x0200).delivery_mode, DeliveryMode::kSmi);
  EXPECT_EQ(decode_compat_msi(0xFEE01000, 0x0000).delivery_mode, DeliveryMode::kFixed);
}

TEST(InterruptSink, InterruptWindow) {
  static_assert(in_interrupt_window(0xFEE00000));
  EXPECT_TRUE(in_interrupt_window(0xFEEFFFFF));
  EXPECT_FALSE(in_interrupt_window(0xFEDFFFFF));
  EXPECT_FALSE(in_interrupt_window(0xFEF00000));
  EXPECT_FALSE(in_interrupt_window(0x1FEE00000));
}

class RecordingSink : public InterruptSink {
 public:
  void deliver(const ApicMessage& message) override { delivered.push_back(message); }
  std::vector<ApicMessage> delivered;
};

// Identity-maps reads and faults writes with reason 5 (write to a read-only page).
class FakeTranslator : public DmaTranslator {
 public:
  Translation translate(const DmaRequest& r) override {
    Translation t;
    if (r.access == AccessType::kWrite) {
      t.fault_reason = 5;
      t.fault_recorded = true;
    } else {
      t.status = TranslationStatus::kOk;
      t.hpa = r.address;
      t.page_size = 4096;
      t.permissions = Permissions{true, false, false};
    }
    t.completion = r.arrival + 7;
    t.latency = 7;
    return t;
  }
};

TEST(Interfaces, FakesThroughTheBaseClasses) {
  RecordingSink sink;
  InterruptSink& s = sink;
  s.deliver(decode_compat_msi(0xFEE02000, 0x31));
  ASSERT_EQ(sink.delivered.size(), 1u);
  EXPECT_EQ(sink.delivered[0].destination, 2u);
  EXPECT_EQ(sink.delivered[0].vector, 0x31u);

  FakeTranslator fake;
  DmaTranslator& tr = fake;
  DmaRequest req;
  EXPECT_EQ(req.size, 4u);
  EXPECT_EQ(req.access, AccessType::kRead);
  EXPECT_EQ(req.address_type, AddressType::kUntranslated);
  EXPECT_FALSE(req.has_pasid);
  req.address = 0x1234;
  req.arrival = 100;
  const Translation ok = tr.translate(req);
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.hpa, 0x1234u);
  EXPECT_EQ(ok.completion, 107u);
  req.access = AccessType::kWrite;
  const Translation bad = tr.translate(req);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status, TranslationStatus::kFault);
  EXPECT_EQ(bad.fault_reason, 5u);
  EXPECT_FALSE(Translation{}.ok());  // a default result is a fault, never a silent success
}

TEST(Error, CodesHaveDistinctNames) {
  std::set<std::string> names;
  for (auto code : {ErrorCode::kInvalidArgument, ErrorCode::kOutOfRange, ErrorCode::kExhausted,
                    ErrorCode::kNotFound, ErrorCode::kAlreadyExists, ErrorCode::kBusy,
                    ErrorCode::kParse, ErrorCode::kUnsupported, ErrorCode::kIo}) {
    names.insert(to_string(code));
  }
  EXPECT_EQ(names.size(), 9u);
  EXPECT_EQ(std::string(to_string(ErrorCode::kOutOfRange)), "out of range");
  const Status s = make_error(ErrorCode::kBusy, "unit is busy");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kBusy);
  EXPECT_EQ(s.error().message, "unit is busy");
}

}  // namespace
}  // namespace vtdsim::model
