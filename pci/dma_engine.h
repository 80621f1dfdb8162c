// A DMA engine test device: BAR0 registers for source, destination, length and command; a
// start copies length bytes through the DMA port (read all, then write all) and raises its
// interrupt (MSI-X if enabled, else MSI) on completion. A faulted transfer writes nothing and
// reports ERROR with the DMA status and the VT-d fault reason in STATUS.
// Not modelled: descriptor chains, transfer time (a copy completes when the last translation
// does), concurrent transfers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/field.h"
#include "pci/function.h"

namespace vtdsim::pci {

namespace dma_engine_regs {
inline constexpr std::uint64_t kSrc = 0x00;        // 64-bit RW: source bus address
inline constexpr std::uint64_t kDst = 0x08;        // 64-bit RW: destination bus address
inline constexpr std::uint64_t kLen = 0x10;        // 32-bit RW: bytes
inline constexpr std::uint64_t kCmd = 0x14;        // 32-bit: START (W, reads 0), IRQ_EN (RW)
inline constexpr std::uint64_t kStatus = 0x18;     // 32-bit: DONE/ERROR RW1C, CODE/REASON RO
inline constexpr std::uint64_t kFaultAddr = 0x20;  // 64-bit RO: first failing address
inline constexpr std::uint64_t kCompleted = 0x28;  // 32-bit RO: transfers completed
using START = model::Field<0, 0>;
using IRQ_EN = model::Field<1, 1>;
using CmdLayout = model::Layout<1, START, IRQ_EN>;
static_assert(model::valid_layout<CmdLayout>());
using DONE = model::Field<1, 1>;
using ERROR = model::Field<2, 2>;
using CODE = model::Field<15, 8>;     // DmaStatus value, or kCodeBadLength
using REASON = model::Field<23, 16>;  // VT-d fault reason when CODE = DmaStatus::kFault
using StatusLayout = model::Layout<1, DONE, ERROR, CODE, REASON>;
static_assert(model::valid_layout<StatusLayout>());
inline constexpr std::uint32_t kCodeBadLength = 0x80;
inline constexpr std::uint32_t kMaxLength = 1u << 20;
inline constexpr std::uint64_t kBar0Size = 0x1000;
inline constexpr std::uint64_t kBar2Size = 0x1000;  // MSI-X table at 0, PBA at 0x800
}  // namespace dma_engine_regs

struct DmaEngineStats {
  std::uint64_t transfers = 0;
  std::uint64_t bytes = 0;
  std::uint64_t errors = 0;
  static constexpr auto kFields = std::to_array<model::StatField<DmaEngineStats>>({
      {"transfers", "transfers", "copies completed without error", &DmaEngineStats::transfers},
      {"bytes", "bytes", "bytes copied", &DmaEngineStats::bytes},
      {"errors", "transfers", "copies that ended in ERROR", &DmaEngineStats::errors},
  });
};

class DmaEngine : public Function {
 public:
  explicit DmaEngine(FunctionIdentity identity = {0x8086, 0x0B25, 0x088000, 0});

  model::Cycle last_completion() const { return last_completion_; }
  const DmaEngineStats& stats() const { return stats_; }

 protected:
  std::uint64_t bar_read(unsigned bar, std::uint64_t offset, unsigned size) override;
  void bar_write(unsigned bar, std::uint64_t offset, unsigned size, std::uint64_t value) override;

 private:
  void start();
  void finish(bool error, std::uint32_t code, std::uint8_t reason, std::uint64_t fault_address);

  std::uint64_t src_ = 0, dst_ = 0, fault_addr_ = 0;
  std::uint32_t len_ = 0, cmd_ = 0, status_ = 0, completed_ = 0;
  std::vector<std::byte> buffer_;
  model::Cycle last_completion_ = 0;
  DmaEngineStats stats_;
};

}  // namespace vtdsim::pci
