// `vtdsim decode` (tools/decode.h).
#include "tools/decode.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "iommu/descriptors.h"
#include "iommu/legacy_formats.h"
#include "irq_remap/irte.h"
#include "irq_remap/msi.h"
#include "model/interrupt_sink.h"
#include "tools/formats.h"

namespace vtdsim::tools {

namespace {

Error bad(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

// Parses 1..max_words hex words (qword 0 first); 32-bit formats take one value < 2^32.
Expected<Words> parse_words(const DecodeOptions& o, unsigned max_words, unsigned bits) {
  if (o.values.empty()) {
    return tl::unexpected(bad(fmt::format("{}: missing HEX value", o.kind)));
  }
  if (o.values.size() > max_words) {
    return tl::unexpected(
        bad(fmt::format("{}: takes at most {} {} (qword 0 first), got {}", o.kind, max_words,
                        max_words == 1 ? "value" : "qwords", o.values.size())));
  }
  Words q{};
  for (std::size_t i = 0; i < o.values.size(); ++i) {
    auto v = parse_hex(o.values[i], fmt::format("{} HEX argument {}", o.kind, i + 1));
    if (!v) return tl::unexpected(v.error());
    if (bits == 32 && *v > 0xFFFF'FFFFu) {
      return tl::unexpected(
          bad(fmt::format("{} HEX argument {}: '{}' exceeds 32 bits", o.kind, i + 1, o.values[i])));
    }
    q[i] = *v;
  }
  return q;
}

Expected<std::string> decode_format(const DecodeOptions& o, const Format& f) {
  auto q = parse_words(o, f.words(), f.bits);
  if (!q) return tl::unexpected(q.error());
  return render(f, *q);
}

Expected<std::string> decode_pte_ss(const DecodeOptions& o) {
  auto q = parse_words(o, 1, 64);
  if (!q) return tl::unexpected(q.error());
  std::string out = render(formats::sl_entry(), *q);
  if (o.level == 0) return out;
  namespace se = iommu::sl_entry;
  const std::uint64_t e = (*q)[0];
  const std::uint64_t addr = se::ADDR::raw(e);
  const bool present = se::R::get(e) != 0 || se::W::get(e) != 0;
  const bool ps = se::PS::get(e) != 0;
  out += fmt::format("  at level {} (indexes IOVA bits {}:{}):\n", o.level,
                     iommu::level_shift(o.level) + 8, iommu::level_shift(o.level));
  if (!present) {
    out += "    not present: a request reaching it faults (0x05/0x06 by access type)\n";
  } else if (o.level == 1) {
    out += fmt::format("    leaf: 4 KiB page at {:#x} (bit 7 ignored)\n", addr);
  } else if (!ps) {
    out += fmt::format("    next-level table at {:#x}\n", addr);
  } else if (o.level >= 4) {
    out += "    PS = 1 is reserved at this level (fault 0x0C)\n";
  } else {
    const std::uint64_t size = iommu::level_page_size(o.level);
    out += fmt::format("    leaf: {} page at {:#x}\n", o.level == 2 ? "2 MiB" : "1 GiB", addr);
    if ((addr & (size - 1)) != 0) {
      out += fmt::format("    address bits {}:12 not zero: reserved (fault 0x0C)\n",
                         iommu::level_shift(o.level) - 1);
    }
  }
  return out;
}

Expected<std::string> decode_irte(const DecodeOptions& o) {
  auto q = parse_words(o, 2, 128);
  if (!q) return tl::unexpected(q.error());
  const bool posted = irq_remap::irte::IM::get((*q)[0]) != 0;
  return render(posted ? formats::irte_posted() : formats::irte_remapped(), *q);
}

Expected<std::string> decode_msi(const DecodeOptions& o) {
  if (o.values.empty() || o.values.size() > 2) {
    return tl::unexpected(
        bad(fmt::format("msi: takes ADDRESS [DATA], got {} values", o.values.size())));
  }
  auto address = parse_hex(o.values[0], "msi ADDRESS");
  if (!address) return tl::unexpected(address.error());
  std::uint64_t data = 0;
  if (o.values.size() == 2) {
    auto d = parse_hex(o.values[1], "msi DATA");
    if (!d) return tl::unexpected(d.error());
    if (*d > 0xFFFF'FFFFu) {
      return tl::unexpected(bad(fmt::format("msi DATA: '{}' exceeds 32 bits", o.values[1])));
    }
    data = *d;
  }
  const auto r = irq_remap::decode_msi(*address, static_cast<std::uint32_t>(data));
  std::string out;
  if (r.remappable) {
    out += render(formats::msi_address(), Words{*address});
    if (o.values.size() == 2) out += render(formats::msi_data(), Words{data});
    out += fmt::format("  request: remappable, HANDLE {:#x}, SHV {}, SUBHANDLE {:#x}\n", r.handle,
                       r.shv ? 1 : 0, r.subhandle);
    out += fmt::format("  interrupt index: {:#x}{}\n", r.index,
                       r.shv ? " (HANDLE + SUBHANDLE)" : " (HANDLE; data not used)");
  } else {
    const auto m = model::decode_compat_msi(*address, static_cast<std::uint32_t>(data));
    out += fmt::format("  compatibility-format MSI (§5.1.2.1): address {:#x}", *address);
    out += o.values.size() == 2 ? fmt::format(", data {:#x}\n", data) : "\n";
    out += fmt::format("    destination id {:#x} ({}), redirection hint {}\n", m.destination,
                       m.logical ? "logical" : "physical", m.redirection_hint ? 1 : 0);
    if (o.values.size() == 2) {
      out += fmt::format("    vector {:#x}, delivery mode {}, {} triggered\n", m.vector,
                         formats::describe_delivery_mode(static_cast<unsigned>(m.delivery_mode)),
                         m.level ? "level" : "edge");
    }
    out +=
        "    with interrupt remapping enabled it is blocked (0x25) unless GSTS.CFIS = 1 and "
        "IRTA.EIME = 0\n";
  }
  if (r.reserved_violation) out += "  warning: reserved field in the request (fault 0x20)\n";
  return out;
}

Expected<std::string> decode_ioapic(const DecodeOptions& o) {
  auto q = parse_words(o, 1, 64);
  if (!q) return tl::unexpected(q.error());
  const auto r = irq_remap::decode_ioapic_rte((*q)[0]);
  if (!r.remappable) {
    return fmt::format(
        "  compatibility-format IOAPIC entry (IF = 0): vector {:#x}, destination {:#x}{}\n",
        (*q)[0] & 0xFF, (*q)[0] >> 56, r.masked ? ", masked" : "");
  }
  std::string out = render(formats::ioapic_rte(), *q);
  out += fmt::format("  emits: address {:#x}, data {:#x} → interrupt index {:#x}{}\n",
                     r.msi.address, r.msi.data, r.index, r.masked ? " (masked)" : "");
  return out;
}

Expected<std::string> decode_desc(const DecodeOptions& o) {
  if (o.width != 128 && o.width != 256) {
    return tl::unexpected(bad(fmt::format("desc: --width {} (128 or 256)", o.width)));
  }
  auto q = parse_words(o, o.width / 64, 64);
  if (!q) return tl::unexpected(q.error());
  const unsigned type = iommu::desc::type_of((*q)[0]);
  std::string name;
  const Format* f = formats::descriptor(type, name);
  std::string out = fmt::format("  descriptor type {:#x}: {}\n", type, name);
  if (f == nullptr) {
    out += "  raw:";
    for (unsigned i = 0; i < o.width / 64; ++i) out += fmt::format(" q{}={:#018x}", i, (*q)[i]);
    out += type <= 9 && type >= 6 ? "\n  (field table not modelled: scalable-mode descriptor)\n"
                                  : "\n  warning: invalid type (queue error, IQER.IQEI = 3)\n";
    return out;
  }
  out += render(*f, *q);
  if (o.width == 256 && ((*q)[2] != 0 || (*q)[3] != 0)) {
    out += "  warning: bits 255:128 set: reserved for this type in a 256-bit queue\n";
  }
  return out;
}

}  // namespace

const std::vector<std::string>& decode_kinds() {
  static const std::vector<std::string> kinds{
      "root", "context", "pasid-dir", "pasid", "pte-ss", "pte-fs", "irte", "msi",  "ioapic-rte",
      "desc", "frcd",    "cap",       "ecap",  "gsts",   "fsts",   "iqa",  "irta", "rtaddr"};
  return kinds;
}

Expected<std::string> decode(const DecodeOptions& o) {
  if (o.mode != "legacy" && o.mode != "scalable") {
    return tl::unexpected(bad(fmt::format("--mode '{}' (legacy or scalable)", o.mode)));
  }
  if (o.level > 5) return tl::unexpected(bad(fmt::format("--level {} (1..5)", o.level)));
  const bool scalable = o.mode == "scalable";
  if (o.kind == "root") {
    return decode_format(o, scalable ? formats::root_scalable() : formats::root_legacy());
  }
  if (o.kind == "context") {
    return decode_format(o, scalable ? formats::context_scalable() : formats::context_legacy());
  }
  if (o.kind == "pasid-dir") return decode_format(o, formats::pasid_dir());
  if (o.kind == "pasid") return decode_format(o, formats::pasid_entry());
  if (o.kind == "pte-fs") return decode_format(o, formats::fs_entry());
  if (o.kind == "pte-ss") return decode_pte_ss(o);
  if (o.kind == "irte") return decode_irte(o);
  if (o.kind == "msi") return decode_msi(o);
  if (o.kind == "ioapic-rte") return decode_ioapic(o);
  if (o.kind == "desc") return decode_desc(o);
  if (o.kind == "frcd") return decode_format(o, formats::frcd());
  if (o.kind == "cap") return decode_format(o, formats::cap());
  if (o.kind == "ecap") return decode_format(o, formats::ecap());
  if (o.kind == "gsts") return decode_format(o, formats::gsts());
  if (o.kind == "fsts") return decode_format(o, formats::fsts());
  if (o.kind == "iqa") return decode_format(o, formats::iqa());
  if (o.kind == "irta") return decode_format(o, formats::irta());
  if (o.kind == "rtaddr") return decode_format(o, formats::rtaddr());
  std::string kinds;
  for (const auto& k : decode_kinds()) kinds += (kinds.empty() ? "" : ", ") + k;
  return tl::unexpected(bad(fmt::format("unknown KIND '{}' (one of: {})", o.kind, kinds)));
}

void register_decode(CLI::App& app, CommandResult& result) {
  auto options = std::make_shared<DecodeOptions>();
  std::string kinds;
  for (const auto& k : decode_kinds()) kinds += (kinds.empty() ? "" : ", ") + k;
  CLI::App* sub = app.add_subcommand(
      "decode", "Decode a VT-d structure, register or request field by field (KIND: " + kinds +
                    "). HEX values are qwords, qword 0 first; msi takes ADDRESS [DATA].");
  sub->add_option("KIND", options->kind, "what the value is")->required();
  sub->add_option("HEX", options->values, "the value(s), hexadecimal")->required();
  sub->add_option("--mode", options->mode, "root/context: legacy or scalable")
      ->default_str("legacy");
  sub->add_option("--level", options->level, "pte-ss: the table level holding the entry (1..5)");
  sub->add_option("--width", options->width, "desc: descriptor width, 128 or 256")
      ->default_str("128");
  sub->callback([options, &result] {
    result.ran = true;
    auto text = decode(*options);
    if (!text) {
      result.exit_code = report_error(std::cerr, "decode", text.error());
      return;
    }
    std::cout << *text;
    result.exit_code = kExitOk;
  });
}

}  // namespace vtdsim::tools
