// An NVMe-style controller (NVM Express 1.4): controller registers and doorbells in BAR0
// (§3.1), admin and I/O submission/completion queues in host memory, admin commands Create/
// Delete I/O SQ/CQ and Identify (§5), NVM Read/Write/Flush (NVM command set §6) moving data
// between a backing store and memory through the DMA port using PRP1/PRP2 and PRP lists
// (§4.3), completion entries with the phase tag (§4.6), and MSI-X per completion queue.
// A faulted data transfer completes with Data Transfer Error and changes nothing.
// Not modelled: SGLs, multiple namespaces, fused commands, arbitration (queues are served in
// doorbell order), asynchronous events, shutdown, CC.MPS other than 4 KiB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "model/field.h"
#include "pci/function.h"

namespace vtdsim::pci {

namespace nvme_regs {
inline constexpr std::uint64_t kCap = 0x00;
inline constexpr std::uint64_t kVs = 0x08;
inline constexpr std::uint64_t kCc = 0x14;
inline constexpr std::uint64_t kCsts = 0x1C;
inline constexpr std::uint64_t kAqa = 0x24;
inline constexpr std::uint64_t kAsq = 0x28;
inline constexpr std::uint64_t kAcq = 0x30;
inline constexpr std::uint64_t kDoorbells = 0x1000;  // SQyTDBL at +8y, CQyHDBL at +8y+4
inline constexpr std::uint64_t kMsixTable = 0x2000;
inline constexpr std::uint64_t kMsixPba = 0x3000;
inline constexpr std::uint64_t kBar0Size = 0x4000;
using MQES = model::Field<15, 0>;  // CAP: max queue entries, 0-based
using CQR = model::Field<16, 16>;  // CAP: contiguous queues required
using TO = model::Field<31, 24>;
using DSTRD = model::Field<35, 32>;
using CSS = model::Field<44, 37>;
using MPSMIN = model::Field<51, 48>;
using MPSMAX = model::Field<55, 52>;
using CapLayout = model::Layout<1, MQES, CQR, TO, DSTRD, CSS, MPSMIN, MPSMAX>;
static_assert(model::valid_layout<CapLayout>());
using EN = model::Field<0, 0>;  // CC
using CC_CSS = model::Field<6, 4>;
using MPS = model::Field<10, 7>;
using AMS = model::Field<13, 11>;
using SHN = model::Field<15, 14>;
using IOSQES = model::Field<19, 16>;
using IOCQES = model::Field<23, 20>;
using CcLayout = model::Layout<1, EN, CC_CSS, MPS, AMS, SHN, IOSQES, IOCQES>;
static_assert(model::valid_layout<CcLayout>());
using RDY = model::Field<0, 0>;  // CSTS
using CFS = model::Field<1, 1>;
using ASQS = model::Field<11, 0>;  // AQA, 0-based
using ACQS = model::Field<27, 16>;
}  // namespace nvme_regs

// Submission queue entry, 64 bytes (§4.2).
namespace nvme_sqe {
using OPC = model::Field<7, 0>;
using FUSE = model::Field<9, 8>;
using PSDT = model::Field<15, 14>;
using CID = model::Field<31, 16>;
using NSID = model::Field<63, 32>;
using MPTR = model::Field<191, 128>;
using PRP1 = model::Field<255, 192>;
using PRP2 = model::Field<319, 256>;
using CDW10 = model::Field<351, 320>;
using CDW11 = model::Field<383, 352>;
using CDW12 = model::Field<415, 384>;
using CDW13 = model::Field<447, 416>;
using CDW14 = model::Field<479, 448>;
using CDW15 = model::Field<511, 480>;
using Layout = model::Layout<8, OPC, FUSE, PSDT, CID, NSID, MPTR, PRP1, PRP2, CDW10, CDW11, CDW12,
                             CDW13, CDW14, CDW15>;
static_assert(model::valid_layout<Layout>());
}  // namespace nvme_sqe

// Completion queue entry, 16 bytes (§4.6).
namespace nvme_cqe {
using DW0 = model::Field<31, 0>;
using SQHD = model::Field<79, 64>;
using SQID = model::Field<95, 80>;
using CID = model::Field<111, 96>;
using P = model::Field<112, 112>;
using SC = model::Field<120, 113>;
using SCT = model::Field<123, 121>;
using CRD = model::Field<125, 124>;
using M = model::Field<126, 126>;
using DNR = model::Field<127, 127>;
using Layout = model::Layout<2, DW0, SQHD, SQID, CID, P, SC, SCT, CRD, M, DNR>;
static_assert(model::valid_layout<Layout>());
}  // namespace nvme_cqe

// Status = SCT << 8 | SC.
namespace nvme_status {
inline constexpr std::uint16_t kSuccess = 0x000;
inline constexpr std::uint16_t kInvalidOpcode = 0x001;
inline constexpr std::uint16_t kInvalidField = 0x002;
inline constexpr std::uint16_t kDataTransferError = 0x004;
inline constexpr std::uint16_t kInvalidNamespace = 0x00B;
inline constexpr std::uint16_t kPrpOffsetInvalid = 0x013;
inline constexpr std::uint16_t kLbaOutOfRange = 0x080;
inline constexpr std::uint16_t kCompletionQueueInvalid = 0x100;
inline constexpr std::uint16_t kInvalidQueueIdentifier = 0x101;
inline constexpr std::uint16_t kInvalidQueueSize = 0x102;
inline constexpr std::uint16_t kInvalidInterruptVector = 0x108;
inline constexpr std::uint16_t kInvalidQueueDeletion = 0x10C;
}  // namespace nvme_status

namespace nvme_opcode {
inline constexpr std::uint8_t kDeleteSq = 0x00, kCreateSq = 0x01, kDeleteCq = 0x04,
                              kCreateCq = 0x05, kIdentify = 0x06;
inline constexpr std::uint8_t kFlush = 0x00, kWrite = 0x01, kRead = 0x02;
}  // namespace nvme_opcode

struct NvmeConfig {
  FunctionIdentity identity{0x8086, 0x0953, 0x010802, 0};
  std::uint32_t lba_size = 512;    // 512 or 4096
  std::uint64_t lba_count = 2048;  // namespace 1 size in LBAs
  unsigned io_queues = 4;          // I/O queue pairs, [1, 64]
  std::uint16_t max_queue_entries = 1024;
  std::uint32_t max_transfer = 1u << 20;  // bytes per command (MDTS)
};

struct NvmeStats {
  std::uint64_t commands = 0, admin_commands = 0, reads = 0, writes = 0;
  std::uint64_t bytes_read = 0, bytes_written = 0, errors = 0, dma_errors = 0;
  std::uint64_t completions = 0, prp_list_reads = 0;
  static constexpr auto kFields = std::to_array<model::StatField<NvmeStats>>({
      {"commands", "commands", "I/O commands executed", &NvmeStats::commands},
      {"admin_commands", "commands", "admin commands executed", &NvmeStats::admin_commands},
      {"reads", "commands", "read commands completed successfully", &NvmeStats::reads},
      {"writes", "commands", "write commands completed successfully", &NvmeStats::writes},
      {"bytes_read", "bytes", "bytes moved store -> memory", &NvmeStats::bytes_read},
      {"bytes_written", "bytes", "bytes moved memory -> store", &NvmeStats::bytes_written},
      {"errors", "commands", "commands completed with a non-zero status", &NvmeStats::errors},
      {"dma_errors", "transfers", "DMAs that faulted (data, PRP list, queue entries)",
       &NvmeStats::dma_errors},
      {"completions", "entries", "completion entries posted", &NvmeStats::completions},
      {"prp_list_reads", "reads", "PRP list pages fetched", &NvmeStats::prp_list_reads},
  });
};

class Nvme : public Function {
 public:
  explicit Nvme(const NvmeConfig& config = {});

