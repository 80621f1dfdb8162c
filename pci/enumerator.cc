// Firmware-style enumeration through configuration requests only: depth-first bus numbering
// (PCI-to-PCI Bridge 1.2 §3.2.5.3-5: primary/secondary/subordinate), BAR sizing by writing
// all-ones (PCI 3.0 §6.2.5.1), natural-alignment placement, bridge memory windows (§3.2.5.8),
// command register enables, ACS controls (as the OS does).
// Not modelled: I/O BAR placement (I/O BARs stay unassigned), prefetchable windows, ROM BARs.
#include <string>

#include "pci/topology.h"

namespace vtdsim::pci {
namespace {

constexpr std::uint64_t kWindowAlign = std::uint64_t{1} << 20;  // bridge memory windows: 1 MiB

std::uint64_t align_up(std::uint64_t v, std::uint64_t a) {
  return (v + a - 1) & ~(a - 1);
}

class Enumerator {
 public:
  Enumerator(RootComplex& rc, const EnumerationOptions& options)
      : rc_(rc), options_(options), cursor_(options.mmio_base), next_bus_(rc.root_bus_number()) {}

  Expected<EnumerationResult> run() {
    result_.buses = 1;
    if (auto ok = scan_bus(rc_.root_bus_number()); !ok) return tl::unexpected(ok.error());
    result_.mmio_used = cursor_ - options_.mmio_base;
    rc_.refresh_source_ids();
    return result_;
  }

 private:
  std::uint32_t rd(unsigned bus, unsigned dev, unsigned fn, std::uint32_t off, unsigned size) {
    return rc_.config_read(model::SourceId::make(bus, dev, fn), off, size);
  }
  void wr(unsigned bus, unsigned dev, unsigned fn, std::uint32_t off, unsigned size,
          std::uint32_t v) {
    rc_.config_write(model::SourceId::make(bus, dev, fn), off, size, v);
  }

  Status scan_bus(unsigned bus) {
    for (unsigned dev = 0; dev < 32; ++dev) {
      if (rd(bus, dev, 0, cfg::kVendorId, 2) == 0xFFFF) continue;
      const bool mf = header_type::MF::get(rd(bus, dev, 0, cfg::kHeaderType, 1)) != 0;
      for (unsigned fn = 0; fn < (mf ? 8u : 1u); ++fn) {
        if (rd(bus, dev, fn, cfg::kVendorId, 2) == 0xFFFF) continue;
        if (auto ok = setup_function(bus, dev, fn); !ok) return ok;
      }
    }
    return {};
  }

  Status setup_function(unsigned bus, unsigned dev, unsigned fn) {
    ++result_.functions;
    const auto layout = header_type::LAYOUT::get(rd(bus, dev, fn, cfg::kHeaderType, 1));
    const bool bridge = layout == 1;
    bool has_memory = false;
    if (auto ok =
            assign_bars(bus, dev, fn, bridge ? cfg::kType1Bars : cfg::kType0Bars, &has_memory);
        !ok) {
      return ok;
    }
    std::uint32_t cmd = rd(bus, dev, fn, cfg::kCommand, 2);
    if (bridge) {
      ++result_.bridges;
      if (next_bus_ >= 255) {
        return make_error(ErrorCode::kExhausted, "enumeration ran out of bus numbers");
      }
      const unsigned secondary = ++next_bus_;
      ++result_.buses;
      // Open the bridge to every bus number above while the subtree is scanned.
      wr(bus, dev, fn, cfg::kPrimaryBus, 1, bus);
      wr(bus, dev, fn, cfg::kSecondaryBus, 1, secondary);
      wr(bus, dev, fn, cfg::kSubordinateBus, 1, 0xFF);
      cursor_ = align_up(cursor_, kWindowAlign);
      const std::uint64_t window_start = cursor_;
      if (auto ok = scan_bus(secondary); !ok) return ok;
      wr(bus, dev, fn, cfg::kSubordinateBus, 1, next_bus_);
      cursor_ = align_up(cursor_, kWindowAlign);
      if (cursor_ > window_start && cursor_ <= (std::uint64_t{1} << 32)) {
        // Memory base/limit hold address bits 31:20 in register bits 15:4.
        wr(bus, dev, fn, cfg::kMemoryBase, 2,
           static_cast<std::uint32_t>(window_start >> 16) & 0xFFF0u);
        wr(bus, dev, fn, cfg::kMemoryLimit, 2,
           static_cast<std::uint32_t>((cursor_ - 1) >> 16) & 0xFFF0u);
      } else {
        wr(bus, dev, fn, cfg::kMemoryBase, 2, 0xFFF0u);  // base above limit: window closed
        wr(bus, dev, fn, cfg::kMemoryLimit, 2, 0x0000u);
      }
      has_memory = true;
    }
    if (options_.enable_acs) enable_acs(bus, dev, fn);
    if (options_.enable_memory && has_memory) cmd |= command::MSE::kMask;
    if (options_.enable_bus_master) cmd |= command::BME::kMask;
    wr(bus, dev, fn, cfg::kCommand, 2, cmd);
    return {};
  }

