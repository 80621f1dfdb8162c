// `vtdsim decode`: golden output for every KIND (values composed from the model's own field
// descriptors), reserved-bit warnings, IRTE mode selection by IM, descriptor type selection by
// bits 3:0 and 11:9, and bad input naming the argument.
#include "tools/decode.h"

#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "golden.h"
#include "iommu/descriptors.h"
#include "iommu/legacy_formats.h"
#include "iommu/registers.h"
#include "iommu/scalable_formats.h"
#include "irq_remap/irte.h"

namespace vtdsim::tools {
namespace {

std::string hex(std::uint64_t v) {
  return fmt::format("{:#x}", v);
}

std::string run(std::string kind, std::vector<std::string> values, std::string mode = "legacy",
                unsigned level = 0, unsigned width = 128) {
  DecodeOptions o{std::move(kind), std::move(values), std::move(mode), level, width};
  auto text = decode(o);
  EXPECT_TRUE(text.has_value()) << (text ? "" : text.error().message);
  return text ? *text : "";
}

Error fail(std::string kind, std::vector<std::string> values, std::string mode = "legacy",
           unsigned level = 0, unsigned width = 128) {
  DecodeOptions o{std::move(kind), std::move(values), std::move(mode), level, width};
  auto text = decode(o);
  EXPECT_FALSE(text.has_value());
  return text ? Error{} : text.error();
}

namespace ce = iommu::context_entry;
namespace se = iommu::sl_entry;

TEST(Decode, RootAndContextLegacy) {
  const std::uint64_t root = iommu::root_entry::P::set(0, 1) | 0x0012'3000;
  std::string out = run("root", {hex(root)});
  std::uint64_t q0 = 0;
  q0 = ce::P::set(q0, 1);
  q0 = ce::TT::set(q0, ce::kTtUntranslatedOnly);
  q0 = ce::SLPTPTR::set(q0, 0x45678);
  std::uint64_t q1 = ce::AW::set(0, 2) | ce::DID::set(0, 42);
  out += run("context", {hex(q0), hex(q1)});
  // Reserved bit 4 and bit 71 set, TT = 11b.
  out += run("context", {hex(q0 | 0x10 | ce::TT::kMask), hex(q1 | (1ull << 7))});
  testing::expect_golden("decode_root_context", out);
  EXPECT_NE(out.find("warning: reserved bits set: 71, 4"), std::string::npos);
  EXPECT_NE(out.find("TT = 11b is reserved"), std::string::npos);
}

TEST(Decode, ScalableStructures) {
  namespace sr = iommu::sm_root_entry;
  namespace sc = iommu::sm_context_entry;
  namespace pd = iommu::pasid_dir_entry;
  namespace pe = iommu::pasid_entry;
  std::string out =
      run("root", {hex(sr::LP::set(0, 1) | 0x11000), hex(sr::UP::set(0, 1) | 0x22000)}, "scalable");
  const std::uint64_t ctx =
      sc::P::set(0, 1) | sc::PASIDE::set(0, 1) | sc::PDTS::set(0, 1) | 0x33000;
  out += run("context", {hex(ctx), hex(sc::RID_PASID::set(0, 0)), "0", "1"}, "scalable");
  out += run("pasid-dir", {hex(pd::P::set(0, 1) | 0x44000)});
  const std::uint64_t p0 =
      pe::P::set(0, 1) | pe::AW::set(0, 2) | pe::PGTT::set(0, pe::kPgttSecondStage) | 0x55000;
  out += run("pasid", {hex(p0), hex(pe::DID::set(0, 7)), hex(pe::FSPTPTR::set(0, 0x66))});
  out += run("pte-fs", {"0x8000000000077067"});
  out += run("pte-fs", {"0x2"});
  testing::expect_golden("decode_scalable", out);
  // The 256-bit context entry's bit 192 (q3 bit 0) is reserved.
  EXPECT_NE(out.find("warning: reserved bits set: 192"), std::string::npos);
}

TEST(Decode, SecondStageEntryWithLevel) {
  const std::uint64_t table = se::R::set(0, 1) | se::W::set(0, 1) | 0x0009'8000;
  const std::uint64_t big = se::R::set(0, 1) | se::PS::set(0, 1) | 0x4020'0000;
  std::string out = run("pte-ss", {hex(table)}, "legacy", 4);
  out += run("pte-ss", {hex(big)}, "legacy", 2);
  out += run("pte-ss", {hex(big | 0x1000)}, "legacy", 2);  // 2 MiB leaf, bit 12 set
  out += run("pte-ss", {hex(big)}, "legacy", 4);           // PS at level 4
  out += run("pte-ss", {hex(big)}, "legacy", 1);           // PS ignored at level 1
  out += run("pte-ss", {hex(1ull << 62)});                 // TM: reserved, not present
  testing::expect_golden("decode_pte_ss", out);
  EXPECT_NE(out.find("leaf: 2 MiB page at 0x40200000"), std::string::npos);
  EXPECT_NE(out.find("address bits 20:12 not zero: reserved (fault 0x0C)"), std::string::npos);
  EXPECT_NE(out.find("warning: reserved bits set: 62"), std::string::npos);
}

TEST(Decode, IrteSelectsFormatByIm) {
  namespace it = irq_remap::irte;
  std::uint64_t q0 = it::P::set(0, 1) | it::V::set(0, 0x41) | it::DST::set(0, 3);
  std::uint64_t q1 = it::SID::set(0, 0x0318) | it::SVT::set(0, it::kSvtSidSq);
  std::string out = run("irte", {hex(q0), hex(q1)});
  out += run("irte", {hex(q0 | it::DLM::set(0, 3) | 0x1000), hex(q1 | it::SVT::kMask)});
  namespace pt = irq_remap::posted_irte;
  const std::uint64_t p0 = pt::P::set(0, 1) | pt::IM::set(0, 1) | pt::VV::set(0, 0x52) |
                           pt::PDA_L::set(0, 0x1234'5678 >> 6);
  out += run("irte", {hex(p0), hex(pt::PDA_H::set(0, 0x1))});
  testing::expect_golden("decode_irte", out);
  EXPECT_NE(out.find("IRTE, posted format"), std::string::npos);
  EXPECT_NE(out.find("posted-interrupt descriptor at 0x112345640"), std::string::npos);
  EXPECT_NE(out.find("DLM is a reserved delivery mode"), std::string::npos);
}

TEST(Decode, MsiAndIoapic) {
  std::string out = run("msi", {"0xfee000b8", "0x2"});  // HANDLE 5, SHV, subhandle 2
  out += run("msi", {"0xfee03004", "0x4031"});          // compatibility format
  out += run("msi", {"0x1fee00018", "0x10000"});        // reserved: high dword, data 31:16
  out += run("ioapic-rte", {"0x000b000000018031"});
  out += run("ioapic-rte", {"0x0300000000000031"});  // compatibility format
  testing::expect_golden("decode_msi_ioapic", out);
  EXPECT_NE(out.find("interrupt index: 0x7 (HANDLE + SUBHANDLE)"), std::string::npos);
  EXPECT_NE(out.find("reserved field in the request (fault 0x20)"), std::string::npos);
}

TEST(Decode, InvalidationDescriptors) {
  namespace io = iommu::iotlb_desc;
  const std::uint64_t iotlb0 = iommu::desc::Type::set(0, 2) | io::G::set(0, 3) | io::DID::set(0, 9);
  const std::uint64_t iotlb1 = io::AM::set(0, 2) | io::ADDR::set(0, 0x12344);
  std::string out = run("desc", {"0x11", "0"});  // context-cache, global
  out += run("desc", {hex(iotlb0), hex(iotlb1)});
  out += run("desc", {"0x0000031800000003", "0x1001"});  // device-TLB, 16 KiB range
  out += run("desc", {hex(0x4 | 0x10 | (2u << 27) | (0x40ull << 32)), "0"});
  out += run("desc", {"0x0000abcd00000025", "0x10000"});  // wait, SW
  out += run("desc", {"0x7", "0", "0", "0"}, "legacy", 0, 256);
  out += run("desc", {"0x201", "0"});  // type 0x11 (bits 11:9 = 1): invalid
  out += run("desc", {"0x1", "0", "0", "5"}, "legacy", 0, 256);
  testing::expect_golden("decode_desc", out);
  EXPECT_NE(out.find("descriptor type 0x11: reserved"), std::string::npos);
  EXPECT_NE(out.find("bits 255:128 set"), std::string::npos);
}

TEST(Decode, FaultRecordAndRegisters) {
  namespace fr = iommu::frcd;
  const std::uint64_t f1 = fr::SID::set(0, 0x0318) | fr::FR::set(0, 0x05) | fr::F::set(0, 1);
  std::string out = run("frcd", {"0x12345000", hex(f1)});
  const std::uint64_t f2 = fr::SID::set(0, 0x0318) | fr::FR::set(0, 0x26) | fr::F::set(0, 1);
  out += run("frcd", {hex(fr::FI_IR::set(0, 0x11)), hex(f2)});
  iommu::UnitConfig cfg;
  out += run("cap", {hex(cfg.cap())});
  out += run("ecap", {hex(cfg.ecap())});
  out += run("gsts", {"0xc6000000"});
  out += run("fsts", {"0x0302"});
  out += run("iqa", {"0x10000801"});
  out += run("irta", {"0x2000080f"});
  out += run("rtaddr", {"0x10000400"});
  testing::expect_golden("decode_regs", out);
  EXPECT_NE(out.find("write without write permission"), std::string::npos);
  EXPECT_NE(out.find("interrupt-remapping fault, interrupt index 0x11"), std::string::npos);
}

TEST(Decode, BadInputNamesTheArgument) {
  EXPECT_EQ(fail("context", {"1", "xyz"}).message,
            "context HEX argument 2: 'xyz' is not a hexadecimal number");
  EXPECT_EQ(fail("root", {"1", "2", "3"}).message,
            "root: takes at most 2 qwords (qword 0 first), got 3");
  EXPECT_EQ(fail("fsts", {"0x1ffffffff"}).message,
            "fsts HEX argument 1: '0x1ffffffff' exceeds 32 bits");
  EXPECT_EQ(fail("cap", {"0x10000000000000000"}).message,
            "cap HEX argument 1: '0x10000000000000000' does not fit in 64 bits");
  EXPECT_EQ(fail("desc", {"1"}, "legacy", 0, 64).message, "desc: --width 64 (128 or 256)");
  EXPECT_EQ(fail("pte-ss", {"1"}, "legacy", 6).message, "--level 6 (1..5)");
  EXPECT_EQ(fail("root", {"1"}, "extended").message, "--mode 'extended' (legacy or scalable)");
  EXPECT_EQ(fail("msi", {}).message, "msi: takes ADDRESS [DATA], got 0 values");
  EXPECT_EQ(fail("cap", {}).message, "cap: missing HEX value");
  EXPECT_EQ(fail("bogus", {"1"}).message.substr(0, 20), "unknown KIND 'bogus'");
}

}  // namespace
}  // namespace vtdsim::tools
