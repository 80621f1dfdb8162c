#include "iommu/pasid_iotlb.h"

#include "iommu/legacy_formats.h"

namespace vtdsim::iommu {

namespace {

// True when the page of `shift` bits at key k overlaps [base, last].
bool overlaps(const PasidKey& k, unsigned shift, std::uint64_t base, std::uint64_t last) {
  const std::uint64_t first = k.page() << shift;
  const std::uint64_t end = first + ((std::uint64_t{1} << shift) - 1);
  return first <= last && end >= base;
}

}  // namespace

// MODEL: one IOTLB geometry for every page-size array, as in Iotlb; the 2 MiB / 1 GiB arrays
// exist when either stage can produce such pages.
PasidIotlb::PasidIotlb(const UnitConfig& config) {
  arrays_[0] = std::make_unique<Array>(config.iotlb);
  arrays_[1] = std::make_unique<Array>(config.iotlb);  // first stage always has 2 MiB pages
  if (config.sl_1g_pages || config.fs_1g_pages) arrays_[2] = std::make_unique<Array>(config.iotlb);
}

PasidIotlbEntry* PasidIotlb::lookup_arrays(const PasidKey& k4, std::uint16_t did,
                                           std::uint32_t pasid, std::uint64_t iova,
                                           unsigned& size_class) {
  memo_ = nullptr;
  if ((filled_ & 1u) != 0) {
    std::uint64_t& hint = hints_[k4.index_hash() & (kHints - 1)];
    if (PasidIotlbEntry* e = arrays_[0]->lookup_hinted(k4, hint)) {
      size_class = 0;
      memo_ = e;
      memo_key_ = k4;
      memo_class_ = 0;
      return e;
    }
  }
  for (unsigned c = 1; c < kSizes; ++c) {
    if ((filled_ & (1u << c)) == 0) continue;
    if (PasidIotlbEntry* e = arrays_[c]->lookup(pasid_key(did, pasid, iova, shift_of(c)))) {
      size_class = c;
      memo_ = e;
      memo_key_ = k4;
      memo_class_ = c;
      return e;
    }
  }
  return nullptr;
}

void PasidIotlb::insert(std::uint16_t did, std::uint32_t pasid, std::uint64_t iova,
                        unsigned size_class, const PasidIotlbEntry& e) {
  if (size_class >= kSizes || arrays_[size_class] == nullptr) return;
  memo_ = nullptr;
  arrays_[size_class]->insert(pasid_key(did, pasid, iova, shift_of(size_class)), e);
  filled_ |= 1u << size_class;
}

template <class Pred>
std::size_t PasidIotlb::invalidate(Pred&& pred) {
  memo_ = nullptr;
  std::size_t n = 0;
  for (unsigned c = 0; c < kSizes; ++c) {
    if ((filled_ & (1u << c)) == 0) continue;
    const unsigned shift = shift_of(c);
    n += arrays_[c]->invalidate_if(
        [&](const PasidKey& k, const PasidIotlbEntry& e) { return pred(k, e, shift); });
    if (arrays_[c]->size() == 0) filled_ &= ~(1u << c);
  }
  return n;
}

std::size_t PasidIotlb::invalidate_all() {
  return invalidate([](const PasidKey&, const PasidIotlbEntry&, unsigned) { return true; });
}

std::size_t PasidIotlb::invalidate_domain(std::uint16_t did) {
  return invalidate(
      [did](const PasidKey& k, const PasidIotlbEntry&, unsigned) { return k.did() == did; });
}

std::size_t PasidIotlb::invalidate_domain_range(std::uint16_t did, std::uint64_t base,
                                                std::uint64_t size) {
  const std::uint64_t last = base + (size - 1);
  return invalidate([=](const PasidKey& k, const PasidIotlbEntry& e, unsigned shift) {
    if (k.did() != did) return false;
    return e.kind != SmEntryKind::kSecondStage || overlaps(k, shift, base, last);
  });
}

std::size_t PasidIotlb::invalidate_pasid(std::uint16_t did, std::uint32_t pasid) {
  return invalidate([=](const PasidKey& k, const PasidIotlbEntry& e, unsigned) {
    return k.did() == did && k.pasid == pasid && e.kind != SmEntryKind::kSecondStage;
  });
}

std::size_t PasidIotlb::invalidate_pasid_range(std::uint16_t did, std::uint32_t pasid,
                                               std::uint64_t base, std::uint64_t size) {
  const std::uint64_t last = base + (size - 1);
  return invalidate([=](const PasidKey& k, const PasidIotlbEntry& e, unsigned shift) {
    return k.did() == did && k.pasid == pasid && e.kind != SmEntryKind::kSecondStage &&
           overlaps(k, shift, base, last);
  });
}

std::size_t PasidIotlb::size() const {
  std::size_t n = 0;
  for (const auto& a : arrays_) {
    if (a != nullptr) n += a->size();
  }
  return n;
}

FsPwc::FsPwc(const UnitConfig& config) {
  for (unsigned i = 0; i < caches_.size(); ++i) {
    if (config.pwc[i].ways != 0) caches_[i] = std::make_unique<Cache>(config.pwc[i]);
  }
}

FsPwcEntry* FsPwc::lookup(unsigned level, std::uint16_t did, std::uint32_t pasid,
                          std::uint64_t va) {
  if ((filled_ & (1u << level)) == 0) return nullptr;
  return caches_[level - kMinLevel]->lookup(pasid_key(did, pasid, va, level_shift(level)));
}

void FsPwc::insert(unsigned level, std::uint16_t did, std::uint32_t pasid, std::uint64_t va,
                   const FsPwcEntry& e) {
  if (!built(level)) return;
  filled_ |= 1u << level;
  caches_[level - kMinLevel]->insert(pasid_key(did, pasid, va, level_shift(level)), e);
}

std::size_t FsPwc::invalidate_all() {
  std::size_t n = 0;
  for (auto& c : caches_) {
    if (c != nullptr) n += c->invalidate_all();
  }
  filled_ = 0;
  return n;
}

std::size_t FsPwc::invalidate_domain(std::uint16_t did) {
  std::size_t n = 0;
  for (auto& c : caches_) {
    if (c == nullptr) continue;
    n += c->invalidate_if([did](const PasidKey& k, const FsPwcEntry&) { return k.did() == did; });
  }
  return n;
}

std::size_t FsPwc::invalidate_pasid(std::uint16_t did, std::uint32_t pasid) {
  std::size_t n = 0;
  for (auto& c : caches_) {
    if (c == nullptr) continue;
    n += c->invalidate_if(
        [=](const PasidKey& k, const FsPwcEntry&) { return k.did() == did && k.pasid == pasid; });
  }
  return n;
}

std::size_t FsPwc::invalidate_pasid_range(std::uint16_t did, std::uint32_t pasid,
                                          std::uint64_t base, std::uint64_t size) {
  std::size_t n = 0;
  const std::uint64_t last = base + (size - 1);
  for (unsigned i = 0; i < caches_.size(); ++i) {
    if (caches_[i] == nullptr) continue;
    const unsigned shift = level_shift(i + kMinLevel);
    n += caches_[i]->invalidate_if([=](const PasidKey& k, const FsPwcEntry&) {
      return k.did() == did && k.pasid == pasid && overlaps(k, shift, base, last);
    });
  }
  return n;
}

std::size_t FsPwc::size(unsigned level) const {
  const auto& c = caches_[level - kMinLevel];
  return c == nullptr ? 0 : c->size();
}

}  // namespace vtdsim::iommu
