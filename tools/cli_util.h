// Small helpers shared by the `vtdsim` subcommands: parsing numbers and source-ids from the
// command line with errors that name the argument, and the exit-code convention (0 success,
// 2 bad input with a one-line reason on stderr).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include "model/error.h"
#include "model/types.h"

namespace CLI {
class App;
}  // namespace CLI

namespace vtdsim::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitBadInput = 2;

// A hexadecimal value with or without 0x; '_' and '\'' separators allowed. `what` names the
// argument in the error ("HEX argument 2").
Expected<std::uint64_t> parse_hex(std::string_view text, std::string_view what);
// Decimal, or hexadecimal with a 0x prefix.
Expected<std::uint64_t> parse_number(std::string_view text, std::string_view what);
// "bb:dd.f" in hex (as lspci prints it), optionally "ssss:bb:dd.f" with segment 0.
Expected<model::SourceId> parse_sid(std::string_view text, std::string_view what);

// Prints "vtdsim <command>: <message>" as one line (newlines in the message become "; ") on
// err and returns kExitBadInput.
int report_error(std::ostream& err, std::string_view command, const Error& error);

// The result of the subcommand that ran: each register_* function installs a callback that
// stores its exit code here.
struct CommandResult {
  int exit_code = kExitOk;
  bool ran = false;
};

}  // namespace vtdsim::tools
