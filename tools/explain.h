// `vtdsim explain`: one DMA or one MSI, step by step, for teaching (DESIGN.md "Who uses it").
// The steps are a read-only decode of the in-memory tables (root, context, PASID entries, each
// page-table level; IRTA and the IRTE), clearly labelled as the explanation; the verdict and
// the cache activity always come from the unit itself (RemappingUnit::translate /
// remap_interrupt and its stats before/after), followed by a second run of the same request.
// Spec: ch. 3 (DMA remapping), ch. 5 (interrupt remapping), §9 (formats).
// Not modelled: the explanation does not model caches (it reads memory as the unit would on a
// full miss) and does not explain nested (PGTT = 011) walks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "iommu/remapping_unit.h"
#include "model/dma_translator.h"
#include "model/error.h"
#include "model/physical_memory.h"
#include "tools/cli_util.h"

namespace vtdsim::tools {

struct ExplainOptions {
  std::string scenario;  // TOML scenario; empty: the built-in set-up (explain_setup.h)
  std::string sid = "00:03.0";
  std::optional<std::string> pasid;
  std::optional<std::string> addr;  // DMA input address
  bool write = false;
  unsigned size = 4;
  std::optional<std::string> msi_addr;  // MSI address (then msi_data)
  std::optional<std::string> msi_data;
};

// The whole explanation as text, or an error naming the bad option.
Expected<std::string> explain(const ExplainOptions& options);

// The step view and verdicts against a unit whose tables live in `memory` (tests call these
// on their own set-ups). They issue the request twice through the unit, first at `arrival`
// (after a run: its last completion, so that the request does not queue behind the run's
// walks) and again 1000 cycles later.
std::string explain_dma(iommu::RemappingUnit& unit, const model::PhysicalMemory& memory,
                        model::DmaRequest request);
std::string explain_msi(iommu::RemappingUnit& unit, const model::PhysicalMemory& memory,
                        model::SourceId source, std::uint64_t address, std::uint32_t data,
                        model::Cycle arrival = 0);

void register_explain(CLI::App& app, CommandResult& result);

}  // namespace vtdsim::tools
