// Fuzz target: fuzzer-written scalable-mode structures (RTADDR.TTM = 01; spec §9.2 root, §9.4
// context, §9.5 PASID directory, §9.6 PASID entry, §9.7 first-stage and §9.8 second-stage
// entries) walked by translate() for every PGTT (first-stage, second-stage, nested,
// pass-through), requests with and without PASID (RID_PASID), reads and writes.
// Invariants: a defined fault with exactly one well-formed record (or none when suppressed), or
// an address below 2^HAW; for PGTT second-stage the R/W an independent walk ANDs down the
// levels, for first-stage user requests U/S set at every level and W only when every level has
// R/W; translate() changes memory only by setting A/D bits (first-stage bits 5/6, second-stage
// bits 8/9) and allocates no frame.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <span>
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

constexpr std::uint64_t kRoot = 0x100000;
constexpr unsigned kFrames = 24;
constexpr unsigned kMaxWrites = 64;
constexpr unsigned kMaxRequests = 48;
constexpr std::uint64_t kAddrMask = 0x000FFFFFFFFFF000ull;

std::uint64_t frame_addr(unsigned i) {
  return kRoot + std::uint64_t{i % kFrames} * model::kPageSize;
}
std::uint64_t other_frame(FuzzInput& in) {
  return frame_addr(1 + in.u8() % (kFrames - 1));
}

class NullSink final : public model::InterruptSink {
 public:
  void deliver(const model::ApicMessage&) override {}
};

iommu::UnitConfig sm_config(FuzzInput& in) {
  iommu::UnitConfig c = fuzz::config_from(in);
  const std::uint8_t f = in.u8();
  c.scalable_mode = true;
  c.pasid = true;
  c.ss_translation = (f & 1u) == 0;
  c.fs_translation = (f & 2u) == 0;
  c.ss_ad = (f & 4u) != 0;
  c.rid_pasid = (f & 8u) != 0;
  c.nested = (f & 16u) != 0 && c.ss_translation && c.fs_translation;
  c.fs_1g_pages = (f & 32u) != 0;
  c.fs_5level = (f & 64u) != 0;
  c.supervisor_requests = (f & 128u) != 0;
  if (!c.validate()) {
    c = iommu::UnitConfig{};
    c.scalable_mode = c.pasid = c.ss_translation = c.fs_translation = true;
  }
  return c;
}

struct Chain {
  model::SourceId sid{};
  std::uint32_t pasid = 0;
  bool with_pasid = false;
  std::uint64_t iova = 0;
};

// Page tables for iova below `table`: `levels` levels, leaf at `leaf`; first-stage entries
// (P|R/W|U/S) or second-stage ones (R|W).
void write_tables(FuzzInput& in, model::PhysicalMemory& m, std::uint64_t table, std::uint64_t iova,
                  unsigned levels, bool first_stage) {
  const unsigned leaf = 1 + in.u8() % 3;
  for (unsigned level = levels; level >= 1; --level) {
    const std::uint8_t p = in.u8();
    std::uint64_t flags = first_stage ? (0x7u & ((p % 4 == 0) ? p >> 2 | 1u : 7u)) : 3u;
    if (!first_stage && p % 4 == 0) flags = (p >> 2) & 3u;
    const std::uint64_t slot = table + iommu::level_index(iova, level) * 8;
    if (level == leaf || level == 1) {
      const std::uint64_t out = (std::uint64_t{in.u32()} << 12) &
                                ~(iommu::level_page_size(level) - 1) & 0x3FFFFFFFFFFFull;
      (void)m.write(slot, out | flags | (level > 1 ? 0x80u : 0u));
      return;
    }
    const std::uint64_t next = other_frame(in);
    (void)m.write(slot, next | flags);
    table = next;
  }
}

