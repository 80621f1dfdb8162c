// `vtdsim explain` command: options, the machine (a scenario after its workload ran, or the
// built-in set-up) and the dispatch to the DMA or MSI explanation (tools/explain.h).
#include "tools/explain.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "tools/explain_setup.h"
#include "workload/runner.h"
#include "workload/scenario.h"

namespace vtdsim::tools {

namespace {

Error bad(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

struct Request {
  model::SourceId sid{};
  bool msi = false;
  model::DmaRequest dma{};
  std::uint64_t msi_address = 0;
  std::uint32_t msi_data = 0;
};

Expected<Request> parse_request(const ExplainOptions& o) {
  Request r;
  auto sid = parse_sid(o.sid, "--sid");
  if (!sid) return tl::unexpected(sid.error());
  r.sid = *sid;
  if (o.addr && o.msi_addr) {
    return tl::unexpected(bad("--addr and --msi-addr: give one request, not both"));
  }
  if (o.msi_addr) {
    if (!o.msi_data) return tl::unexpected(bad("--msi-addr needs --msi-data"));
    if (o.pasid || o.write) return tl::unexpected(bad("--pasid/--write apply to a DMA (--addr)"));
    auto a = parse_number(*o.msi_addr, "--msi-addr");
    if (!a) return tl::unexpected(a.error());
    auto d = parse_number(*o.msi_data, "--msi-data");
    if (!d) return tl::unexpected(d.error());
    if (*d > 0xFFFF'FFFFu) return tl::unexpected(bad("--msi-data: exceeds 32 bits"));
    r.msi = true;
    r.msi_address = *a;
    r.msi_data = static_cast<std::uint32_t>(*d);
    return r;
  }
  if (!o.addr) return tl::unexpected(bad("give a DMA (--addr) or an MSI (--msi-addr --msi-data)"));
  if (o.msi_data) return tl::unexpected(bad("--msi-data needs --msi-addr"));
  auto a = parse_number(*o.addr, "--addr");
  if (!a) return tl::unexpected(a.error());
  if (o.size == 0 || o.size > model::kPageSize ||
      (*a & (model::kPageSize - 1)) + o.size > model::kPageSize) {
    return tl::unexpected(bad(fmt::format(
        "--size {}: a request is 1..4096 bytes and must not cross a 4 KiB boundary", o.size)));
  }
  r.dma.source_id = r.sid;
  r.dma.address = *a;
  r.dma.size = o.size;
  r.dma.access = o.write ? model::AccessType::kWrite : model::AccessType::kRead;
  if (o.pasid) {
    auto p = parse_number(*o.pasid, "--pasid");
    if (!p) return tl::unexpected(p.error());
    if (*p >= (1u << 20))
      return tl::unexpected(bad(fmt::format("--pasid {:#x}: PASIDs are 20-bit", *p)));
    r.dma.has_pasid = true;
    r.dma.pasid = static_cast<std::uint32_t>(*p);
  }
  return r;
}

std::string run_request(iommu::RemappingUnit& unit, const model::PhysicalMemory& memory, Request r,
                        model::Cycle arrival = 0) {
  r.dma.arrival = arrival;
  return r.msi ? explain_msi(unit, memory, r.sid, r.msi_address, r.msi_data, arrival)
               : explain_dma(unit, memory, r.dma);
}

}  // namespace

Expected<std::string> explain(const ExplainOptions& o) {
  auto request = parse_request(o);
  if (!request) return tl::unexpected(request.error());
  if (o.scenario.empty()) {
    auto rig = BuiltinRig::create();
    if (!rig) return tl::unexpected(rig.error());
    return (*rig)->describe() + "\n" + run_request(*(*rig)->unit, (*rig)->memory, *request);
  }
  auto scenario = workload::load_scenario(o.scenario);
  if (!scenario) return tl::unexpected(scenario.error());
  auto runner = workload::Runner::create(*scenario);
  if (!runner) return tl::unexpected(runner.error());
  std::string out = fmt::format("scenario {} ({})", scenario->name, o.scenario);
  model::Cycle arrival = 0;
  if (scenario->workload) {
    auto result = (*runner)->run();
    if (!result) return tl::unexpected(result.error());
    arrival = result->last_completion;
    out += fmt::format(
        ": explained after its workload ran ({} DMA requests, the last completing "
        "at cycle {})\n",
        result->events.dma, arrival);
  } else {
    out += ": no [workload]; explained on the machine as set up\n";
  }
  platform::Machine& machine = (*runner)->stack().machine();
  iommu::RemappingUnit* unit = machine.unit_for(request->sid);
  if (unit == nullptr) {
    return tl::unexpected(
        bad(fmt::format("--sid {}: no remapping unit of the scenario covers it", o.sid)));
  }
  return out + "\n" + run_request(*unit, machine.memory(), *request, arrival);
}

void register_explain(CLI::App& app, CommandResult& result) {
  auto o = std::make_shared<ExplainOptions>();
  CLI::App* sub = app.add_subcommand(
      "explain",
      "Show step by step how one DMA (--addr) or one MSI (--msi-addr/--msi-data) is remapped: "
      "root, context and PASID entries, each page-table level or the IRTE, then the unit's "
      "verdict and cache activity, twice.");
  sub->add_option("--scenario", o->scenario,
                  "scenario TOML (its workload runs first); default: a built-in set-up");
  sub->add_option("--sid", o->sid, "requester id bb:dd.f (hex)")->default_str("00:03.0");
  sub->add_option("--pasid", o->pasid, "PASID of the DMA (decimal or 0x hex)");
  sub->add_option("--addr", o->addr, "DMA input address (IOVA)");
  sub->add_flag("--write", o->write, "the DMA writes (default: reads)");
  sub->add_option("--size", o->size, "DMA size in bytes (default 4)");
  sub->add_option("--msi-addr", o->msi_addr, "MSI address");
  sub->add_option("--msi-data", o->msi_data, "MSI data");
  sub->callback([o, &result] {
    result.ran = true;
    auto text = explain(*o);
    if (!text) {
      result.exit_code = report_error(std::cerr, "explain", text.error());
      return;
    }
    std::cout << *text;
    result.exit_code = kExitOk;
  });
}

}  // namespace vtdsim::tools
