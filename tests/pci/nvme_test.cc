// NVMe-style device: admin queue setup, I/O queues, PRP lists, completion phase, faults.
#include <gtest/gtest.h>

#include <vector>

#include "fakes.h"
#include "pci/nvme.h"

namespace vtdsim::pci {
namespace {

namespace r = nvme_regs;

class NvmeTest : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kAsq = 0x10000, kAcq = 0x11000, kIoSq = 0x20000, kIoCq = 0x21000;
  struct Queue {
    std::uint64_t base;
    std::uint32_t size, tail = 0;
  };
  void SetUp() override {
    dev.connect(translator, memory, &msi);
    dev.dma().set_source_id(model::SourceId::make(5, 0, 0));
    dev.config_write(cfg::kCommand, 2, command::MSE::kMask | command::BME::kMask);
    for (unsigned v = 0; v < 3; ++v) {
      dev.mmio_write(0, r::kMsixTable + 16 * v, 8, 0xFEE00000ull);
      dev.mmio_write(0, r::kMsixTable + 16 * v + 8, 4, 0x50 + v);
      dev.mmio_write(0, r::kMsixTable + 16 * v + 12, 4, 0);
    }
    dev.config_write(*find_capability(dev.config(), cap_id::kMsix) + 2, 2, 0x8000);
    dev.mmio_write(0, r::kAqa, 4, (3u << 16) | 3u);  // 4-entry admin queues
    dev.mmio_write(0, r::kAsq, 8, kAsq);
    dev.mmio_write(0, r::kAcq, 8, kAcq);
    dev.mmio_write(0, r::kCc, 4, 1);
    ASSERT_TRUE(dev.ready());
  }
  model::Entry512 command(std::uint8_t opc, std::uint16_t cid) {
    model::Entry512 c;
    c.set<nvme_sqe::OPC>(opc);
    c.set<nvme_sqe::CID>(cid);
    return c;
  }
  void submit(unsigned qid, Queue& q, const model::Entry512& c) {
    ASSERT_TRUE(memory.write_bytes(q.base + std::uint64_t{q.tail} * 64 + translator.offset,
                                   std::as_bytes(std::span(c.q))));
    q.tail = (q.tail + 1) % q.size;
    dev.mmio_write(0, r::kDoorbells + 8 * qid, 4, q.tail);
  }
  model::Entry128 cqe(std::uint64_t cq_base, unsigned index) {
    model::Entry128 e;
    e.q[0] = *memory.read<std::uint64_t>(cq_base + 16 * index + translator.offset);
    e.q[1] = *memory.read<std::uint64_t>(cq_base + 16 * index + 8 + translator.offset);
    return e;
  }
  std::uint64_t status(const model::Entry128& e) {
    return (e.get<nvme_cqe::SCT>() << 8) | e.get<nvme_cqe::SC>();
  }
  void create_io_queues() {
    auto cq = command(nvme_opcode::kCreateCq, 1);
    cq.set<nvme_sqe::PRP1>(kIoCq);
    cq.set<nvme_sqe::CDW10>((15u << 16) | 1u);
    cq.set<nvme_sqe::CDW11>((1u << 16) | 3u);  // IV 1, IEN, PC
    submit(0, admin, cq);
    auto sq = command(nvme_opcode::kCreateSq, 2);
    sq.set<nvme_sqe::PRP1>(kIoSq);
    sq.set<nvme_sqe::CDW10>((15u << 16) | 1u);
    sq.set<nvme_sqe::CDW11>((1u << 16) | 1u);
    submit(0, admin, sq);
    ASSERT_EQ(status(cqe(kAcq, 0)), 0u);
    ASSERT_EQ(status(cqe(kAcq, 1)), 0u);
    dev.mmio_write(0, r::kDoorbells + 4, 4, 2);  // admin CQ head
  }
  model::Entry512 rw(std::uint8_t opc, std::uint16_t cid, std::uint64_t slba, unsigned nlb,
                     std::uint64_t prp1, std::uint64_t prp2) {
    auto c = command(opc, cid);
    c.set<nvme_sqe::NSID>(1);
    c.set<nvme_sqe::PRP1>(prp1);
    c.set<nvme_sqe::PRP2>(prp2);
    c.set<nvme_sqe::CDW10>(slba);
    c.set<nvme_sqe::CDW12>(nlb - 1);
    return c;
  }
  model::PhysicalMemory memory{40};
  testing::FakeTranslator translator;
  testing::FakeMsiTarget msi;
  Nvme dev{NvmeConfig{}};
  Queue admin{kAsq, 4};
  Queue io{kIoSq, 16};
};

TEST_F(NvmeTest, CapAndControllerReady) {
  EXPECT_EQ(dev.mmio_read(0, r::kCap, 8), 0x00000020140103FFull);
  EXPECT_EQ(dev.mmio_read(0, r::kCsts, 4), 1u);
  EXPECT_EQ(dev.mmio_read(0, r::kVs, 4), 0x00010400u);
}

TEST_F(NvmeTest, AdminCompletionsCarryPhaseAndSqHead) {
  create_io_queues();
  const model::Entry128 e = cqe(kAcq, 1);
  EXPECT_EQ(e.get<nvme_cqe::CID>(), 2u);
  EXPECT_EQ(e.get<nvme_cqe::P>(), 1u);
  EXPECT_EQ(e.get<nvme_cqe::SQHD>(), 2u);
  EXPECT_EQ(e.get<nvme_cqe::SQID>(), 0u);
  ASSERT_EQ(msi.messages.size(), 2u);
  EXPECT_EQ(msi.messages[0].data, 0x50u);  // admin CQ on vector 0
}

TEST_F(NvmeTest, PhaseTagInvertsWhenTheQueueWraps) {
  for (std::uint16_t i = 0; i < 5; ++i) {
    auto c = command(0x7F, i);  // invalid opcode: a completion each
    submit(0, admin, c);
    dev.mmio_write(0, r::kDoorbells + 4, 4, (i + 1u) % 4);
  }
  EXPECT_EQ(cqe(kAcq, 3).get<nvme_cqe::P>(), 1u);
  EXPECT_EQ(cqe(kAcq, 0).get<nvme_cqe::P>(), 0u);  // 5th entry, second pass
  EXPECT_EQ(cqe(kAcq, 0).get<nvme_cqe::CID>(), 4u);
  EXPECT_EQ(status(cqe(kAcq, 0)), nvme_status::kInvalidOpcode);
  EXPECT_EQ(cqe(kAcq, 0).get<nvme_cqe::DNR>(), 1u);
}

TEST_F(NvmeTest, WriteThenReadWithPrpList) {
  create_io_queues();
  // 24 LBAs (12 KiB) starting 0x200 into a page: PRP1 covers 0xE00 bytes, the list 3 pages.
  const std::uint64_t list = 0x50000;
  const std::array<std::uint64_t, 3> pages = {0x61000, 0x73000, 0x64000};
  ASSERT_TRUE(memory.write_bytes(list + translator.offset, std::as_bytes(std::span(pages))));
  std::vector<std::byte> data(24 * 512);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i / 7);
  auto scatter = [&](std::uint64_t off) {
    (void)memory.write_bytes(0x60200 + off, std::span(data).first(0xE00));
    (void)memory.write_bytes(0x61000 + off, std::span(data).subspan(0xE00, 0x1000));
    (void)memory.write_bytes(0x73000 + off, std::span(data).subspan(0x1E00, 0x1000));
    (void)memory.write_bytes(0x64000 + off, std::span(data).subspan(0x2E00));
  };
  scatter(translator.offset);
  submit(1, io, rw(nvme_opcode::kWrite, 7, 100, 24, 0x60200, list));
  EXPECT_EQ(status(cqe(kIoCq, 0)), 0u);
  EXPECT_EQ(cqe(kIoCq, 0).get<nvme_cqe::SQID>(), 1u);
  EXPECT_EQ(std::vector<std::byte>(dev.backing_store().begin() + 100 * 512,
                                   dev.backing_store().begin() + 124 * 512),
            data);
  // Read it back to a different buffer set: PRP1 page-aligned, 2 pages, PRP2 is a page.
  submit(1, io, rw(nvme_opcode::kRead, 8, 100, 16, 0x80000, 0x90000));
  EXPECT_EQ(status(cqe(kIoCq, 1)), 0u);
  std::vector<std::byte> back(0x1000);
  ASSERT_TRUE(memory.read_bytes(0x90000 + translator.offset, back));
  EXPECT_EQ(back, std::vector<std::byte>(data.begin() + 0x1000, data.begin() + 0x2000));
  EXPECT_EQ(dev.stats().prp_list_reads, 1u);
  EXPECT_EQ(msi.messages.back().data, 0x51u);  // I/O CQ on vector 1
}

