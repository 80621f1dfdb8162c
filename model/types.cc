#include "model/types.h"

#include <fmt/format.h>

namespace vtdsim::model {

std::string to_string(SourceId sid) {
  return fmt::format("{:02x}:{:02x}.{:x}", sid.bus(), sid.dev(), sid.fn());
}

}  // namespace vtdsim::model
