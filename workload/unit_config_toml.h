// Reading a remapping unit's configuration (features, cache geometries, timing) from a
// scenario's [unit] table. Unknown keys and out-of-range values are errors with the key path.
#pragma once

#include "iommu/unit_config.h"
#include "model/error.h"
#include "workload/config.h"

namespace vtdsim::workload {

// Reads `table` over `base` (defaults); finishes the table (unknown keys are errors) and
// validates the result with UnitConfig::validate().
Expected<iommu::UnitConfig> read_unit_config(ConfigTable& table, iommu::UnitConfig base = {});

Expected<model::CacheGeometry> read_cache_geometry(ConfigTable& table, model::CacheGeometry base,
                                                   bool allow_disabled);
Expected<model::TimingParams> read_timing(ConfigTable& table, model::TimingParams base);

}  // namespace vtdsim::workload
