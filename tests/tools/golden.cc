// Golden-output comparison (golden.h).
#include "golden.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace vtdsim::tools::testing {

void expect_golden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(VTDSIM_GOLDEN_DIR) + "/" + name + ".txt";
  const char* update = std::getenv("VTDSIM_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << "missing golden file " << path
                         << " (run with VTDSIM_UPDATE_GOLDEN=1 to create it)";
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string expected = buffer.str();
  if (expected == actual) return;
  std::istringstream e(expected);
  std::istringstream a(actual);
  std::string el;
  std::string al;
  int line = 1;
  while (true) {
    const bool he = static_cast<bool>(std::getline(e, el));
    const bool ha = static_cast<bool>(std::getline(a, al));
    if (!he && !ha) break;
    if (!he || !ha || el != al) {
      ADD_FAILURE() << name << ": first difference at line " << line
                    << "\n  expected: " << (he ? el : "<end>")
                    << "\n  actual:   " << (ha ? al : "<end>");
      return;
    }
    ++line;
  }
  ADD_FAILURE() << name << ": outputs differ (line endings)";
}

std::string data_path(const std::string& name) {
  return std::string(VTDSIM_TEST_DATA_DIR) + "/" + name;
}

}  // namespace vtdsim::tools::testing
