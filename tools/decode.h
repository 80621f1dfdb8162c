// `vtdsim decode KIND HEX...`: prints a raw VT-d structure, register or request field by field
// with spec names and meanings, and warns about reserved bits that are set (spec ch. 5, 6, 9,
// 11; the field tables in tools/formats*.cc).
// Not modelled: PASID-based invalidation descriptors (types 6-8): printed raw.
#pragma once

#include <string>
#include <vector>

#include "model/error.h"
#include "tools/cli_util.h"

namespace vtdsim::tools {

struct DecodeOptions {
  std::string kind;                 // root, context, pte-ss, irte, msi, desc, frcd, cap, ...
  std::vector<std::string> values;  // hex words, qword 0 first (msi: address then data)
  std::string mode = "legacy";      // root/context: legacy or scalable
  unsigned level = 0;               // pte-ss: 1..5 (0 = unknown)
  unsigned width = 128;             // desc: 128 or 256
};

// The kinds `decode` accepts, in the order --help lists them.
const std::vector<std::string>& decode_kinds();

// The decoded text, or an error naming the bad argument.
Expected<std::string> decode(const DecodeOptions& options);

void register_decode(CLI::App& app, CommandResult& result);

}  // namespace vtdsim::tools
