// Register-based invalidation (spec §6.5.1; facts §2): the CCMD command (global, domain,
// device-selective with function mask; actual granularity in CAIG) and the IOTLB register
// with IVA (global, domain, page-selective with AM and IH; actual granularity in IAIG, 0 when
// the request is invalid or AM exceeds CAP.MAMV). ICC/IVT read back 0 once done.
// MODEL: commands complete synchronously within the triggering register write.
#pragma once

#include "iommu/descriptors.h"
#include "iommu/register_file.h"
#include "iommu/unit_config.h"
#include "iommu/unit_stats.h"

namespace vtdsim::iommu {

class RegisterInvalidation {
 public:
  RegisterInvalidation(RegisterFile& regs, const UnitConfig& config, InvalidationTarget& target,
                       UnitStats& stats)
      : regs_(regs), target_(target), stats_(stats), psi_(config.psi), mamv_(config.mamv) {}

  // After CCMD was written with its upper dword (4-byte write at +4, or 8-byte write).
  void on_ccmd_write();
  // After the IOTLB register was written with its upper dword.
  void on_iotlb_write();

 private:
  RegisterFile& regs_;
  InvalidationTarget& target_;
  UnitStats& stats_;
  bool psi_;
  unsigned mamv_;
};

}  // namespace vtdsim::iommu
