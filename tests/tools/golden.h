// Golden-output comparison for the vtdsim command tests: the expected text lives in
// tests/tools/golden/<name>.txt. With VTDSIM_UPDATE_GOLDEN=1 in the environment the file is
// rewritten instead (review the diff before committing it).
#pragma once

#include <string>

namespace vtdsim::tools::testing {

// EXPECT-style check; on a mismatch it reports the first differing line.
void expect_golden(const std::string& name, const std::string& actual);
// Path of a file in tests/tools/data/.
std::string data_path(const std::string& name);

}  // namespace vtdsim::tools::testing