Chain write_chain(FuzzInput& in, model::PhysicalMemory& m, const iommu::UnitConfig& c) {
  Chain ch;
  const unsigned bus = in.u8() & 1u;
  const unsigned devfn = in.u8();
  ch.sid = model::SourceId{static_cast<std::uint16_t>((bus << 8) | devfn)};
  const std::uint8_t f = in.u8();
  ch.with_pasid = (f & 1u) != 0;
  const std::uint32_t rid_pasid = c.rid_pasid ? in.u8() : 0;
  ch.pasid = ch.with_pasid ? in.u8() : rid_pasid;
  ch.iova = (std::uint64_t{in.u32()} << 12) & ((std::uint64_t{1} << 47) - 1);
  // Root: lower or upper context table by devfn.
  const std::uint64_t ctx_table = other_frame(in);
  const std::uint64_t root_slot = kRoot + bus * 16 + (devfn >= 0x80 ? 8 : 0);
  (void)m.write(root_slot, ctx_table | 1u);
  // Context (256-bit): P, PASIDE, PDTS = 0 (128 directory entries), directory, RID_PASID.
  const std::uint64_t dir = other_frame(in);
  const std::uint64_t ctx_lo = dir | 1u | (ch.with_pasid || (f & 2u) != 0 ? 8u : 0u);
  (void)m.write(ctx_table + (devfn & 0x7Fu) * 32, model::U128{ctx_lo, rid_pasid});
  // Directory entry → PASID table; PASID entry (512-bit).
  const std::uint64_t ptable = other_frame(in);
  (void)m.write(dir + (ch.pasid >> 6) * 8, ptable | 1u);
  static constexpr std::array<std::uint64_t, 4> kPgtt = {1, 2, 3, 4};
  const std::uint64_t pgtt = kPgtt[(f >> 2) & 3u];
  unsigned aw = 2;
  for (unsigned a = 1; a <= 3; ++a) {
    if (((c.sagaw >> a) & 1u) != 0) {
      aw = a;
      if ((f & 0x10u) != 0) break;
    }
  }
  const std::uint64_t ss = other_frame(in);
  const std::uint64_t fs = other_frame(in);
  const std::uint64_t ssade = (c.ss_ad && (f & 0x20u) != 0) ? 1u << 9 : 0;
  const std::uint64_t did = in.u8() & 3u;
  const std::uint64_t fspm = c.fs_5level && (f & 0x40u) != 0 ? 1 : 0;
  std::array<std::uint64_t, 8> pe{};
  pe[0] = ss | ssade | (pgtt << 6) | (std::uint64_t{aw} << 2) | 1u;
  pe[1] = did | (std::uint64_t{1} << 23);  // PWSNP: A/D updates need snooped walks
  pe[2] = fs | (fspm << 2);
  (void)m.write_bytes(ptable + (ch.pasid & 63u) * 64, std::as_bytes(std::span(pe)));
  if (pgtt == 2 || pgtt == 3) write_tables(in, m, ss, ch.iova, aw + 2, false);
  if (pgtt == 1 || pgtt == 3) write_tables(in, m, fs, ch.iova, fspm != 0 ? 5 : 4, true);
  return ch;
}

void write_raw(FuzzInput& in, model::PhysicalMemory& m) {
  const std::uint64_t frame = frame_addr(in.u8());
  const std::uint64_t pa = frame + (in.u16() & 0xFF8u);
  const std::uint8_t s = in.u8();
  std::uint64_t v = 0;
  if (s % 3 == 0) {
    v = in.u64();
  } else if (s % 3 == 1) {
    v = frame_addr(in.u8());
    v |= in.u16() & 0xFFFu;
  } else {
    v = in.u16();
  }
  (void)m.write(pa, v);
}

// The PASID entry a request resolves to, read independently of the unit (nullopt-like: ok
// false when any level is absent).
struct RefPasid {
  bool ok = false;
  std::array<std::uint64_t, 8> e{};
};

RefPasid ref_pasid(const model::PhysicalMemory& m, const model::DmaRequest& r) {
  RefPasid out;
  const unsigned devfn = r.source_id.devfn();
  std::uint64_t root = 0;
  if (!m.read_into(kRoot + r.source_id.bus() * 16 + (devfn >= 0x80 ? 8 : 0), root)) return out;
  if ((root & 1u) == 0) return out;
  model::U128 ctx;
  if (!m.read_into((root & kAddrMask) + (devfn & 0x7Fu) * 32, ctx) || (ctx.lo & 1u) == 0) {
    return out;
  }
  const std::uint32_t pasid = r.has_pasid ? r.pasid : static_cast<std::uint32_t>(ctx.hi & 0xFFFFFu);
  std::uint64_t de = 0;
  if (!m.read_into((ctx.lo & kAddrMask) + (pasid >> 6) * 8, de) || (de & 1u) == 0) return out;
  if (!m.read_bytes((de & kAddrMask) + (pasid & 63u) * 64,
                    std::as_writable_bytes(std::span(out.e)))) {
    return out;
  }
  out.ok = (out.e[0] & 1u) != 0;
  return out;
}

struct RefWalk {
  bool leaf = false;
  bool user = true;     // first stage: U/S set at every level
  std::uint8_t rw = 3;  // second stage: R/W ANDed (first stage: see fs_all_rw)
  std::uint64_t page_base = 0;
  std::uint64_t page_size = 0;
};