  std::span<std::byte> backing_store() { return store_; }
  bool ready() const { return nvme_regs::RDY::get(csts_) != 0; }
  bool fatal() const { return nvme_regs::CFS::get(csts_) != 0; }
  const NvmeStats& stats() const { return stats_; }

 protected:
  std::uint64_t bar_read(unsigned bar, std::uint64_t offset, unsigned size) override;
  void bar_write(unsigned bar, std::uint64_t offset, unsigned size, std::uint64_t value) override;

 private:
  struct Sq {
    bool valid = false;
    std::uint64_t base = 0;
    std::uint32_t size = 0, head = 0, tail = 0;
    std::uint16_t cqid = 0;
  };
  struct Cq {
    bool valid = false;
    std::uint64_t base = 0;
    std::uint32_t size = 0, head = 0, tail = 0;
    bool phase = true;
    bool ien = false;
    std::uint16_t iv = 0;
  };
  using Sqe = model::Entry512;

  void enable(bool on);
  void doorbell(std::uint64_t offset, std::uint32_t value);
  void process_sq(std::uint16_t qid);
  std::uint16_t execute_admin(const Sqe& cmd, std::uint32_t* dw0);
  std::uint16_t execute_io(const Sqe& cmd);
  std::uint16_t build_prps(const Sqe& cmd, std::uint64_t length, std::vector<DmaSegment>& out);
  std::uint16_t identify(const Sqe& cmd);
  bool post(std::uint16_t sqid, std::uint16_t cid, std::uint16_t status, std::uint32_t dw0);

  std::uint32_t lba_size_;
  std::uint64_t lba_count_;
  unsigned io_queues_;
  std::uint16_t max_entries_;
  std::uint32_t max_transfer_;
  std::vector<std::byte> store_;
  std::uint64_t cap_;
  std::uint32_t cc_ = 0, csts_ = 0, aqa_ = 0;
  std::uint64_t asq_ = 0, acq_ = 0;
  std::vector<Sq> sqs_;
  std::vector<Cq> cqs_;
  std::vector<DmaSegment> segments_;
  std::vector<std::byte> buffer_;
  std::vector<std::uint64_t> prp_page_;
  DmaAttrs attrs_;
  NvmeStats stats_;
};

}  // namespace vtdsim::pci
