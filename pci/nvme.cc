// NVMe-style controller: registers, queues, admin and NVM commands (see nvme.h).
// Spec sections and what is not modelled: see pci/nvme.h.
#include "pci/nvme.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "pci/mmio_regs.h"

namespace vtdsim::pci {

namespace r = nvme_regs;
namespace st = nvme_status;
namespace op = nvme_opcode;

namespace {
constexpr std::uint64_t kPage = 4096;  // CC.MPS = 0
constexpr std::uint32_t kSqeSize = 64;
constexpr std::uint32_t kCqeSize = 16;
std::uint32_t lo16(std::uint64_t v) {
  return static_cast<std::uint32_t>(v & 0xFFFFu);
}
std::uint32_t hi16(std::uint64_t v) {
  return static_cast<std::uint32_t>((v >> 16) & 0xFFFFu);
}
}  // namespace

Nvme::Nvme(const NvmeConfig& config)
    : Function(config.identity),
      lba_size_(config.lba_size == 4096 ? 4096u : 512u),
      lba_count_(config.lba_count),
      io_queues_(std::clamp(config.io_queues, 1u, 64u)),
      max_entries_(std::clamp<std::uint16_t>(config.max_queue_entries, 2, 4096)),
      max_transfer_(std::max<std::uint32_t>(config.max_transfer, 4096)),
      store_(static_cast<std::size_t>(config.lba_count * lba_size_)),
      sqs_(io_queues_ + 1),
      cqs_(io_queues_ + 1) {
  (void)define_bar(0, BarSpec{BarKind::kMemory64, r::kBar0Size, false});
  (void)add_pm_capability();
  (void)add_pcie_capability(PortType::kEndpoint);
  (void)add_msi_capability(MsiConfig{1, true, true});
  (void)add_msix_capability(MsixConfig{io_queues_ + 1, 0, static_cast<std::uint32_t>(r::kMsixTable),
                                       0, static_cast<std::uint32_t>(r::kMsixPba)});
  std::uint64_t cap = r::MQES::set(0, max_entries_ - 1u);
  cap = r::CQR::set(cap, 1);
  cap = r::TO::set(cap, 20);
  cap = r::CSS::set(cap, 1);  // NVM command set
  cap_ = cap;                 // DSTRD = 0, MPSMIN = MPSMAX = 0 (4 KiB)
}

std::uint64_t Nvme::bar_read(unsigned bar, std::uint64_t offset, unsigned size) {
  if (bar != 0 || offset >= r::kDoorbells) return 0;  // doorbells read as zero
  const auto byte = static_cast<unsigned>(offset & 7);
  switch (offset & ~std::uint64_t{7}) {
    case r::kCap:
      return reg_extract(cap_, byte, size);
    case r::kVs:  // VS (1.4.0) and INTMS (0)
      return reg_extract(0x00010400u, byte, size);
    case 0x10:  // INTMC and CC
      return reg_extract(std::uint64_t{cc_} << 32, byte, size);
    case 0x18:  // reserved and CSTS
      return reg_extract(std::uint64_t{csts_} << 32, byte, size);
    case 0x20:  // NSSR and AQA
      return reg_extract(std::uint64_t{aqa_} << 32, byte, size);
    case r::kAsq:
      return reg_extract(asq_, byte, size);
    case r::kAcq:
      return reg_extract(acq_, byte, size);
    default:
      return 0;
  }
}

void Nvme::bar_write(unsigned bar, std::uint64_t offset, unsigned size, std::uint64_t value) {
  if (bar != 0) return;
  if (offset >= r::kDoorbells) {
    if (size == 4 && offset % 4 == 0)
      doorbell(offset - r::kDoorbells, static_cast<std::uint32_t>(value));
    return;
  }
  const auto byte = static_cast<unsigned>(offset & 7);
  switch (offset & ~std::uint64_t{7}) {
    case 0x10: {
      const auto next =
          static_cast<std::uint32_t>(reg_merge(std::uint64_t{cc_} << 32, byte, size, value) >> 32);
      const bool was = r::EN::get(cc_) != 0;
      cc_ = next;
      const bool now_on = r::EN::get(cc_) != 0;
      if (was != now_on) enable(now_on);
      break;
    }
    case 0x20:
      if (!ready())
        aqa_ = static_cast<std::uint32_t>(reg_merge(std::uint64_t{aqa_} << 32, byte, size, value) >>
                                          32);
      break;
    case r::kAsq:
      if (!ready()) asq_ = reg_merge(asq_, byte, size, value) & ~(kPage - 1);
      break;
    case r::kAcq:
      if (!ready()) acq_ = reg_merge(acq_, byte, size, value) & ~(kPage - 1);
      break;
    default:
      break;  // read-only or reserved
  }
}

void Nvme::enable(bool on) {
  std::fill(sqs_.begin(), sqs_.end(), Sq{});
  std::fill(cqs_.begin(), cqs_.end(), Cq{});
  csts_ = 0;
  if (!on) return;
  const std::uint32_t sqs = static_cast<std::uint32_t>(r::ASQS::get(aqa_)) + 1;
  const std::uint32_t cqs = static_cast<std::uint32_t>(r::ACQS::get(aqa_)) + 1;
  // An unusable admin queue setup or page size is a controller fatal status (§3.1.6).
  if (sqs < 2 || cqs < 2 || sqs > max_entries_ || cqs > max_entries_ || r::MPS::get(cc_) != 0) {
    csts_ = static_cast<std::uint32_t>(r::CFS::kMask);
    return;
  }
  sqs_[0] = Sq{true, asq_, sqs, 0, 0, 0};
  cqs_[0] = Cq{true, acq_, cqs, 0, 0, true, true, 0};
  csts_ = static_cast<std::uint32_t>(r::RDY::kMask);
}

void Nvme::doorbell(std::uint64_t offset, std::uint32_t value) {
  if (!ready() || fatal()) return;
  const auto qid = static_cast<std::uint16_t>(offset / 8);
  const bool cq_doorbell = (offset % 8) == 4;
  if (qid > io_queues_) return;
  if (cq_doorbell) {
    Cq& cq = cqs_[qid];
    if (!cq.valid || value >= cq.size) return;  // invalid doorbell writes are ignored
    cq.head = value;
    // Room in the CQ may let stalled submission queues proceed.
    for (std::uint16_t q = 0; q <= io_queues_; ++q) {
      if (sqs_[q].valid && sqs_[q].cqid == qid && sqs_[q].head != sqs_[q].tail) process_sq(q);
    }
    return;
  }
  Sq& sq = sqs_[qid];
  if (!sq.valid || value >= sq.size) return;
  sq.tail = value;
  process_sq(qid);
}

void Nvme::process_sq(std::uint16_t qid) {
  attrs_ = attrs_now();
  for (std::uint32_t guard = 0; guard < max_entries_ && sqs_[qid].valid; ++guard) {
    Sq& sq = sqs_[qid];
    if (sq.head == sq.tail) break;
    const Cq& cq = cqs_[sq.cqid];
    if (!cq.valid || (cq.tail + 1) % cq.size == cq.head) break;  // CQ full: wait for its doorbell
    Sqe cmd;
    const DmaResult res =
        dma().read_value(sq.base + std::uint64_t{sq.head} * kSqeSize, cmd.q, attrs_);
    if (!res.ok()) {
      note_dma_error(res, true);
      ++stats_.dma_errors;
      csts_ |= static_cast<std::uint32_t>(r::CFS::kMask);
      return;
    }
    attrs_.arrival = std::max(attrs_.arrival, res.completion);
    sq.head = (sq.head + 1) % sq.size;
    std::uint32_t dw0 = 0;
    const std::uint16_t status = qid == 0 ? execute_admin(cmd, &dw0) : execute_io(cmd);
    if (status != st::kSuccess) ++stats_.errors;
    if (!post(qid, static_cast<std::uint16_t>(cmd.get<nvme_sqe::CID>()), status, dw0)) return;
  }
}

bool Nvme::post(std::uint16_t sqid, std::uint16_t cid, std::uint16_t status, std::uint32_t dw0) {
  const Sq& sq = sqs_[sqid];
  Cq& cq = cqs_[sq.cqid];
  model::Entry128 cqe;
  cqe.set<nvme_cqe::DW0>(dw0);
  cqe.set<nvme_cqe::SQHD>(sq.head);
  cqe.set<nvme_cqe::SQID>(sqid);
  cqe.set<nvme_cqe::CID>(cid);
  cqe.set<nvme_cqe::P>(cq.phase ? 1 : 0);
  cqe.set<nvme_cqe::SC>(status & 0xFFu);
  cqe.set<nvme_cqe::SCT>((status >> 8) & 0x7u);
  cqe.set<nvme_cqe::DNR>(status != st::kSuccess ? 1 : 0);
  const DmaResult res =
      dma().write_value(cq.base + std::uint64_t{cq.tail} * kCqeSize, cqe.q, attrs_);
  if (!res.ok()) {
    ++stats_.dma_errors;
    csts_ |= static_cast<std::uint32_t>(r::CFS::kMask);
    return false;
  }
  ++stats_.completions;
  cq.tail = (cq.tail + 1) % cq.size;
  if (cq.tail == 0) cq.phase = !cq.phase;  // the phase tag inverts on each pass (§4.6)
  if (cq.ien) (void)signal_interrupt(cq.iv);
  return true;
}

std::uint16_t Nvme::execute_admin(const Sqe& cmd, std::uint32_t* dw0) {
  ++stats_.admin_commands;
  *dw0 = 0;
  const std::uint64_t cdw10 = cmd.get<nvme_sqe::CDW10>();
  const std::uint64_t cdw11 = cmd.get<nvme_sqe::CDW11>();
  const std::uint32_t qid = lo16(cdw10);
  const std::uint32_t qsize = hi16(cdw10) + 1;
  const std::uint64_t prp1 = cmd.get<nvme_sqe::PRP1>();
  switch (cmd.get<nvme_sqe::OPC>()) {
    case op::kCreateCq: {
      if (qid == 0 || qid > io_queues_ || cqs_[qid].valid) return st::kInvalidQueueIdentifier;
      if (qsize < 2 || qsize > max_entries_) return st::kInvalidQueueSize;
      if ((cdw11 & 1u) == 0) return st::kInvalidField;  // CAP.CQR: contiguous only
      if ((prp1 & (kPage - 1)) != 0) return st::kPrpOffsetInvalid;
      const std::uint32_t iv = hi16(cdw11);
      if (iv > io_queues_) return st::kInvalidInterruptVector;
      cqs_[qid] =
          Cq{true, prp1, qsize, 0, 0, true, (cdw11 & 2u) != 0, static_cast<std::uint16_t>(iv)};
      return st::kSuccess;
    }
    case op::kCreateSq: {
      if (qid == 0 || qid > io_queues_ || sqs_[qid].valid) return st::kInvalidQueueIdentifier;
      if (qsize < 2 || qsize > max_entries_) return st::kInvalidQueueSize;
      if ((cdw11 & 1u) == 0) return st::kInvalidField;
      if ((prp1 & (kPage - 1)) != 0) return st::kPrpOffsetInvalid;
      const std::uint32_t cqid = hi16(cdw11);
      if (cqid == 0 || cqid > io_queues_ || !cqs_[cqid].valid) return st::kCompletionQueueInvalid;
      sqs_[qid] = Sq{true, prp1, qsize, 0, 0, static_cast<std::uint16_t>(cqid)};
      return st::kSuccess;
    }
    case op::kDeleteSq:
      if (qid == 0 || qid > io_queues_ || !sqs_[qid].valid) return st::kInvalidQueueIdentifier;
      sqs_[qid] = Sq{};
      return st::kSuccess;
    case op::kDeleteCq:
      if (qid == 0 || qid > io_queues_ || !cqs_[qid].valid) return st::kInvalidQueueIdentifier;
      for (const Sq& sq : sqs_) {
        if (sq.valid && sq.cqid == qid) return st::kInvalidQueueDeletion;
      }
      cqs_[qid] = Cq{};
      return st::kSuccess;
    case op::kIdentify:
      return identify(cmd);
    default:
      return st::kInvalidOpcode;
  }
}

std::uint16_t Nvme::identify(const Sqe& cmd) {
  buffer_.assign(4096, std::byte{0});
  auto put = [&](std::size_t at, const void* src, std::size_t n) {
    std::memcpy(&buffer_[at], src, n);
  };
  const auto cns = static_cast<std::uint32_t>(cmd.get<nvme_sqe::CDW10>() & 0xFFu);
  if (cns == 1) {  // controller: VID, SN, MN, MDTS, NN (§5.15.2.2)
    const std::uint16_t vid = config().get16(cfg::kVendorId);
    put(0, &vid, 2);
    put(4, "VTDSIM0000000001    ", 20);
    put(24, "vtdsim NVMe model                       ", 40);
    const auto mdts = static_cast<std::uint8_t>(std::countr_zero(max_transfer_ / 4096));
    put(77, &mdts, 1);
    const std::uint32_t nn = 1;
    put(516, &nn, 4);
  } else if (cns == 0) {  // namespace: NSZE, NCAP, NUSE, NLBAF, FLBAS, LBAF0 (§6.1.5)
    if (cmd.get<nvme_sqe::NSID>() != 1) return st::kInvalidNamespace;
    put(0, &lba_count_, 8);
    put(8, &lba_count_, 8);
    put(16, &lba_count_, 8);
    const std::uint32_t lbaf0 = static_cast<std::uint32_t>(std::countr_zero(lba_size_)) << 16;
    put(128, &lbaf0, 4);
  } else {
    return st::kInvalidField;
  }
  std::vector<DmaSegment> segs;
  if (const std::uint16_t s = build_prps(cmd, 4096, segs); s != st::kSuccess) return s;
  const DmaResult res = dma().write_sg(segs, buffer_, attrs_);
  if (!res.ok()) {
    note_dma_error(res, false);
    ++stats_.dma_errors;
    return st::kDataTransferError;
  }
  return st::kSuccess;
}

// PRP1 names the first (possibly offset) page; PRP2 the second page or a PRP list whose last
// entry chains to the next list page when more entries follow (§4.3).
std::uint16_t Nvme::build_prps(const Sqe& cmd, std::uint64_t length, std::vector<DmaSegment>& out) {
  out.clear();
  const std::uint64_t prp1 = cmd.get<nvme_sqe::PRP1>();
  const std::uint64_t prp2 = cmd.get<nvme_sqe::PRP2>();
  if ((prp1 & 3u) != 0) return st::kPrpOffsetInvalid;
  const std::uint64_t first = std::min(length, kPage - (prp1 & (kPage - 1)));
  out.push_back({prp1, first});
  std::uint64_t left = length - first;
  if (left == 0) return st::kSuccess;
  if (left <= kPage) {
    if ((prp2 & (kPage - 1)) != 0) return st::kPrpOffsetInvalid;
    out.push_back({prp2, left});
    return st::kSuccess;
  }
  if ((prp2 & 7u) != 0) return st::kPrpOffsetInvalid;
  std::uint64_t list = prp2;
  std::uint64_t pages = (left + kPage - 1) / kPage;
  // A list page whose only slot is the chain pointer makes no progress: bound the chain so a
  // self-referencing list completes with an error instead of spinning.
  for (std::uint64_t list_pages = 0; pages > 0; ++list_pages) {
    if (list_pages > (length / kPage) + 1) return st::kInvalidField;
    const std::uint64_t slots = (kPage - (list & (kPage - 1))) / 8;
    const bool chained = pages > slots;
    const std::uint64_t n = chained ? slots : pages;
    prp_page_.resize(static_cast<std::size_t>(n));
    ++stats_.prp_list_reads;
    const DmaResult res =
        dma().read(list, std::as_writable_bytes(std::span<std::uint64_t>(prp_page_)), attrs_);
    if (!res.ok()) {
      note_dma_error(res, true);
      ++stats_.dma_errors;
      return st::kDataTransferError;
    }
    const std::uint64_t data_entries = chained ? n - 1 : n;
    for (std::uint64_t i = 0; i < data_entries; ++i) {
      const std::uint64_t e = prp_page_[static_cast<std::size_t>(i)];
      if ((e & (kPage - 1)) != 0) return st::kPrpOffsetInvalid;
      const std::uint64_t chunk = std::min(left, kPage);
      out.push_back({e, chunk});
      left -= chunk;
    }
    pages -= data_entries;
    if (chained) {
      list = prp_page_.back();
      if ((list & 7u) != 0) return st::kPrpOffsetInvalid;
    }
  }
  return st::kSuccess;
}

std::uint16_t Nvme::execute_io(const Sqe& cmd) {
  ++stats_.commands;
  const auto opc = static_cast<std::uint8_t>(cmd.get<nvme_sqe::OPC>());
  if (opc != op::kRead && opc != op::kWrite && opc != op::kFlush) return st::kInvalidOpcode;
  if (cmd.get<nvme_sqe::NSID>() != 1) return st::kInvalidNamespace;
  if (opc == op::kFlush) return st::kSuccess;
  if (cmd.get<nvme_sqe::PSDT>() != 0) return st::kInvalidField;  // SGLs are not supported
  const std::uint64_t slba = cmd.get<nvme_sqe::CDW10>() | (cmd.get<nvme_sqe::CDW11>() << 32);
  const std::uint64_t nlb = lo16(cmd.get<nvme_sqe::CDW12>()) + 1u;
  if (slba >= lba_count_ || nlb > lba_count_ - slba) return st::kLbaOutOfRange;
  const std::uint64_t bytes = nlb * lba_size_;
  if (bytes > max_transfer_) return st::kInvalidField;
  if (const std::uint16_t s = build_prps(cmd, bytes, segments_); s != st::kSuccess) return s;
  const std::span<std::byte> lbas(store_.data() + slba * lba_size_,
                                  static_cast<std::size_t>(bytes));
  if (opc == op::kWrite) {
    // Memory -> store through a staging buffer, so a fault leaves the store unchanged.
    buffer_.resize(static_cast<std::size_t>(bytes));
    const DmaResult res = dma().read_sg(segments_, buffer_, attrs_);
    if (!res.ok()) {
      note_dma_error(res, true);
      ++stats_.dma_errors;
      return st::kDataTransferError;
    }
    attrs_.arrival = std::max(attrs_.arrival, res.completion);
    std::copy(buffer_.begin(), buffer_.end(), lbas.begin());
    ++stats_.writes;
    stats_.bytes_written += bytes;
    return st::kSuccess;
  }
  const DmaResult res = dma().write_sg(segments_, lbas, attrs_);
  if (!res.ok()) {
    note_dma_error(res, false);
    ++stats_.dma_errors;
    return st::kDataTransferError;
  }
  attrs_.arrival = std::max(attrs_.arrival, res.completion);
  ++stats_.reads;
  stats_.bytes_read += bytes;
  return st::kSuccess;
}

}  // namespace vtdsim::pci