RefWalk ref_walk(const model::PhysicalMemory& m, std::uint64_t table, unsigned levels,
                 std::uint64_t iova, bool first_stage) {
  RefWalk w;
  for (unsigned level = levels; level >= 1; --level) {
    std::uint64_t e = 0;
    if (!m.read_into((table & kAddrMask) + iommu::level_index(iova, level) * 8, e)) return w;
    if (first_stage) {
      if ((e & 1u) == 0) return w;
      if ((e & 4u) == 0) w.user = false;
    } else {
      w.rw &= static_cast<std::uint8_t>(e & 3u);
      if ((e & 3u) == 0) return w;
    }
    if (level == 1 || (e & 0x80u) != 0) {
      w.leaf = true;
      w.page_size = iommu::level_page_size(level);
      w.page_base = e & kAddrMask & ~(w.page_size - 1);
      return w;
    }
    table = e & kAddrMask;
  }
  return w;
}

// First stage: W granted only when every level has R/W = 1.
bool fs_all_rw(const model::PhysicalMemory& m, std::uint64_t table, unsigned levels,
               std::uint64_t iova) {
  for (unsigned level = levels; level >= 1; --level) {
    std::uint64_t e = 0;
    if (!m.read_into((table & kAddrMask) + iommu::level_index(iova, level) * 8, e)) return false;
    if ((e & 2u) == 0) return false;
    if (level == 1 || (e & 0x80u) != 0) return true;
    table = e & kAddrMask;
  }
  return false;
}

model::DmaRequest request_from(FuzzInput& in, const std::vector<Chain>& chains) {
  model::DmaRequest r;
  const std::uint8_t f = in.u8();
  if (!chains.empty() && (f & 3u) != 0) {
    const Chain& c = chains[in.u8() % chains.size()];
    r.source_id = c.sid;
    r.has_pasid = c.with_pasid;
    r.pasid = c.pasid;
    r.address = c.iova | (in.u16() & 0xFFFu);
  } else {
    r.source_id = model::SourceId{in.u16()};
    r.has_pasid = (f & 4u) != 0;
    if (r.has_pasid) r.pasid = in.u32() & 0xFFFFFu;
    r.address = std::uint64_t{in.u32()} << 12;
  }
  r.access = (f & 8u) != 0 ? model::AccessType::kWrite : model::AccessType::kRead;
  const unsigned at = (f >> 4) & 3u;
  r.address_type = static_cast<model::AddressType>(at == 3 ? 0 : at);
  r.privileged = r.has_pasid && (f & 0x40u) != 0;
  r.execute = r.has_pasid && (f & 0x80u) != 0 && (f & 3u) == 0;
  r.arrival = in.u16();
  return r;
}

std::vector<std::uint64_t> snapshot(const model::PhysicalMemory& m) {
  std::vector<std::uint64_t> s(kFrames * model::kPageSize / 8);
  (void)m.read_bytes(kRoot, std::as_writable_bytes(std::span(s)));
  return s;
}

