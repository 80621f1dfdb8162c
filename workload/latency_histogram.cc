#include "workload/latency_histogram.h"

#include <cmath>

namespace vtdsim::workload {

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (unsigned i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  if (other.max_ > max_) max_ = other.max_;
  if (other.min_ < min_) min_ = other.min_;
}

model::Cycle LatencyHistogram::percentile(double p) const {
  if (count_ == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count_)));
  if (rank < 1) rank = 1;
  if (rank > count_) rank = count_;
  std::uint64_t seen = 0;
  for (unsigned b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      const model::Cycle floor = bucket_floor(b);
      return floor < min_ ? min_ : floor;
    }
  }
  return max_;
}

}  // namespace vtdsim::workload
