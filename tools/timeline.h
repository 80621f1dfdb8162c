// The timeline of a run in Chrome trace-event JSON (the "JSON Array/Object Format" Perfetto
// and chrome://tracing read): one instant event per DMA request (per device track) and per
// host map/unmap/invalidate event (host track), at the cycle the runner gave it, converted to
// microseconds with the unit clock.
// Not modelled: durations (the runner reports no per-request completion), page walks and
// interrupts (no event hook in workload::Runner yet).
#pragma once

#include <string>

#include "model/error.h"

namespace vtdsim::tools {

// Reads the binary event trace at events_path and writes the timeline JSON to out_path.
Status write_timeline(const std::string& events_path, const std::string& out_path,
                      double clock_ghz);

}  // namespace vtdsim::tools
