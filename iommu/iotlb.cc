#include "iommu/iotlb.h"

namespace vtdsim::iommu {

// MODEL: UnitConfig has one IOTLB geometry; each page-size array is built with it (the 2 MiB
// array only with CAP.SLLPS bit 0, the 1 GiB array only with bit 1).
Iotlb::Iotlb(const UnitConfig& config) {
  arrays_[0] = std::make_unique<Array>(config.iotlb);
  if (config.sl_2m_pages) arrays_[1] = std::make_unique<Array>(config.iotlb);
  if (config.sl_1g_pages) arrays_[2] = std::make_unique<Array>(config.iotlb);
}

IotlbEntry* Iotlb::lookup_superpages(std::uint16_t did, std::uint64_t iova, unsigned& size_class) {
  for (unsigned c = 1; c < kSizes; ++c) {
    if ((filled_ & (1u << c)) == 0) continue;
    const std::uint64_t k = key(did, iova, c);
    if (IotlbEntry* e = arrays_[c]->lookup(k)) {
      size_class = c;
      memo_ = e;
      memo_page_ = key(did, iova, 0);
      memo_class_ = c;
      return e;
    }
  }
  return nullptr;
}

const IotlbEntry* Iotlb::probe(std::uint16_t did, std::uint64_t iova, unsigned& size_class) const {
  for (unsigned c = 0; c < kSizes; ++c) {
    if ((filled_ & (1u << c)) == 0) continue;
    if (const IotlbEntry* e = arrays_[c]->probe(key(did, iova, c))) {
      size_class = c;
      return e;
    }
  }
  return nullptr;
}

void Iotlb::insert(std::uint16_t did, std::uint64_t iova, unsigned size_class,
                   const IotlbEntry& e) {
  if (size_class >= kSizes || arrays_[size_class] == nullptr) return;
  memo_ = nullptr;
  arrays_[size_class]->insert(key(did, iova, size_class), e);
  filled_ |= 1u << size_class;
}

void Iotlb::refresh_filled() {
  filled_ = 0;
  for (unsigned c = 0; c < kSizes; ++c) {
    if (arrays_[c] != nullptr && arrays_[c]->size() != 0) filled_ |= 1u << c;
  }
}

std::size_t Iotlb::invalidate_all() {
  memo_ = nullptr;
  std::size_t n = 0;
  // Only arrays that may hold entries; a predicate flush visits only the valid ones.
  for (unsigned c = 0; c < kSizes; ++c) {
    if ((filled_ & (1u << c)) == 0) continue;
    n += arrays_[c]->invalidate_if([](std::uint64_t, const IotlbEntry&) { return true; });
  }
  filled_ = 0;
  return n;
}

std::size_t Iotlb::invalidate_domain(std::uint16_t did) {
  memo_ = nullptr;
  std::size_t n = 0;
  for (auto& a : arrays_) {
    if (a == nullptr) continue;
    n +=
        a->invalidate_if([did](std::uint64_t k, const IotlbEntry&) { return (k & 0xFFFF) == did; });
  }
  refresh_filled();
  return n;
}

std::size_t Iotlb::invalidate_range(std::uint16_t did, std::uint64_t base, std::uint64_t size) {
  memo_ = nullptr;
  std::size_t n = 0;
  const std::uint64_t last = base + (size - 1);
  for (unsigned c = 0; c < kSizes; ++c) {
    if (arrays_[c] == nullptr) continue;
    const unsigned shift = shift_of(c);
    n += arrays_[c]->invalidate_if([=](std::uint64_t k, const IotlbEntry&) {
      if ((k & 0xFFFF) != did) return false;
      const std::uint64_t page = (k >> 16) << shift;
      const std::uint64_t page_last = page + ((std::uint64_t{1} << shift) - 1);
      return page <= last && page_last >= base;
    });
  }
  refresh_filled();
  return n;
}

std::size_t Iotlb::size() const {
  std::size_t n = 0;
  for (const auto& a : arrays_) {
    if (a != nullptr) n += a->size();
  }
  return n;
}

model::CacheStats Iotlb::cache_stats() const {
  model::CacheStats s;
  for (const auto& a : arrays_) {
    if (a == nullptr) continue;
    for (const auto& f : model::CacheStats::kFields) s.*(f.member) += a->stats().*(f.member);
  }
  return s;
}

}  // namespace vtdsim::iommu
