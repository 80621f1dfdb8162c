// The named formats `vtdsim decode` and `vtdsim explain` print: field tables over the model's
// model::Field descriptors for the translation structures (spec §9.1–9.8), interrupt formats
// (§5.1.2, §5.1.5, §9.9–9.10), invalidation descriptors (§6.5.2), the fault recording register
// and the registers (§11.4).
// Not modelled: PASID-based invalidation descriptors (types 6-8) until iommu/ defines them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tools/format_table.h"

namespace vtdsim::tools::formats {

// Translation structures (formats_dma.cc).
const Format& root_legacy();
const Format& context_legacy();
const Format& sl_entry();  // second-stage paging entry

// Scalable-mode structures (formats_sm.cc).
const Format& root_scalable();
const Format& context_scalable();
const Format& pasid_dir();
const Format& pasid_entry();
const Format& fs_entry();  // first-stage paging entry (IA-32e)

// Interrupt remapping (formats_ir.cc).
const Format& irte_remapped();
const Format& irte_posted();
const Format& msi_address();
const Format& msi_data();
const Format& ioapic_rte();

// Registers and the fault record (formats_regs.cc).
const Format& frcd();
const Format& cap();
const Format& ecap();
const Format& gsts();
const Format& fsts();
const Format& iqa();
const Format& irta();
const Format& rtaddr();

// Invalidation descriptors (formats_desc.cc): the format of a type (bits 3:0 | 11:9 << 4),
// or null for a type the model does not define. `name` gets the spec name of the type
// ("reserved" for an unassigned one).
const Format* descriptor(unsigned type, std::string& name);

// Value texts shared by several tables.
std::string describe_aw(std::uint64_t aw);          // "48-bit, 4-level"
std::string describe_delivery_mode(std::uint64_t);  // "fixed", "NMI", ...
std::string describe_svt(std::uint64_t svt);
std::string describe_sq(std::uint64_t sq);

}  // namespace vtdsim::tools::formats