  void enable_acs(unsigned bus, unsigned dev, unsigned fn) {
    std::uint32_t at = cfg::kExtendedCapabilities;
    for (unsigned i = 0; i < 960 && at >= cfg::kExtendedCapabilities; ++i) {
      const std::uint32_t header = rd(bus, dev, fn, at, 4);
      if (header == 0 || header == kAllOnes) return;
      if (ext_cap_header::ID::get(header) == ext_cap_id::kAcs) {
        const std::uint32_t cap = rd(bus, dev, fn, at + acs::kCapability, 2);
        const std::uint32_t ctrl = rd(bus, dev, fn, at + acs::kControl, 2);
        const std::uint32_t wanted = cap & (acs::kSv | acs::kRr | acs::kCr | acs::kUf);
        wr(bus, dev, fn, at + acs::kControl, 2, ctrl | wanted);
        return;
      }
      at = static_cast<std::uint32_t>(ext_cap_header::NEXT::get(header)) & 0xFFCu;
    }
  }

  Status assign_bars(unsigned bus, unsigned dev, unsigned fn, unsigned count, bool* has_memory) {
    for (unsigned i = 0; i < count; ++i) {
      const std::uint32_t reg = cfg::kBar0 + 4 * i;
      const std::uint32_t original = rd(bus, dev, fn, reg, 4);
      wr(bus, dev, fn, reg, 4, 0xFFFFFFFFu);
      const std::uint32_t low = rd(bus, dev, fn, reg, 4);
      if (low == 0) continue;  // unimplemented BAR
      if (bar_reg::IO_SPACE::get(low) != 0) {
        wr(bus, dev, fn, reg, 4, original);
        continue;
      }
      const bool is64 = bar_reg::MEM_TYPE::get(low) == bar_reg::kMemType64;
      std::uint64_t mask = bar_reg::MEM_BASE::raw(low);
      if (is64) {
        wr(bus, dev, fn, reg + 4, 4, 0xFFFFFFFFu);
        mask |= std::uint64_t{rd(bus, dev, fn, reg + 4, 4)} << 32;
      } else {
        mask |= 0xFFFFFFFF00000000ull;
      }
      const std::uint64_t size = ~mask + 1;
      const std::uint64_t base = align_up(cursor_, size);
      if (base + size > options_.mmio_limit || base + size < base) {
        return make_error(ErrorCode::kExhausted,
                          "MMIO window exhausted placing BAR" + std::to_string(i) + " of " +
                              model::to_string(model::SourceId::make(bus, dev, fn)));
      }
      if (!is64 && base + size > (std::uint64_t{1} << 32)) {
        return make_error(ErrorCode::kExhausted,
                          "a 32-bit BAR does not fit below 4 GiB in the MMIO window");
      }
      wr(bus, dev, fn, reg, 4, static_cast<std::uint32_t>(base));
      if (is64) {
        wr(bus, dev, fn, reg + 4, 4, static_cast<std::uint32_t>(base >> 32));
        ++i;
      }
      cursor_ = base + size;
      *has_memory = true;
    }
    return {};
  }

  RootComplex& rc_;
  EnumerationOptions options_;
  std::uint64_t cursor_;
  unsigned next_bus_;
  EnumerationResult result_;
};

}  // namespace

Expected<EnumerationResult> RootComplex::enumerate(const EnumerationOptions& options) {
  if (options.mmio_limit <= options.mmio_base) {
    return make_error(ErrorCode::kInvalidArgument, "MMIO window limit must be above its base");
  }
  return Enumerator(*this, options).run();
}

}  // namespace vtdsim::pci
