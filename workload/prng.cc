#include "workload/prng.h"

#include <algorithm>
#include <cmath>

namespace vtdsim::workload {

ZipfTable::ZipfTable(std::uint64_t n, double s) : cdf_(n) {
  double sum = 0;
  for (std::uint64_t k = 0; k < n; ++k) {
    sum += 1.0 / std::pow(static_cast<double>(k + 1), s);
    cdf_[k] = sum;
  }
  for (auto& c : cdf_) c /= sum;
  if (!cdf_.empty()) cdf_.back() = 1.0;
}

std::uint64_t ZipfTable::sample(Prng& rng) const {
  const double u = rng.unit();
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  const auto k = static_cast<std::uint64_t>(it - cdf_.begin());
  return k < cdf_.size() ? k : cdf_.size() - 1;
}

}  // namespace vtdsim::workload