TEST_F(NvmeTest, ChainedPrpListPages) {
  create_io_queues();
  // 600 KiB = 150 pages: PRP1 + 149 list entries; the list starts 8 bytes
  // before the end of a page, so its first page holds one slot: a pointer to the next list page.
  const std::uint64_t list1 = 0x100FF8, list2 = 0x200000;
  ASSERT_TRUE(memory.write<std::uint64_t>(list1 + translator.offset, list2));
  for (unsigned i = 0; i < 149; ++i) {
    ASSERT_TRUE(
        memory.write<std::uint64_t>(list2 + 8 * i + translator.offset, 0x400000 + 0x1000ull * i));
  }
  ASSERT_TRUE(
      memory.write<std::uint32_t>(0x400000 + 0x1000ull * 148 + translator.offset, 0xCAFEF00Du));
  submit(1, io, rw(nvme_opcode::kWrite, 1, 0, 1200, 0x300000, list1));
  EXPECT_EQ(status(cqe(kIoCq, 0)), 0u);
  EXPECT_EQ(dev.stats().prp_list_reads, 2u);
  std::uint32_t last = 0;
  std::memcpy(&last, dev.backing_store().data() + 149 * 4096, 4);
  EXPECT_EQ(last, 0xCAFEF00Du);
}

TEST_F(NvmeTest, FaultedReadWritesNothingAndReportsDataTransferError) {
  create_io_queues();
  std::fill(dev.backing_store().begin(), dev.backing_store().end(), std::byte{0x5A});
  translator.faulting_pages = {0x91};
  submit(1, io, rw(nvme_opcode::kRead, 3, 0, 16, 0x90000, 0x91000));
  EXPECT_EQ(status(cqe(kIoCq, 0)), nvme_status::kDataTransferError);
  EXPECT_EQ(memory.find_frame(0x90000 + translator.offset), nullptr);
  EXPECT_EQ(dev.stats().dma_errors, 1u);
  // A faulted write leaves the store unchanged.
  translator.faulting_pages = {0xA1};
  submit(1, io, rw(nvme_opcode::kWrite, 4, 0, 16, 0xA0000, 0xA1000));
  EXPECT_EQ(status(cqe(kIoCq, 1)), nvme_status::kDataTransferError);
  EXPECT_EQ(dev.backing_store()[0], std::byte{0x5A});
}

