// Deterministic pseudo-random numbers for workload generators: SplitMix64 (seeding) and
// xoshiro256** (Blackman & Vigna), with integer-only range reduction so that the same seed
// gives the same stream on every platform and standard library (no std:: distributions).
// Zipf sampling uses a precomputed cumulative table (inverse transform, binary search).
#pragma once

#include <cstdint>
#include <vector>

namespace vtdsim::workload {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Prng {
 public:
  explicit Prng(std::uint64_t seed = 1) {
    std::uint64_t s = seed;
    for (auto& w : s_) w = splitmix64(s);
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) (n > 0), by Lemire's multiply-shift (bias below 2^-64 · n: negligible
  // for workload sizes, and identical everywhere).
  std::uint64_t below(std::uint64_t n) {
    __extension__ using U128 = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<U128>(next()) * n) >> 64);
  }
  // Uniform in [0, 1) with 53 bits.
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // True with probability p (p outside [0, 1] is clamped by the comparison).
  bool chance(double p) { return unit() < p; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

// Zipf over ranks 0..n-1 with exponent s: P(k) ∝ 1 / (k + 1)^s. The table costs 8 bytes a
// rank; sampling is one uniform draw and a binary search.
class ZipfTable {
 public:
  ZipfTable(std::uint64_t n, double s);
  std::uint64_t sample(Prng& rng) const;
  std::uint64_t size() const { return cdf_.size(); }

 private:
  std::vector<double> cdf_;
};

}  // namespace vtdsim::workload
