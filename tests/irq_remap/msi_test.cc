// Remappable/compatibility MSI decoding and encoding, IOAPIC RTE decoding (VT-d §5.1.2, §5.1.5).
#include <gtest/gtest.h>

#include "irq_remap/msi.h"

namespace vtdsim::irq_remap {
namespace {

TEST(Msi, DecodesRemappableHandleShvSubhandle) {
  // HANDLE[14:0] = 0x1234 in 19:5, HANDLE[15] in bit 2, IF bit 4, SHV bit 3.
  const std::uint64_t address = 0xFEE00000u | (0x1234u << 5) | (1u << 4) | (1u << 3) | (1u << 2);
  const MsiRequest r = decode_msi(address, 0x0007);
  EXPECT_TRUE(r.remappable);
  EXPECT_TRUE(r.shv);
  EXPECT_EQ(r.handle, 0x9234);
  EXPECT_EQ(r.subhandle, 7);
  EXPECT_EQ(r.index, 0x923Bu);
  EXPECT_FALSE(r.reserved_violation);
}

TEST(Msi, WithoutShvTheDataIsIgnored) {
  const std::uint64_t address = 0xFEE00000u | (0x10u << 5) | (1u << 4);
  const MsiRequest r = decode_msi(address, 0xFFFF0005u);
  EXPECT_FALSE(r.shv);
  EXPECT_EQ(r.index, 0x10u);
  EXPECT_FALSE(r.reserved_violation);  // data 31:16 is ignored without SHV
}

TEST(Msi, IndexCanExceedSixteenBits) {
  const MsiMessage m = encode_remappable_msi(0xFFFF, true, 0x0002);
  const MsiRequest r = decode_msi(m.address, m.data);
  EXPECT_EQ(r.index, 0x10001u);
}

TEST(Msi, ReservedFieldViolations) {
  const MsiMessage m = encode_remappable_msi(5, true, 1);
  EXPECT_TRUE(decode_msi(m.address | (1ull << 32), m.data).reserved_violation);
  EXPECT_TRUE(decode_msi((m.address & ~0xFFF00000ull) | 0xFED00000u, m.data).reserved_violation);
  EXPECT_TRUE(decode_msi(m.address, m.data | 0x00010000u).reserved_violation);
  // Address bits 1:0 are ignored.
  EXPECT_FALSE(decode_msi(m.address | 3u, m.data).reserved_violation);
  // Compatibility format: data 31:16 does not count.
  EXPECT_FALSE(decode_msi(0xFEE01000u, 0xFFFF0030u).reserved_violation);
  EXPECT_TRUE(decode_msi(0x1FEE01000ull, 0x30u).reserved_violation);
}

TEST(Msi, CompatibilityFormat) {
  const MsiRequest r = decode_msi(0xFEE0500Cu, 0x8130);
  EXPECT_FALSE(r.remappable);
  EXPECT_FALSE(r.reserved_violation);
}

TEST(Msi, RemappableEncodeDecodeRoundTrip) {
  for (std::uint32_t handle : {0u, 1u, 0x7FFFu, 0x8000u, 0xABCDu, 0xFFFFu}) {
    for (bool shv : {false, true}) {
      const MsiMessage m = encode_remappable_msi(static_cast<std::uint16_t>(handle), shv, 3);
      EXPECT_EQ(m.address >> 20, 0xFEEu);
      const MsiRequest r = decode_msi(m.address, m.data);
      EXPECT_TRUE(r.remappable);
      EXPECT_EQ(r.shv, shv);
      EXPECT_EQ(r.handle, handle);
      EXPECT_EQ(r.subhandle, shv ? 3 : 0);
      EXPECT_EQ(r.index, handle + (shv ? 3u : 0u));
      EXPECT_FALSE(r.reserved_violation);
    }
  }
  EXPECT_EQ(encode_remappable_msi(0x8001, true, 2),
            (MsiMessage{0xFEE00000u | (1u << 5) | 0x1Cu, 2u}));
}

TEST(Msi, CompatEncodeDecodeRoundTrip) {
  model::ApicMessage m;
  m.destination = 0x2A;
  m.logical = true;
  m.redirection_hint = true;
  m.level = true;
  m.delivery_mode = model::DeliveryMode::kLowestPriority;
  m.vector = 0x91;
  const MsiMessage enc = encode_compat_msi(m);
  EXPECT_EQ(enc.address, 0xFEE2A00Cu);
  EXPECT_EQ(enc.data, 0xC191u);
  EXPECT_EQ(model::decode_compat_msi(enc.address, enc.data), m);
  EXPECT_FALSE(decode_msi(enc.address, enc.data).remappable);
}

TEST(IoapicRte, DecodesRemappableEntry) {
  // index 0x8005: bit 11 = index[15], 63:49 = index[14:0]; vector 0x33, level, active-low.
  const std::uint64_t rte =
      (std::uint64_t{5} << 49) | (1ull << 48) | (1ull << 15) | (1ull << 13) | (1ull << 11) | 0x33u;
  EXPECT_EQ(encode_ioapic_rte(0x8005, 0x33, true, true, false), rte);
  const IoapicRequest r = decode_ioapic_rte(rte);
  EXPECT_TRUE(r.remappable);
  EXPECT_FALSE(r.masked);
  EXPECT_FALSE(r.reserved_violation);
  EXPECT_EQ(r.index, 0x8005);
  EXPECT_EQ(r.msi.address, 0xFEE00000u | (5u << 5) | (1u << 4) | (1u << 2));  // SHV = 0
  EXPECT_EQ(r.msi.data, 0x8033u);
  const MsiRequest m = decode_msi(r.msi.address, r.msi.data);
  EXPECT_TRUE(m.remappable);
  EXPECT_FALSE(m.shv);
  EXPECT_EQ(m.index, 0x8005u);
}

TEST(IoapicRte, MaskAndReservedBits) {
  const std::uint64_t rte = encode_ioapic_rte(7, 0x20, false, false, true);
  const IoapicRequest r = decode_ioapic_rte(rte);
  EXPECT_TRUE(r.masked);
  EXPECT_FALSE(r.reserved_violation);
  EXPECT_TRUE(decode_ioapic_rte(rte | (1ull << 17)).reserved_violation);
  EXPECT_TRUE(decode_ioapic_rte(rte | (1ull << 47)).reserved_violation);
  // 10:8 must be 000 (§5.1.5.1); lowest priority would make the IOAPIC emit SHV=1.
  const IoapicRequest lp = decode_ioapic_rte(rte | (1ull << 8));
  EXPECT_TRUE(lp.reserved_violation);
  EXPECT_TRUE(decode_msi(lp.msi.address, lp.msi.data).shv);
}

TEST(IoapicRte, CompatibilityEntryIsNotRemappable) {
  const std::uint64_t rte = (std::uint64_t{0x07} << 56) | 0x41u;
  const IoapicRequest r = decode_ioapic_rte(rte);
  EXPECT_FALSE(r.remappable);
  EXPECT_EQ(r.msi.address, 0xFEE07000u);
  const model::ApicMessage m = model::decode_compat_msi(r.msi.address, r.msi.data);
  EXPECT_EQ(m.destination, 7u);
  EXPECT_EQ(m.vector, 0x41);
  EXPECT_FALSE(m.level);
}

}  // namespace
}  // namespace vtdsim::irq_remap
