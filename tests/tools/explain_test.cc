// `vtdsim explain` on the built-in set-up: golden step views for a 4 KiB read, a 2 MiB
// superpage write, a write to a read-only page (0x05), an unmapped IOVA (0x06), an unattached
// device (0x02), a remapped, a posted and a source-id-failing MSI (0x26); exact verdict lines
// and the IOTLB hit of the second run; bad options.
#include "tools/explain.h"

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "golden.h"
#include "tools/explain_setup.h"

namespace vtdsim::tools {
namespace {

std::string run(ExplainOptions o) {
  auto text = explain(o);
  EXPECT_TRUE(text.has_value()) << (text ? "" : text.error().message);
  return text ? *text : "";
}

ExplainOptions dma(std::string addr, bool write = false, std::string sid = "00:03.0") {
  ExplainOptions o;
  o.addr = std::move(addr);
  o.write = write;
  o.sid = std::move(sid);
  return o;
}

ExplainOptions msi(std::string addr, std::string data, std::string sid = "00:03.0") {
  ExplainOptions o;
  o.msi_addr = std::move(addr);
  o.msi_data = std::move(data);
  o.sid = std::move(sid);
  return o;
}

TEST(Explain, DmaReadThroughFourLevels) {
  const std::string out = run(dma("0x10234"));
  testing::expect_golden("explain_dma_read", out);
  EXPECT_NE(out.find("leaf: 4 KiB page at 0x20000000 + offset 0x234 = HPA 0x20000234"),
            std::string::npos);
  EXPECT_NE(out.find("  ok: HPA 0x20000234, page size 4 KiB, permissions rw-"), std::string::npos);
  // Second run: one IOTLB lookup that hits, no walk.
  const auto second = out.substr(out.find("second run"));
  EXPECT_NE(second.find("iotlb_hit                   1"), std::string::npos);
  EXPECT_EQ(second.find("pw_mem_reads"), std::string::npos);
}

TEST(Explain, DmaWriteToSuperpage) {
  const std::string out = run(dma("0x3ff000", true));
  testing::expect_golden("explain_dma_2m", out);
  EXPECT_NE(out.find("leaf: 2 MiB page at 0x40000000 + offset 0x1ff000 = HPA 0x401ff000"),
            std::string::npos);
  EXPECT_NE(out.find("  ok: HPA 0x401ff000, page size 2 MiB"), std::string::npos);
}

TEST(Explain, DmaFaults) {
  std::string out = run(dma("0x11000", true));
  EXPECT_NE(out.find("fault: reason 0x05"), std::string::npos);
  EXPECT_NE(out.find("explanation: blocked: level-1 entry denies the access: write without "
                     "write permission (0x05)"),
            std::string::npos);
  const std::string unmapped = run(dma("0x12000"));
  EXPECT_NE(unmapped.find("fault: reason 0x06"), std::string::npos);
  const std::string stranger = run(dma("0x10000", false, "00:04.0"));
  EXPECT_NE(stranger.find("fault: reason 0x02 \"context entry not present\""), std::string::npos);
  EXPECT_NE(stranger.find("explanation: blocked: context entry not present (0x02)"),
            std::string::npos);
  testing::expect_golden("explain_dma_faults", out + unmapped + stranger);
}

TEST(Explain, MsiRemappedPostedAndSourceIdFault) {
  auto rig = BuiltinRig::create();
  ASSERT_TRUE(rig.has_value());
  const auto& remapped = (*rig)->remapped_msi;
  const auto& posted = (*rig)->posted_msi;
  const std::string a =
      run(msi(fmt::format("{:#x}", remapped.address), fmt::format("{:#x}", remapped.data)));
  EXPECT_NE(a.find("  remapped (IRTE 0x0): vector 0x41 to APIC 0x1 (physical, fixed, edge)"),
            std::string::npos);
  const std::string b =
      run(msi(fmt::format("{:#x}", posted.address), fmt::format("{:#x}", posted.data)));
  EXPECT_NE(b.find("notification event: vector 0xf2 to APIC 0x2"), std::string::npos);
  const std::string c = run(
      msi(fmt::format("{:#x}", remapped.address), fmt::format("{:#x}", remapped.data), "00:05.0"));
  EXPECT_NE(c.find("fault: reason 0x26 \"source-id verification failed\""), std::string::npos);
  EXPECT_NE(c.find("explanation: blocked: source-id verification failed (0x26)"),
            std::string::npos);
  testing::expect_golden("explain_msi", a + b + c);
}

TEST(Explain, BadOptions) {
  ExplainOptions o = dma("0x1000");
  o.sid = "1:2:3";
  EXPECT_EQ(explain(o).error().message, "--sid: '1:2:3' is not a source-id (bb:dd.f, hex)");
  o = dma("0x1000");
  o.msi_addr = "0xfee00000";
  EXPECT_EQ(explain(o).error().message, "--addr and --msi-addr: give one request, not both");
  o = dma("0xffc");
  o.size = 8;
  EXPECT_EQ(explain(o).error().message,
            "--size 8: a request is 1..4096 bytes and must not cross a 4 KiB boundary");
  o = dma("0x1000");
  o.pasid = "0x100000";
  EXPECT_EQ(explain(o).error().message, "--pasid 0x100000: PASIDs are 20-bit");
  o = msi("0xfee00000", "0x100000000");
  EXPECT_EQ(explain(o).error().message, "--msi-data: exceeds 32 bits");
  o = dma("12z");
  EXPECT_EQ(explain(o).error().message,
            "--addr: '12z' is not a decimal (or 0x-prefixed hex) number");
}

}  // namespace
}  // namespace vtdsim::tools

namespace vtdsim::tools {
namespace {

TEST(Explain, AfterAScenarioRan) {
  ExplainOptions o;
  o.scenario = testing::data_path("small.toml");
  o.sid = "03:00.0";
  o.addr = "0x1000";  // never mapped by the NIC driver: the walk stops at a non-present entry
  const std::string out = run(o);
  EXPECT_NE(out.find("scenario small ("), std::string::npos);
  EXPECT_NE(out.find("explained after its workload ran (3000 DMA requests"), std::string::npos);
  EXPECT_NE(out.find("fault: reason 0x06"), std::string::npos);
  o.sid = "07:00.0";
  auto none = explain(o);
  // Every device is in the INCLUDE_PCI_ALL scope; 07:00.0 has no context entry.
  ASSERT_TRUE(none.has_value()) << none.error().message;
  EXPECT_NE(none->find("fault: reason 0x01"), std::string::npos);
}

}  // namespace
}  // namespace vtdsim::tools