TEST_F(NvmeTest, CommandErrors) {
  create_io_queues();
  submit(1, io, rw(nvme_opcode::kRead, 1, 2047, 2, 0x90000, 0));
  EXPECT_EQ(status(cqe(kIoCq, 0)), nvme_status::kLbaOutOfRange);
  auto bad_ns = rw(nvme_opcode::kRead, 2, 0, 1, 0x90000, 0);
  bad_ns.set<nvme_sqe::NSID>(2);
  submit(1, io, bad_ns);
  EXPECT_EQ(status(cqe(kIoCq, 1)), nvme_status::kInvalidNamespace);
  submit(1, io, rw(nvme_opcode::kRead, 3, 0, 16, 0x90000, 0x91010));
  EXPECT_EQ(status(cqe(kIoCq, 2)), nvme_status::kPrpOffsetInvalid);
  auto dup = command(nvme_opcode::kCreateSq, 9);
  dup.set<nvme_sqe::PRP1>(0x30000);
  dup.set<nvme_sqe::CDW10>((15u << 16) | 1u);
  dup.set<nvme_sqe::CDW11>((1u << 16) | 1u);
  submit(0, admin, dup);
  EXPECT_EQ(status(cqe(kAcq, 2)), nvme_status::kInvalidQueueIdentifier);
  auto del = command(nvme_opcode::kDeleteCq, 10);
  del.set<nvme_sqe::CDW10>(1);
  submit(0, admin, del);
  EXPECT_EQ(status(cqe(kAcq, 3)), nvme_status::kInvalidQueueDeletion);
}

TEST_F(NvmeTest, SelfReferencingPrpListCompletesWithAnError) {
  create_io_queues();
  const std::uint64_t list = 0x100FF8;  // one slot per page: the chain pointer
  ASSERT_TRUE(memory.write<std::uint64_t>(list + translator.offset, list));
  submit(1, io, rw(nvme_opcode::kRead, 1, 0, 24, 0x300000, list));
  EXPECT_EQ(status(cqe(kIoCq, 0)), nvme_status::kInvalidField);
  EXPECT_EQ(dev.stats().prp_list_reads, 5u);  // bounded by the transfer's page count + 2
}

TEST_F(NvmeTest, IdentifyNamespace) {
  auto id = command(nvme_opcode::kIdentify, 1);
  id.set<nvme_sqe::NSID>(1);
  id.set<nvme_sqe::PRP1>(0x70000);
  submit(0, admin, id);
  EXPECT_EQ(status(cqe(kAcq, 0)), 0u);
  EXPECT_EQ(*memory.read<std::uint64_t>(0x70000 + translator.offset), 2048u);
  EXPECT_EQ(*memory.read<std::uint32_t>(0x70080 + translator.offset), 9u << 16);
}

TEST_F(NvmeTest, BadAdminQueueSetupIsControllerFatal) {
  dev.mmio_write(0, r::kCc, 4, 0);
  EXPECT_FALSE(dev.ready());
  dev.mmio_write(0, r::kAqa, 4, 0);  // 1-entry queues
  dev.mmio_write(0, r::kCc, 4, 1);
  EXPECT_TRUE(dev.fatal());
  EXPECT_FALSE(dev.ready());
}

}  // namespace
}  // namespace vtdsim::pci
