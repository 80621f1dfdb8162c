// A function's bus-master interface: memory reads/writes and MSI writes, each split at 4 KiB
// boundaries and sent through model::DmaTranslator with the function's requester id (or the
// alias the topology assigns). Memory is touched only when every piece translates, so a
// faulting DMA writes nothing. An answer of kInterruptWindow turns a 4-byte write into an
// interrupt handed to MsiTarget (VT-d 4.x §3.14, §5.1). Bus Master Enable off (PCI 3.0 §6.2.2)
// refuses DMA and MSI. Not modelled: ordering between outstanding requests, read completions
// split by RCB, poisoned TLPs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "model/dma_translator.h"
#include "model/physical_memory.h"
#include "model/stats.h"
#include "model/types.h"

namespace vtdsim::pci {

// Where a function's MSI/MSI-X write lands when the translator reports the interrupt window.
// The platform implements it with interrupt remapping (or compatibility delivery).
// Contract: called synchronously from the DMA port; must not call back into the device.
class MsiTarget {
 public:
  virtual ~MsiTarget() = default;
  virtual void deliver_msi(model::SourceId source_id, std::uint64_t address, std::uint32_t data,
                           model::Cycle time) = 0;
};

enum class DmaStatus : std::uint8_t {
  kOk = 0,
  kBusMasterDisabled = 1,  // command.BME = 0: the request never left the function
  kFault = 2,              // the translator blocked a piece (fault_reason holds the code)
  kInterruptWindow = 3,    // a read, or a write other than one dword, hit 0xFEEx_xxxx
  kNotConnected = 4,       // no translator/memory bound to the port
  kOutOfRange = 5,         // the translated address lies beyond physical memory
};

const char* to_string(DmaStatus status);

struct DmaResult {
  DmaStatus status = DmaStatus::kOk;
  std::uint8_t fault_reason = 0;    // VT-d fault reason when status == kFault
  std::uint64_t fault_address = 0;  // first address that failed
  bool interrupt = false;           // the write was delivered as an interrupt
  std::uint32_t pieces = 0;         // translations issued
  model::Cycle completion = 0;      // cycle the last piece completed
  bool ok() const { return status == DmaStatus::kOk; }
};

// One piece of a scatter-gather list (bus address and length).
struct DmaSegment {
  std::uint64_t address = 0;
  std::uint64_t size = 0;
};

// Request attributes beyond address and size.
struct DmaAttrs {
  model::AddressType address_type = model::AddressType::kUntranslated;
  bool has_pasid = false;
  std::uint32_t pasid = 0;
  bool privileged = false;
  bool execute = false;
  model::Cycle arrival = 0;
};

struct DmaPortStats {
  std::uint64_t dma_reads = 0;
  std::uint64_t dma_writes = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t translations = 0;
  std::uint64_t translation_requests = 0;
  std::uint64_t faults = 0;
  std::uint64_t blocked_bus_master = 0;
  std::uint64_t interrupt_window_aborts = 0;
  std::uint64_t msi_sent = 0;
  std::uint64_t msi_blocked = 0;
  std::uint64_t msi_faults = 0;

  static constexpr auto kFields = std::to_array<model::StatField<DmaPortStats>>({
      {"dma_reads", "transfers", "DMA read transfers issued", &DmaPortStats::dma_reads},
      {"dma_writes", "transfers", "DMA write transfers issued", &DmaPortStats::dma_writes},
      {"bytes_read", "bytes", "bytes read from memory", &DmaPortStats::bytes_read},
      {"bytes_written", "bytes", "bytes written to memory", &DmaPortStats::bytes_written},
      {"translations", "requests", "4 KiB pieces sent to the translator",
       &DmaPortStats::translations},
      {"translation_requests", "requests", "ATS translation requests",
       &DmaPortStats::translation_requests},
      {"faults", "transfers", "transfers aborted by a translation fault", &DmaPortStats::faults},
      {"blocked_bus_master", "transfers", "DMA refused because bus mastering is off",
       &DmaPortStats::blocked_bus_master},
      {"interrupt_window_aborts", "transfers", "non-MSI transfers that hit the interrupt window",
       &DmaPortStats::interrupt_window_aborts},
      {"msi_sent", "messages", "MSI/MSI-X writes delivered", &DmaPortStats::msi_sent},
      {"msi_blocked", "messages", "MSI refused because bus mastering is off",
       &DmaPortStats::msi_blocked},
      {"msi_faults", "messages", "MSI writes blocked by the translator", &DmaPortStats::msi_faults},
  });
};

class DmaPort {
 public:
  DmaPort() = default;

