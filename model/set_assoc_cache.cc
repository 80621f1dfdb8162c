#include "model/set_assoc_cache.h"

#include <bit>

#include <fmt/format.h>

namespace vtdsim::model {

std::string_view to_string(ReplacementPolicy policy) {
  switch (policy) {
    case ReplacementPolicy::kLru:
      return "lru";
    case ReplacementPolicy::kTreePlru:
      return "plru";
    case ReplacementPolicy::kFifo:
      return "fifo";
    case ReplacementPolicy::kRandom:
      return "random";
  }
  return "?";
}

Expected<ReplacementPolicy> parse_replacement_policy(std::string_view text) {
  if (text == "lru") return ReplacementPolicy::kLru;
  if (text == "plru" || text == "tree-plru") return ReplacementPolicy::kTreePlru;
  if (text == "fifo") return ReplacementPolicy::kFifo;
  if (text == "random") return ReplacementPolicy::kRandom;
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("unknown replacement policy '{}' (expected lru, plru, fifo or "
                                "random)",
                                text));
}

Status CacheGeometry::validate() const {
  if (sets == 0 || !std::has_single_bit(sets)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("cache sets must be a power of two >= 1, got {}", sets));
  }
  if (ways == 0 || ways > kMaxWays) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("cache ways must be in [1, {}], got {}", kMaxWays, ways));
  }
  if (policy == ReplacementPolicy::kTreePlru && !std::has_single_bit(ways)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("tree-PLRU needs a power-of-two way count, got {}", ways));
  }
  return {};
}

}  // namespace vtdsim::model