void check_reference(const iommu::RemappingUnit& u, const model::PhysicalMemory& m,
                     const model::DmaRequest& r, const model::Translation& t) {
  if (!t.ok() || r.address_type != model::AddressType::kUntranslated) return;
  const RefPasid p = ref_pasid(m, r);
  FUZZ_CHECK(p.ok, "scalable translation succeeded without a present root/context/PASID chain");
  const unsigned pgtt = static_cast<unsigned>((p.e[0] >> 6) & 7u);
  if (pgtt == 4) {
    FUZZ_CHECK(t.hpa == r.address, "PGTT pass-through changed the address");
    return;
  }
  FUZZ_CHECK(t.hpa < (std::uint64_t{1} << u.config().host_address_width),
             "hpa 0x%llx beyond the host address width", static_cast<unsigned long long>(t.hpa));
  const bool write = r.access == model::AccessType::kWrite;
  if (pgtt == 2) {
    const unsigned aw = static_cast<unsigned>((p.e[0] >> 2) & 7u);
    const RefWalk w = ref_walk(m, p.e[0], aw + 2, r.address, false);
    FUZZ_NOTE("second-stage translation matches the reference walk");
    FUZZ_CHECK(w.leaf, "second-stage success without a leaf");
    const std::uint8_t got =
        static_cast<std::uint8_t>((t.permissions.read ? 1u : 0u) | (t.permissions.write ? 2u : 0u));
    // With SSADE a clean leaf is reported without W until a write sets D (the model re-walks
    // then): W reported only when granted, and always for a write that succeeded.
    const bool ssade = ((p.e[0] >> 9) & 1u) != 0;
    const std::uint8_t expect = ssade && !write && (got & 2u) == 0 ? (w.rw & 1u) : w.rw;
    FUZZ_CHECK(got == expect,
               "second-stage permissions %u, walk ANDs to %u (sid 0x%04x pasid %d/0x%x iova "
               "0x%llx %s, PASID entry 0x%016llx 0x%016llx, %u levels, leaf 0x%llx size 0x%llx)",
               got, expect, r.source_id.raw, r.has_pasid ? 1 : 0, r.pasid,
               static_cast<unsigned long long>(r.address), write ? "write" : "read",
               static_cast<unsigned long long>(p.e[0]), static_cast<unsigned long long>(p.e[1]),
               aw + 2, static_cast<unsigned long long>(w.page_base),
               static_cast<unsigned long long>(w.page_size));
    FUZZ_CHECK(t.hpa == (w.page_base | (r.address & (w.page_size - 1))),
               "second-stage hpa 0x%llx, walk 0x%llx", static_cast<unsigned long long>(t.hpa),
               static_cast<unsigned long long>(w.page_base | (r.address & (w.page_size - 1))));
  } else if (pgtt == 1) {
    const unsigned levels = ((p.e[2] >> 2) & 3u) == 1 ? 5 : 4;
    const RefWalk w = ref_walk(m, p.e[2], levels, r.address, true);
    FUZZ_NOTE("first-stage translation matches the reference walk");
    FUZZ_CHECK(w.leaf, "first-stage success without a leaf");
    if (!r.privileged) FUZZ_CHECK(w.user, "user request granted without U/S at every level");
    if (write && !r.privileged) {
      FUZZ_CHECK(fs_all_rw(m, p.e[2], levels, r.address), "write granted without R/W everywhere");
    }
    if (t.permissions.write && !r.privileged) {
      FUZZ_CHECK(fs_all_rw(m, p.e[2], levels, r.address), "W reported without R/W everywhere");
    }
    FUZZ_CHECK(t.hpa == (w.page_base | (r.address & (w.page_size - 1))),
               "first-stage hpa 0x%llx, walk 0x%llx", static_cast<unsigned long long>(t.hpa),
               static_cast<unsigned long long>(w.page_base | (r.address & (w.page_size - 1))));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  const iommu::UnitConfig config = sm_config(in);
  model::PhysicalMemory memory(config.host_address_width);
  NullSink sink;
  iommu::RemappingUnit unit(memory, config, &sink, &sink);

  std::vector<Chain> chains;
  const unsigned writes = in.u8() % kMaxWrites;
  for (unsigned i = 0; i < writes && !in.empty(); ++i) {
    if (in.u8() % 3 == 0) {
      chains.push_back(write_chain(in, memory, config));
    } else {
      write_raw(in, memory);
    }
  }
  unit.mmio_write(iommu::reg_offset::kRtaddr, 8, kRoot | (1u << 10));  // TTM = 01
  fuzz::gcmd(unit, fuzz::kSRTP);
  fuzz::gcmd(unit, fuzz::kTE);

  // Caches are tagged by DID (and PASID): compare with the reference only while every PASID
  // entry reached with one DID points at the same tables.
  std::map<std::uint16_t, std::array<std::uint64_t, 2>> by_did;
  bool consistent = true;
  const std::vector<std::uint64_t> before = snapshot(memory);
  const std::uint64_t resident = memory.frames_resident();
  for (unsigned i = 0; i < kMaxRequests && !in.empty(); ++i) {
    const model::DmaRequest r = request_from(in, chains);
    const RefPasid p = ref_pasid(memory, r);
    if (p.ok) {
      const auto did = static_cast<std::uint16_t>(p.e[1] & 0xFFFFu);
      const std::array<std::uint64_t, 2> key = {p.e[0] & ~std::uint64_t{3}, p.e[2]};
      auto [it, fresh] = by_did.emplace(did, key);
      if (!fresh && it->second != key) consistent = false;
    }
    const model::Translation t = unit.translate(r);
    fuzz::check_translation_shape(r, t);
    fuzz::check_and_clear_fault_log(unit, r, t);
    if (consistent) check_reference(unit, memory, r, t);
  }
  // Only A/D bits may have been set: first-stage A (5), D (6); second-stage A (8), D (9).
  const std::vector<std::uint64_t> after = snapshot(memory);
  constexpr std::uint64_t kAd = (1u << 5) | (1u << 6) | (1u << 8) | (1u << 9);
  for (std::size_t i = 0; i < before.size(); ++i) {
    const std::uint64_t diff = before[i] ^ after[i];
    FUZZ_CHECK((diff & ~kAd) == 0 && (diff & before[i]) == 0,
               "translate() changed qword 0x%llx: 0x%016llx -> 0x%016llx",
               static_cast<unsigned long long>(kRoot + 8 * i),
               static_cast<unsigned long long>(before[i]),
               static_cast<unsigned long long>(after[i]));
  }
  FUZZ_CHECK(memory.frames_resident() == resident, "translate() allocated frames");
  return 0;
}
