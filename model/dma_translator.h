// The interface through which a device's DMA meets the remapping hardware (DESIGN.md "How a
// DMA travels"). pci/ sees only this; platform/ routes it to the unit covering the source-id.
// Contract: translate() never throws and never fails on guest-controlled content; a request it
// cannot translate comes back with status kFault and the spec fault reason.
#pragma once

#include <cstdint>

#include "model/types.h"

namespace vtdsim::model {

struct DmaRequest {
  SourceId source_id{};
  std::uint64_t address = 0;  // IOVA (untranslated) or HPA (translated requests)
  std::uint32_t size = 4;     // bytes; a request does not cross a 4 KiB boundary
  AccessType access = AccessType::kRead;
  AddressType address_type = AddressType::kUntranslated;
  bool has_pasid = false;
  std::uint32_t pasid = 0;  // 20 bits, meaningful when has_pasid
  bool privileged = false;  // supervisor request (PASID TLP prefix PMR)
  bool execute = false;     // execute request (PASID TLP prefix ER)
  Cycle arrival = 0;        // cycle the request reaches the unit
};

enum class TranslationStatus : std::uint8_t {
  kOk,               // hpa/page_size/permissions valid
  kFault,            // blocked; fault_reason holds the spec code
  kInterruptWindow,  // a write to 0xFEEx_xxxx without PASID: an interrupt, not DMA
};

struct Translation {
  TranslationStatus status = TranslationStatus::kFault;
  std::uint8_t fault_reason = 0;  // VT-d fault reason code (§7.1 tables) when kFault
  bool fault_recorded = false;    // false when suppressed (FPD) or dropped (overflow)
  std::uint64_t hpa = 0;          // host-physical address of request.address
  std::uint64_t page_size = 0;    // bytes of the mapping that produced hpa (4K/2M/1G/...)
  Permissions permissions{};      // what the mapping grants
  Cycle completion = 0;           // cycle the result is available
  Cycle latency = 0;              // completion - request.arrival

  bool ok() const { return status == TranslationStatus::kOk; }
};

class DmaTranslator {
 public:
  virtual ~DmaTranslator() = default;
  virtual Translation translate(const DmaRequest& request) = 0;
};

}  // namespace vtdsim::model
