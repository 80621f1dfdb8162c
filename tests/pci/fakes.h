// Fakes of the PCI layer's neighbours: a translator that maps with a fixed offset (or faults
// on chosen pages) and a recording MSI target.
#pragma once

#include <cstdint>
#include <set>
#include <vector>

#include "model/dma_translator.h"
#include "model/interrupt_sink.h"
#include "pci/dma_port.h"

namespace vtdsim::pci::testing {

class FakeTranslator : public model::DmaTranslator {
 public:
  std::uint64_t offset = 0x1000'0000;  // hpa = iova + offset
  std::uint8_t fault_reason = 0x06;    // reason reported for faulting pages
  model::Cycle latency = 10;
  std::set<std::uint64_t> faulting_pages;  // iova >> 12
  model::Permissions permissions{true, true, false};
  bool reject_translated = false;
  std::vector<model::DmaRequest> requests;

  model::Translation translate(const model::DmaRequest& req) override {
    requests.push_back(req);
    model::Translation t;
    t.completion = req.arrival + latency;
    t.latency = latency;
    if (!req.has_pasid && req.address_type == model::AddressType::kUntranslated &&
        model::in_interrupt_window(req.address)) {
      t.status = model::TranslationStatus::kInterruptWindow;
      return t;
    }
    if (req.address_type == model::AddressType::kTranslated) {
      if (reject_translated) {
        t.fault_reason = 0x0D;
        return t;
      }
      t.status = model::TranslationStatus::kOk;
      t.hpa = req.address;
      t.page_size = 4096;
      t.permissions = {true, true, false};
      return t;
    }
    if (faulting_pages.count(req.address >> 12) != 0) {
      t.status = model::TranslationStatus::kFault;
      t.fault_reason = fault_reason;
      t.fault_recorded = true;
      return t;
    }
    t.status = model::TranslationStatus::kOk;
    t.hpa = req.address + offset;
    t.page_size = 4096;
    t.permissions = permissions;
    return t;
  }
};

struct MsiRecord {
  model::SourceId source_id;
  std::uint64_t address;
  std::uint32_t data;
  model::Cycle time;
  friend bool operator==(const MsiRecord&, const MsiRecord&) = default;
};

class FakeMsiTarget : public MsiTarget {
 public:
  std::vector<MsiRecord> messages;
  void deliver_msi(model::SourceId source_id, std::uint64_t address, std::uint32_t data,
                   model::Cycle time) override {
    messages.push_back({source_id, address, data, time});
  }
};

}  // namespace vtdsim::pci::testing
