// One remapping hardware unit (one DRHD; spec ch. 3, 5, 6, 7, 11): the register file, the
// global command handshakes, register-based and queued invalidation, fault recording and
// fault/invalidation events, around the DMA translation pipeline (DmaRemapper) and the
// interrupt remapper (irq_remap::InterruptRemapper). Software programs it only through
// mmio_read/mmio_write and tables in PhysicalMemory, as on hardware.
// Not modelled: advanced fault logging, PMR, page requests, perfmon registers.
#pragma once

#include <cstdint>
#include <memory>

#include "iommu/descriptors.h"
#include "iommu/dma_remapper.h"
#include "iommu/unit_config.h"
#include "iommu/unit_stats.h"
#include "irq_remap/interrupt_remapper.h"
#include "model/dma_translator.h"
#include "model/error.h"
#include "model/interrupt_sink.h"
#include "model/physical_memory.h"

namespace vtdsim::iommu {

class RemappingUnit final : public model::DmaTranslator {
 public:
  // event_sink receives fault and invalidation-completion event interrupts; remapped,
  // passed-through and posted-notification interrupts go to interrupt_sink (event_sink when
  // null). Throws std::invalid_argument when config.validate() fails; use create() to get
  // the error as a value.
  RemappingUnit(model::PhysicalMemory& memory, const UnitConfig& config,
                model::InterruptSink* event_sink = nullptr,
                model::InterruptSink* interrupt_sink = nullptr);
  ~RemappingUnit() override;
  RemappingUnit(const RemappingUnit&) = delete;
  RemappingUnit& operator=(const RemappingUnit&) = delete;

  static Expected<std::unique_ptr<RemappingUnit>> create(
      model::PhysicalMemory& memory, const UnitConfig& config,
      model::InterruptSink* event_sink = nullptr, model::InterruptSink* interrupt_sink = nullptr);

  // 4- and 8-byte register accesses at spec offsets. Bad size/offset: reads return 0, writes
  // are ignored and counted (UnitStats::bad_accesses).
  std::uint64_t mmio_read(std::uint64_t offset, unsigned size);
  void mmio_write(std::uint64_t offset, unsigned size, std::uint64_t value);
  // Bytes of MMIO the unit decodes (CAP.FRO/NFR and ECAP.IRO, rounded up to 4 KiB).
  std::uint64_t mmio_size() const;

  // DMA through the unit; faults are recorded unless suppressed (qualified and FPD=1) or
  // dropped (overflow); Translation::fault_recorded tells which.
  model::Translation translate(const model::DmaRequest& request) override;

  // A 4-byte write to the interrupt window by `source`. Remapped and passed-through messages
  // and posted-interrupt notifications are delivered to the interrupt sink; faults recorded.
  irq_remap::IrResult remap_interrupt(model::SourceId source, std::uint64_t address,
                                      std::uint32_t data, model::Cycle arrival = 0);

  void set_event_sink(model::InterruptSink* sink);
  void set_interrupt_sink(model::InterruptSink* sink);
  // Where device-TLB invalidations go (ATS devices); null: recorded only.
  void set_device_tlb_sink(DeviceTlbSink* sink);
  // The most recent device-TLB invalidation (valid when stats().dev_tlb_inv > 0).
  const DeviceTlbInvalidation& last_device_tlb_invalidation() const;

  const UnitConfig& config() const;
  const UnitStats& stats() const;
  void reset_stats();
  // The latched state translation and interrupt remapping use.
  const RootState& root_state() const;
  const irq_remap::IrState& ir_state() const;
  // The pipelines, for their own stats.
  const DmaRemapper& dma_remapper() const;
  DmaRemapper& dma_remapper();
  const irq_remap::InterruptRemapper& interrupt_remapper() const;
  irq_remap::InterruptRemapper& interrupt_remapper();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vtdsim::iommu
