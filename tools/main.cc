// The vtdsim command (DESIGN.md "tools/"): each subcommand lives in vtdsim::tools and is wired
// in here by its explicit register function. Exit codes: 0 success, 2 bad input (one line on
// stderr naming what was wrong), CLI11's parse errors included.
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>

#include "tools/cli_util.h"
#include "tools/decode.h"
#include "tools/explain.h"
#include "tools/fit.h"
#include "tools/run.h"
#include "tools/sweep.h"

int main(int argc, char** argv) {
  using namespace vtdsim::tools;
  CLI::App app{"vtdsim: a cycle-approximate model of Intel VT-d (DMA and interrupt remapping)",
               "vtdsim"};
  app.require_subcommand(1);
  CommandResult result;
  register_decode(app, result);
  register_explain(app, result);
  register_fit(app, result);
  register_run(app, result);
  register_replay(app, result);
  register_sweep(app, result);
  register_demo(app, result);
  std::string names;
  bool known = false;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
    known = known || (argc > 1 && sub->get_name() == argv[1]);
  }
  if (argc > 1 && argv[1][0] != '-' && !known) {
    std::cerr << "vtdsim: unknown subcommand '" << argv[1] << "' (one of: " << names << ")\n";
    return kExitBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help: usage on stdout, exit 0
  } catch (const CLI::ParseError& e) {
    std::string where = "vtdsim";
    for (const CLI::App* sub = &app; sub != nullptr;) {
      const auto parsed = sub->get_subcommands();
      if (parsed.empty()) break;
      sub = parsed.front();
      where += " " + sub->get_name();
    }
    std::string message = e.what();
    for (auto& c : message) {
      if (c == '\n') c = ' ';
    }
    std::cerr << where << ": " << message << " (see --help)\n";
    return kExitBadInput;
  }
  return result.exit_code;
}