  // Binds the port to the platform's translator and memory (msi may be null: MSIs then fail
  // with kNotConnected).
  void connect(model::DmaTranslator& translator, model::PhysicalMemory& memory, MsiTarget* msi);
  bool connected() const { return translator_ != nullptr && memory_ != nullptr; }

  // The source-id the translator sees (the function's id or its topology alias).
  model::SourceId source_id() const { return source_id_; }
  void set_source_id(model::SourceId sid) { source_id_ = sid; }
  bool bus_master() const { return bus_master_; }
  void set_bus_master(bool enabled) { bus_master_ = enabled; }

  DmaResult read(std::uint64_t address, std::span<std::byte> out, const DmaAttrs& attrs = {});
  DmaResult write(std::uint64_t address, std::span<const std::byte> in, const DmaAttrs& attrs = {});

  // Scatter-gather: the segments are filled/drained in order from one buffer; every piece of
  // every segment translates before memory is touched. Bytes beyond the segments' total are
  // left alone; segments beyond the buffer are cut.
  DmaResult read_sg(std::span<const DmaSegment> segments, std::span<std::byte> out,
                    const DmaAttrs& attrs = {});
  DmaResult write_sg(std::span<const DmaSegment> segments, std::span<const std::byte> in,
                     const DmaAttrs& attrs = {});

  template <class T>
  DmaResult read_value(std::uint64_t address, T& out, const DmaAttrs& attrs = {}) {
    static_assert(std::is_trivially_copyable_v<T>);
    std::array<std::byte, sizeof(T)> tmp{};
    DmaResult r = read(address, tmp, attrs);
    if (r.ok()) std::memcpy(&out, tmp.data(), sizeof(T));
    return r;
  }
  template <class T>
  DmaResult write_value(std::uint64_t address, const T& value, const DmaAttrs& attrs = {}) {
    static_assert(std::is_trivially_copyable_v<T>);
    std::array<std::byte, sizeof(T)> tmp{};
    std::memcpy(tmp.data(), &value, sizeof(T));
    return write(address, tmp, attrs);
  }

  // An MSI/MSI-X message: a dword write of data to address (PCI 3.0 §6.8.3).
  DmaResult send_msi(std::uint64_t address, std::uint32_t data, model::Cycle time);

  // An ATS translation request for the page holding address (PCIe 4.0 §10.2.2); the answer's
  // hpa/permissions/page_size are what a translation completion carries.
  model::Translation translation_request(std::uint64_t address, model::AccessType access,
                                         const DmaAttrs& attrs = {});

  const DmaPortStats& stats() const { return stats_; }

 private:
  struct Piece {
    std::uint64_t hpa;
    std::uint32_t size;
  };
  // Appends the pieces of [address, address+size) to pieces_; result accumulates.
  void translate_range(std::uint64_t address, std::uint64_t size, model::AccessType access,
                       const DmaAttrs& attrs, DmaResult& result);
  DmaResult translate_all(std::uint64_t address, std::uint64_t size, model::AccessType access,
                          const DmaAttrs& attrs);
  DmaResult check(std::uint64_t address, const DmaAttrs& attrs);
  void account_failure(const DmaResult& r);
  // Translates every segment (clipped to `limit` bytes in all) into pieces_; total = bytes.
  DmaResult translate_sg(std::span<const DmaSegment> segments, std::uint64_t limit,
                         model::AccessType access, const DmaAttrs& attrs, std::uint64_t& total);

  model::DmaTranslator* translator_ = nullptr;
  model::PhysicalMemory* memory_ = nullptr;
  MsiTarget* msi_ = nullptr;
  model::SourceId source_id_{};
  bool bus_master_ = false;
  std::vector<Piece> pieces_;  // reused between transfers: no allocation once warm
  DmaPortStats stats_;
};

}  // namespace vtdsim::pci
