// Translation latency distribution of a run: a fixed-bucket histogram with exact buckets of
// one cycle below 1024 cycles and 16 log-linear sub-buckets per power of two above (relative
// bucket width 1/16 = 6.25%). Percentiles are the lower bound of the bucket holding the
// nearest-rank sample (rank ceil(p·N)): exact below 1024 cycles, at most 6.25% low above.
// Mean, minimum and maximum are exact.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

#include "model/types.h"

namespace vtdsim::workload {

class LatencyHistogram {
 public:
  static constexpr unsigned kExact = 1024;
  static constexpr unsigned kSub = 16;
  static constexpr unsigned kBuckets = kExact + (64 - 10) * kSub;

  void add(model::Cycle v) {
    ++counts_[bucket_of(v)];
    ++count_;
    sum_ += v;
    if (v > max_) max_ = v;
    if (v < min_) min_ = v;
  }
  void merge(const LatencyHistogram& other);
  void clear() { *this = LatencyHistogram{}; }

  std::uint64_t count() const { return count_; }
  double mean() const {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
  }
  model::Cycle min() const { return count_ == 0 ? 0 : min_; }
  model::Cycle max() const { return max_; }
  // p in (0, 1]; 0 with no samples.
  model::Cycle percentile(double p) const;

  static unsigned bucket_of(model::Cycle v) {
    if (v < kExact) return static_cast<unsigned>(v);
    const unsigned e = 63u - static_cast<unsigned>(std::countl_zero(v));  // >= 10
    const unsigned sub = static_cast<unsigned>((v >> (e - 4)) & (kSub - 1));
    return kExact + (e - 10) * kSub + sub;
  }
  static model::Cycle bucket_floor(unsigned b) {
    if (b < kExact) return b;
    const unsigned e = (b - kExact) / kSub + 10;
    const unsigned sub = (b - kExact) % kSub;
    return (model::Cycle{1} << e) | (model::Cycle{sub} << (e - 4));
  }

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  model::Cycle max_ = 0;
  model::Cycle min_ = ~model::Cycle{0};
};

}  // namespace vtdsim::workload
