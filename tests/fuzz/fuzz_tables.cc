// Fuzz target: fuzzer-written root, context and second-stage tables (spec §9.1, §9.3, §9.8)
// walked by translate() in every legacy translation mode (TE=0, TT=00 untranslated-only,
// TT=01 device-TLB, TT=10 pass-through; untranslated, translation-request and translated
// requests, reads and writes, with and without PASID).
// Invariants: a translation faults with a defined reason and leaves exactly one well-formed
// fault record (or none when suppressed), or returns an address below 2^HAW with the R/W that
// an independent walk of the same tables ANDs down the levels; translate() never writes memory
// (legacy mode has no A/D bits) and never allocates frames.
// Not covered yet: scalable-mode tables (the unit does not translate with TTM=01 so far).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "iommu/legacy_formats.h"
#include "iommu/registers.h"
#include "iommu/remapping_unit.h"
#include "model/physical_memory.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/unit_checks.h"

namespace {

using namespace vtdsim;
using fuzz::FuzzInput;

constexpr std::uint64_t kRoot = 0x100000;  // pool frame 0 holds the root table
constexpr unsigned kFrames = 16;
constexpr unsigned kMaxWrites = 96;
constexpr unsigned kMaxRequests = 48;

std::uint64_t frame_addr(unsigned i) {
  return kRoot + std::uint64_t{i % kFrames} * model::kPageSize;
}

class NullSink final : public model::InterruptSink {
 public:
  void deliver(const model::ApicMessage&) override {}
};

model::SourceId sid_from(FuzzInput& in) {
  const unsigned bus = in.u8() & 1u;
  const unsigned dev = in.u8() & 0x1Fu;
  return model::SourceId::make(bus, dev, in.u8() & 7u);
}

// A consistent chain root → context → second-stage levels for (sid, iova), with fuzzer-chosen
// frames (which may collide), permissions, TT, AW, DID and leaf level.
struct Chain {
  model::SourceId sid{};
  std::uint64_t iova = 0;
};

Chain write_chain(FuzzInput& in, model::PhysicalMemory& m) {
  Chain c;
  c.sid = sid_from(in);
  c.iova = (std::uint64_t{in.u32()} << 12) & ((std::uint64_t{1} << 48) - 1);
  const std::uint8_t f = in.u8();
  const unsigned aw = 1 + (f % 3);  // 3, 4 or 5 levels
  const unsigned tt = (f >> 2) % 3;
  const std::uint16_t did = in.u8() & 3u;
  const std::uint64_t ctx_table = frame_addr(1 + in.u8() % (kFrames - 1));
  std::uint64_t table = frame_addr(1 + in.u8() % (kFrames - 1));
  (void)m.write(kRoot + c.sid.bus() * 16, model::U128{ctx_table | 1u, 0});
  const std::uint64_t fpd = (f & 0x20u) != 0 ? 2 : 0;
  (void)m.write(
      ctx_table + c.sid.devfn() * 16,
      model::U128{table | (std::uint64_t{tt} << 2) | fpd | 1u, aw | (std::uint64_t{did} << 8)});
  const unsigned levels = aw + 2;
  const unsigned leaf = 1 + (in.u8() % 3);
  for (unsigned level = levels; level >= 1; --level) {
    const std::uint64_t perm = (in.u8() % 4 == 0) ? in.u8() & 3u : 3u;
    const std::uint64_t slot = table + iommu::level_index(c.iova, level) * 8;
    if (level == leaf || level == 1) {
      const std::uint64_t out = (std::uint64_t{in.u32()} << 12) &
                                ~(iommu::level_page_size(level) - 1) &
                                ((std::uint64_t{1} << 46) - 1);
      (void)m.write(slot, out | perm | (level > 1 ? 0x80u : 0u));
      break;
    }
    const std::uint64_t next = frame_addr(1 + in.u8() % (kFrames - 1));
    (void)m.write(slot, next | perm);
    table = next;
  }
  return c;
}

// A raw qword anywhere in the pool; pointer-like values usually point into the pool.
void write_raw(FuzzInput& in, model::PhysicalMemory& m) {
  const std::uint64_t frame = frame_addr(in.u8());
  const std::uint64_t pa = frame + (in.u16() & 0xFF8u);
  const std::uint8_t s = in.u8();
  std::uint64_t v = 0;
  switch (s % 4) {
    case 0:
      v = in.u64();
      break;
    case 1:
      v = frame_addr(in.u8());
      v |= in.u16() & 0xFFFu;
      break;
    case 2:
      v = in.u16();
      break;
    default:
      v = frame_addr(in.u8()) | 3u | ((s & 0x80u) != 0 ? 0x80u : 0u);
      v |= (std::uint64_t{in.u8()} << 52) & ((s & 0x40u) != 0 ? ~0ull : 0ull);
      break;
  }
  (void)m.write(pa, v);
}

// What the context entry of a source-id says, read independently of the unit.
struct RefContext {
  bool present = false;  // root and context P set
  unsigned tt = 0;
  unsigned aw = 0;
  std::uint16_t did = 0;
  std::uint64_t slptptr = 0;
};

RefContext ref_context(const model::PhysicalMemory& m, model::SourceId sid) {
  RefContext r;
  std::uint64_t root_lo = 0;
  if (!m.read_into(kRoot + sid.bus() * 16, root_lo) || (root_lo & 1u) == 0) return r;
  model::U128 ce;
  if (!m.read_into((root_lo & ~0xFFFull & ((1ull << 52) - 1)) + sid.devfn() * 16, ce)) return r;
  if ((ce.lo & 1u) == 0) return r;
  r.present = true;
  r.tt = static_cast<unsigned>((ce.lo >> 2) & 3u);
  r.aw = static_cast<unsigned>(ce.hi & 7u);
  r.did = static_cast<std::uint16_t>((ce.hi >> 8) & 0xFFFFu);
  r.slptptr = ce.lo & ~0xFFFull;
  return r;
}

// The simple walk: R/W ANDed down the levels until a leaf (level 1 or PS), a not-present
// entry or an unreadable one. Reserved bits are not checked (a unit that reports success has
// found none).
struct RefWalk {
  bool leaf = false;
  std::uint8_t perms = 3;
  std::uint64_t page_base = 0;
  std::uint64_t page_size = 0;
};

RefWalk ref_walk(const model::PhysicalMemory& m, const RefContext& c, std::uint64_t iova) {
  RefWalk w;
  std::uint64_t table = c.slptptr;
  for (unsigned level = c.aw + 2; level >= 1; --level) {
    std::uint64_t e = 0;
    if (!m.read_into(table + iommu::level_index(iova, level) * 8, e)) return w;
    const auto p = static_cast<std::uint8_t>(e & 3u);
    w.perms &= p;
    if (p == 0) return w;
    const std::uint64_t addr = e & 0x000FFFFFFFFFF000ull;
    if (level == 1 || (e & 0x80u) != 0) {
      w.leaf = true;
      w.page_size = iommu::level_page_size(level);
      w.page_base = addr;
      return w;
    }
    table = addr;
  }
  return w;
}

struct Snapshot {
  std::vector<std::uint8_t> bytes;
  std::uint64_t resident = 0;
};

Snapshot snapshot(const model::PhysicalMemory& m) {
  Snapshot s;
  s.bytes.resize(kFrames * model::kPageSize);
  for (unsigned i = 0; i < kFrames; ++i) {
    const std::uint8_t* f = m.find_frame(frame_addr(i));
    if (f != nullptr) std::memcpy(&s.bytes[i * model::kPageSize], f, model::kPageSize);
  }
  s.resident = m.frames_resident();
  return s;
}

model::DmaRequest request_from(FuzzInput& in, const std::vector<Chain>& chains) {
  model::DmaRequest r;
  const std::uint8_t f = in.u8();
  if (!chains.empty() && (f & 3u) != 0) {
    const Chain& c = chains[in.u8() % chains.size()];
    r.source_id = c.sid;
    r.address = c.iova | (in.u16() & 0xFFFu);
    if ((f & 3u) == 3) r.address ^= std::uint64_t{1} << (12 + in.u8() % 40);
  } else {
    r.source_id = sid_from(in);
    r.address = (f & 4u) != 0 ? in.u64() : std::uint64_t{in.u32()} << 12;
  }
  r.access = (f & 8u) != 0 ? model::AccessType::kWrite : model::AccessType::kRead;
  const unsigned at = (f >> 4) & 3u;
  r.address_type = static_cast<model::AddressType>(at == 3 ? 0 : at);
  r.has_pasid = (f & 0xC0u) == 0xC0u;
  if (r.has_pasid) r.pasid = in.u32() & 0xFFFFFu;
  r.arrival = in.u16();
  return r;
}

void check_against_reference(const iommu::RemappingUnit& u, const model::PhysicalMemory& m,
                             const model::DmaRequest& r, const model::Translation& t,
                             bool did_consistent) {
  if (!u.root_state().translation_enabled) {
    FUZZ_CHECK(t.ok() || t.status == model::TranslationStatus::kInterruptWindow,
               "TE=0 and fault 0x%02x", t.fault_reason);
    if (t.ok()) FUZZ_CHECK(t.hpa == r.address, "TE=0 changed the address");
    return;
  }
  if (!t.ok()) {
    if (!did_consistent) return;
    const auto reason = static_cast<iommu::FaultReason>(t.fault_reason);
    if (reason != iommu::FaultReason::kReadDenied && reason != iommu::FaultReason::kWriteDenied) {
      return;
    }
    const RefContext c = ref_context(m, r.source_id);
    FUZZ_CHECK(c.present, "permission fault 0x%02x without a present context", t.fault_reason);
    const RefWalk w = ref_walk(m, c, r.address);
    const std::uint8_t need = r.access == model::AccessType::kWrite ? 2 : 1;
    FUZZ_NOTE("permission fault matches the reference walk");
    FUZZ_CHECK((w.perms & need) == 0, "permission fault 0x%02x but the walk grants %u",
               t.fault_reason, w.perms);
    return;
  }
  const RefContext c = ref_context(m, r.source_id);
  FUZZ_CHECK(c.present, "translation of sid 0x%04x succeeded without present root/context",
             r.source_id.raw);
  const bool passes = c.tt == 2 || r.address_type == model::AddressType::kTranslated;
  if (passes) {
    FUZZ_CHECK(c.tt != 0 || r.address_type == model::AddressType::kUntranslated,
               "TT=00 let a request with AT=%d through", static_cast<int>(r.address_type));
    FUZZ_CHECK(t.hpa == r.address, "pass-through changed the address");
    return;
  }
  FUZZ_CHECK(r.address_type == model::AddressType::kUntranslated || c.tt == 1,
             "TT=%u translated AT=%d", c.tt, static_cast<int>(r.address_type));
  const std::uint64_t haw_limit = std::uint64_t{1} << u.config().host_address_width;
  FUZZ_CHECK(t.hpa < haw_limit, "hpa 0x%llx beyond the host address width",
             static_cast<unsigned long long>(t.hpa));
  if (!did_consistent) return;
  const RefWalk w = ref_walk(m, c, r.address);
  if (r.address_type == model::AddressType::kTranslationRequest && !w.leaf) {
    FUZZ_CHECK(!t.permissions.read && !t.permissions.write,
               "translation request without a leaf granted permissions");
    return;
  }
  FUZZ_CHECK(w.leaf, "success but the walk of sid 0x%04x iova 0x%llx finds no leaf",
             r.source_id.raw, static_cast<unsigned long long>(r.address));
  const std::uint8_t got =
      static_cast<std::uint8_t>((t.permissions.read ? 1u : 0u) | (t.permissions.write ? 2u : 0u));
  FUZZ_CHECK(got == w.perms, "permissions %u, walk ANDs to %u", got, w.perms);
  if (r.address_type == model::AddressType::kUntranslated) {
    const std::uint8_t need = r.access == model::AccessType::kWrite ? 2 : 1;
    FUZZ_CHECK((got & need) != 0, "access granted without the permission");
  }
  FUZZ_CHECK(t.page_size == w.page_size, "page size 0x%llx, walk 0x%llx",
             static_cast<unsigned long long>(t.page_size),
             static_cast<unsigned long long>(w.page_size));
  // A translation completion granting nothing carries no meaningful address (§4.2.3).
  if (got == 0) return;
  const std::uint64_t expect = w.page_base | (r.address & (w.page_size - 1));
  FUZZ_NOTE("translation matches the reference walk");
  FUZZ_CHECK(t.hpa == expect, "hpa 0x%llx, walk gives 0x%llx (AT=%d)",
             static_cast<unsigned long long>(t.hpa), static_cast<unsigned long long>(expect),
             static_cast<int>(r.address_type));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  const iommu::UnitConfig config = fuzz::config_from(in);
  model::PhysicalMemory memory(config.host_address_width);
  NullSink sink;
  iommu::RemappingUnit unit(memory, config, &sink, &sink);

  // --- tables ---
  std::vector<Chain> chains;
  const unsigned writes = in.u8() % kMaxWrites;
  for (unsigned i = 0; i < writes && !in.empty(); ++i) {
    if (in.u8() % 3 == 0) {
      chains.push_back(write_chain(in, memory));
    } else {
      write_raw(in, memory);
    }
  }
  // --- programming: RTADDR (legacy TTM), SRTP, TE unless the input says otherwise ---
  const std::uint8_t mode = in.u8();
  unit.mmio_write(iommu::reg_offset::kRtaddr, 8, kRoot);
  fuzz::gcmd(unit, fuzz::kSRTP);
  if ((mode & 7u) != 0) fuzz::gcmd(unit, fuzz::kTE);
  FUZZ_CHECK(unit.root_state().root_table_pointer_set, "SRTP did not latch");

  // DID consistency: caches are tagged by DID, so two contexts with one DID but different
  // tables may legitimately see each other's entries; the reference comparison needs one
  // table per DID.
  std::array<std::uint64_t, 4> did_root{};
  bool did_consistent = true;
  for (const Chain& c : chains) {
    const RefContext rc = ref_context(memory, c.sid);
    if (!rc.present || rc.tt == 2) continue;
    const std::uint64_t key = rc.slptptr | rc.aw;
    std::uint64_t& slot = did_root[rc.did & 3u];
    if (rc.did > 3 || (slot != 0 && slot != key)) did_consistent = false;
    slot = key;
  }

  const Snapshot before = snapshot(memory);
  for (unsigned i = 0; i < kMaxRequests && !in.empty(); ++i) {
    const model::DmaRequest r = request_from(in, chains);
    if (did_consistent && !chains.empty()) {
      // A request from a context outside the chains could alias a DID: check it too.
      const RefContext rc = ref_context(memory, r.source_id);
      if (rc.present && rc.tt != 2) {
        const std::uint64_t key = rc.slptptr | rc.aw;
        std::uint64_t& slot = did_root[rc.did & 3u];
        if (rc.did > 3 || (slot != 0 && slot != key)) did_consistent = false;
        slot = key;
      }
    }
    const model::Translation t = unit.translate(r);
    fuzz::check_translation_shape(r, t);
    check_against_reference(unit, memory, r, t, did_consistent);
    fuzz::check_and_clear_fault_log(unit, r, t);
  }
  const Snapshot after = snapshot(memory);
  FUZZ_CHECK(after.resident == before.resident, "translate() allocated frames (%llu -> %llu)",
             static_cast<unsigned long long>(before.resident),
             static_cast<unsigned long long>(after.resident));
  FUZZ_CHECK(after.bytes == before.bytes, "translate() wrote table memory in legacy mode");
  return 0;
}
