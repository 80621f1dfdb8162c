#include "workload/unit_config_toml.h"

#include <fmt/format.h>

namespace vtdsim::workload {

#define VTDSIM_TRY_ASSIGN(lhs, expr)                              \
  do {                                                            \
    auto vtdsim_tmp_ = (expr);                                    \
    if (!vtdsim_tmp_) return tl::unexpected(vtdsim_tmp_.error()); \
    lhs = *vtdsim_tmp_;                                           \
  } while (false)

Expected<model::CacheGeometry> read_cache_geometry(ConfigTable& t, model::CacheGeometry g,
                                                   bool allow_disabled) {
  VTDSIM_TRY_ASSIGN(g.sets, t.get_uint("sets", g.sets, 1, 1u << 20).map([](std::uint64_t v) {
    return static_cast<std::uint32_t>(v);
  }));
  VTDSIM_TRY_ASSIGN(
      g.ways, t.get_uint("ways", g.ways, allow_disabled ? 0 : 1, model::CacheGeometry::kMaxWays)
                  .map([](std::uint64_t v) { return static_cast<std::uint32_t>(v); }));
  std::string policy;
  VTDSIM_TRY_ASSIGN(policy, t.get_choice("policy", std::string(model::to_string(g.policy)),
                                         {"lru", "plru", "fifo", "random"}));
  VTDSIM_TRY_ASSIGN(g.policy, model::parse_replacement_policy(policy));
  VTDSIM_TRY_ASSIGN(g.seed, t.get_uint("seed", g.seed, 0, ~std::uint64_t{0} >> 1));
  if (auto ok = t.finish(); !ok) return tl::unexpected(ok.error());
  if (!(allow_disabled && g.ways == 0)) {
    if (auto ok = g.validate(); !ok) {
      return make_error(ErrorCode::kParse, fmt::format("{}: {}", t.where(), ok.error().message));
    }
  }
  return g;
}

Expected<model::TimingParams> read_timing(ConfigTable& t, model::TimingParams p) {
  constexpr std::uint64_t kMax = 1'000'000;
  VTDSIM_TRY_ASSIGN(p.iotlb_lookup, t.get_uint("iotlb_lookup", p.iotlb_lookup, 0, kMax));
  VTDSIM_TRY_ASSIGN(p.context_cache_lookup,
                    t.get_uint("context_cache_lookup", p.context_cache_lookup, 0, kMax));
  VTDSIM_TRY_ASSIGN(p.pasid_cache_lookup,
                    t.get_uint("pasid_cache_lookup", p.pasid_cache_lookup, 0, kMax));
  VTDSIM_TRY_ASSIGN(p.pwc_lookup, t.get_uint("pwc_lookup", p.pwc_lookup, 0, kMax));
  VTDSIM_TRY_ASSIGN(p.memory_read_llc, t.get_uint("memory_read_llc", p.memory_read_llc, 0, kMax));
  VTDSIM_TRY_ASSIGN(p.memory_read_dram,
                    t.get_uint("memory_read_dram", p.memory_read_dram, 0, kMax));
  VTDSIM_TRY_ASSIGN(p.walks_snooped, t.get_bool("walks_snooped", p.walks_snooped));
  VTDSIM_TRY_ASSIGN(p.memory_write, t.get_uint("memory_write", p.memory_write, 0, kMax));
  VTDSIM_TRY_ASSIGN(p.iec_lookup, t.get_uint("iec_lookup", p.iec_lookup, 0, kMax));
  VTDSIM_TRY_ASSIGN(p.irte_fetch, t.get_uint("irte_fetch", p.irte_fetch, 0, kMax));
  VTDSIM_TRY_ASSIGN(p.invalidation_descriptor,
                    t.get_uint("invalidation_descriptor", p.invalidation_descriptor, 0, kMax));
  VTDSIM_TRY_ASSIGN(p.fault_record, t.get_uint("fault_record", p.fault_record, 0, kMax));
  std::uint64_t walkers = 0;
  VTDSIM_TRY_ASSIGN(walkers, t.get_uint("page_walkers", p.page_walkers, 1, 256));
  p.page_walkers = static_cast<unsigned>(walkers);
  std::uint64_t outstanding = 0;
  VTDSIM_TRY_ASSIGN(outstanding,
                    t.get_uint("max_outstanding_misses", p.max_outstanding_misses, 1, 4096));
  p.max_outstanding_misses = static_cast<unsigned>(outstanding);
  if (auto ok = t.finish(); !ok) return tl::unexpected(ok.error());
  return p;
}

namespace {

Status read_flag(ConfigTable& t, const char* key, bool& field) {
  auto v = t.get_bool(key, field);
  if (!v) return tl::unexpected(v.error());
  field = *v;
  return {};
}

Status read_unsigned(ConfigTable& t, const char* key, unsigned& field, unsigned min, unsigned max) {
  auto v = t.get_uint(key, field, min, max);
  if (!v) return tl::unexpected(v.error());
  field = static_cast<unsigned>(*v);
  return {};
}

Status read_geometry(ConfigTable& t, const char* key, model::CacheGeometry& g,
                     bool allow_disabled) {
  auto sub = t.get_table(key);
  if (!sub) return tl::unexpected(sub.error());
  if (!sub->has_value()) return {};
  auto got = read_cache_geometry(**sub, g, allow_disabled);
  if (!got) return tl::unexpected(got.error());
  g = *got;
  return {};
}

}  // namespace

Expected<iommu::UnitConfig> read_unit_config(ConfigTable& t, iommu::UnitConfig c) {
  const struct {
    const char* key;
    bool iommu::UnitConfig::*field;
  } flags[] = {
      {"rwbf", &iommu::UnitConfig::rwbf},
      {"caching_mode", &iommu::UnitConfig::caching_mode},
      {"zlr", &iommu::UnitConfig::zlr},
      {"sl_2m_pages", &iommu::UnitConfig::sl_2m_pages},
      {"sl_1g_pages", &iommu::UnitConfig::sl_1g_pages},
      {"psi", &iommu::UnitConfig::psi},
      {"dwd", &iommu::UnitConfig::dwd},
      {"drd", &iommu::UnitConfig::drd},
      {"fs_1g_pages", &iommu::UnitConfig::fs_1g_pages},
      {"posted_interrupts", &iommu::UnitConfig::posted_interrupts},
      {"fs_5level", &iommu::UnitConfig::fs_5level},
      {"esrtps", &iommu::UnitConfig::esrtps},
      {"esirtps", &iommu::UnitConfig::esirtps},
      {"coherent", &iommu::UnitConfig::coherent},
      {"queued_invalidation", &iommu::UnitConfig::queued_invalidation},
      {"device_tlb", &iommu::UnitConfig::device_tlb},
      {"interrupt_remapping", &iommu::UnitConfig::interrupt_remapping},
      {"eim", &iommu::UnitConfig::eim},
      {"pass_through", &iommu::UnitConfig::pass_through},
      {"snoop_control", &iommu::UnitConfig::snoop_control},
      {"nested", &iommu::UnitConfig::nested},
      {"supervisor_requests", &iommu::UnitConfig::supervisor_requests},
      {"pasid", &iommu::UnitConfig::pasid},
      {"scalable_mode", &iommu::UnitConfig::scalable_mode},
      {"ss_translation", &iommu::UnitConfig::ss_translation},
      {"fs_translation", &iommu::UnitConfig::fs_translation},
      {"ss_ad", &iommu::UnitConfig::ss_ad},
      {"rid_pasid", &iommu::UnitConfig::rid_pasid},
  };
  for (const auto& f : flags) {
    if (auto ok = read_flag(t, f.key, c.*(f.field)); !ok) return tl::unexpected(ok.error());
  }
  const struct {
    const char* key;
    unsigned iommu::UnitConfig::*field;
    unsigned min;
    unsigned max;
  } numbers[] = {
      {"nd", &iommu::UnitConfig::nd, 0, 6},
      {"mgaw", &iommu::UnitConfig::mgaw, 30, 57},
      {"fro", &iommu::UnitConfig::fro, 1, 1023},
      {"nfr", &iommu::UnitConfig::nfr, 1, 256},
      {"mamv", &iommu::UnitConfig::mamv, 0, 63},
      {"iro", &iommu::UnitConfig::iro, 1, 1023},
      {"mhmv", &iommu::UnitConfig::mhmv, 0, 15},
      {"pss", &iommu::UnitConfig::pss, 0, 19},
      {"host_address_width", &iommu::UnitConfig::host_address_width, 32, 52},
  };
  for (const auto& n : numbers) {
    if (auto ok = read_unsigned(t, n.key, c.*(n.field), n.min, n.max); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  // Supported second-stage address widths, e.g. address_widths = [39, 48] (CAP.SAGAW).
  if (t.has("address_widths")) {
    auto widths = t.get_uint_array("address_widths", 30, 57);
    if (!widths) return tl::unexpected(widths.error());
    std::uint8_t sagaw = 0;
    for (auto w : *widths) {
      if (w != 39 && w != 48 && w != 57) {
        return make_error(ErrorCode::kParse,
                          fmt::format("{}: {} is not a second-stage width (39, 48 or 57)",
                                      t.where("address_widths"), w));
      }
      sagaw = static_cast<std::uint8_t>(sagaw | (1u << ((w - 30) / 9)));
    }
    if (sagaw == 0) {
      return make_error(ErrorCode::kParse,
                        fmt::format("{}: needs at least one width", t.where("address_widths")));
    }
    c.sagaw = sagaw;
  }
  if (auto ok = read_geometry(t, "iotlb", c.iotlb, false); !ok) return tl::unexpected(ok.error());
  if (auto ok = read_geometry(t, "context_cache", c.context_cache, false); !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok = read_geometry(t, "pasid_cache", c.pasid_cache, false); !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok = read_geometry(t, "iec", c.iec, false); !ok) return tl::unexpected(ok.error());
  const char* pwc_keys[] = {"pwc_l2", "pwc_l3", "pwc_l4", "pwc_l5"};
  for (std::size_t i = 0; i < 4; ++i) {
    if (auto ok = read_geometry(t, pwc_keys[i], c.pwc[i], true); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  auto timing = t.get_table("timing");
  if (!timing) return tl::unexpected(timing.error());
  if (timing->has_value()) {
    auto p = read_timing(**timing, c.timing);
    if (!p) return tl::unexpected(p.error());
    c.timing = *p;
  }
  if (auto ok = t.finish(); !ok) return tl::unexpected(ok.error());
  if (auto ok = c.validate(); !ok) {
    return make_error(ErrorCode::kParse, fmt::format("{}: {}", t.where(), ok.error().message));
  }
  return c;
}

#undef VTDSIM_TRY_ASSIGN

}  // namespace vtdsim::workload
