// Command-line helpers (tools/cli_util.h).
#include "tools/cli_util.h"

#include <algorithm>
#include <ostream>

#include <fmt/format.h>

namespace vtdsim::tools {

namespace {

Expected<std::uint64_t> parse_digits(std::string_view text, unsigned base, std::string_view what,
                                     std::string_view original) {
  if (text.empty()) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("{}: empty number", what));
  }
  std::uint64_t v = 0;
  bool any = false;
  for (const char c : text) {
    if (c == '_' || c == '\'') continue;
    unsigned d = 0;
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      d = static_cast<unsigned>(c - 'a' + 10);
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      d = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: '{}' is not a {} number", what, original,
                                    base == 16 ? "hexadecimal" : "decimal (or 0x-prefixed hex)"));
    }
    if (v > (~std::uint64_t{0} - d) / base) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: '{}' does not fit in 64 bits", what, original));
    }
    v = v * base + d;
    any = true;
  }
  if (!any) return make_error(ErrorCode::kInvalidArgument, fmt::format("{}: empty number", what));
  return v;
}

bool has_hex_prefix(std::string_view t) {
  return t.size() >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
}

}  // namespace

Expected<std::uint64_t> parse_hex(std::string_view text, std::string_view what) {
  const std::string_view digits = has_hex_prefix(text) ? text.substr(2) : text;
  return parse_digits(digits, 16, what, text);
}

Expected<std::uint64_t> parse_number(std::string_view text, std::string_view what) {
  if (has_hex_prefix(text)) return parse_digits(text.substr(2), 16, what, text);
  return parse_digits(text, 10, what, text);
}

Expected<model::SourceId> parse_sid(std::string_view text, std::string_view what) {
  const auto bad = [&] {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: '{}' is not a source-id (bb:dd.f, hex)", what, text));
  };
  std::string_view t = text;
  // Optional segment "0000:".
  if (std::count(t.begin(), t.end(), ':') == 2) {
    const auto c = t.find(':');
    const auto seg = parse_digits(t.substr(0, c), 16, what, text);
    if (!seg || *seg != 0) return bad();
    t = t.substr(c + 1);
  }
  const auto colon = t.find(':');
  const auto dot = t.find('.');
  if (colon == std::string_view::npos || dot == std::string_view::npos || dot < colon) return bad();
  const auto bus = parse_digits(t.substr(0, colon), 16, what, text);
  const auto dev = parse_digits(t.substr(colon + 1, dot - colon - 1), 16, what, text);
  const auto fn = parse_digits(t.substr(dot + 1), 16, what, text);
  if (!bus || !dev || !fn || *bus > 0xFF || *dev > 0x1F || *fn > 7) return bad();
  return model::SourceId::make(static_cast<unsigned>(*bus), static_cast<unsigned>(*dev),
                               static_cast<unsigned>(*fn));
}

int report_error(std::ostream& err, std::string_view command, const Error& error) {
  std::string message = error.message;
  for (std::size_t p = message.find('\n'); p != std::string::npos; p = message.find('\n', p)) {
    message.replace(p, 1, "; ");
  }
  err << "vtdsim " << command << ": " << message << "\n";
  return kExitBadInput;
}

}  // namespace vtdsim::tools
