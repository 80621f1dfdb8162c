#include "iommu/fault_reason.h"

namespace vtdsim::iommu {

std::string_view describe(FaultReason reason) {
  switch (reason) {
    case FaultReason::kNone:
      return "no fault";
    case FaultReason::kRootNotPresent:
      return "root entry not present";
    case FaultReason::kContextNotPresent:
      return "context entry not present";
    case FaultReason::kContextInvalid:
      return "invalid context entry programming";
    case FaultReason::kAddressBeyondAw:
      return "input address beyond the address width";
    case FaultReason::kWriteDenied:
      return "write without write permission";
    case FaultReason::kReadDenied:
      return "read without read permission";
    case FaultReason::kPagingEntryReadError:
      return "error reading a paging entry";
    case FaultReason::kRootReadError:
      return "error reading the root entry";
    case FaultReason::kContextReadError:
      return "error reading the context entry";
    case FaultReason::kRootReserved:
      return "reserved bit set in root entry";
    case FaultReason::kContextReserved:
      return "reserved bit set in context entry";
    case FaultReason::kPagingEntryReserved:
      return "reserved bit set in paging entry";
    case FaultReason::kTranslationTypeBlocked:
      return "request type blocked by context TT";
    case FaultReason::kOutputInInterruptRange:
      return "output address in the interrupt range";
    case FaultReason::kIrReservedRequest:
      return "reserved field set in interrupt request";
    case FaultReason::kIrIndexBeyondTable:
      return "interrupt index beyond the table size";
    case FaultReason::kIrEntryNotPresent:
      return "IRTE not present";
    case FaultReason::kIrEntryReadError:
      return "error reading the IRTE";
    case FaultReason::kIrEntryReserved:
      return "reserved field set in IRTE";
    case FaultReason::kIrCompatBlocked:
      return "compatibility-format interrupt blocked";
    case FaultReason::kIrSourceIdFailed:
      return "interrupt source-id verification failed";
    case FaultReason::kIrPidReadError:
      return "error reading the posted-interrupt descriptor";
    case FaultReason::kIrPidReserved:
      return "reserved field set in the posted-interrupt descriptor";
    case FaultReason::kSmInvalidRootAddress:
      return "invalid root-table address";
    case FaultReason::kSmLegacyTtmWithPasid:
      return "legacy TTM used for a request with PASID";
    case FaultReason::kSmRootReadError:
      return "error reading the scalable root entry";
    case FaultReason::kSmRootNotPresent:
      return "scalable root entry not present";
    case FaultReason::kSmRootReserved:
      return "reserved bit set in scalable root entry";
    case FaultReason::kSmContextReadError:
      return "error reading the scalable context entry";
    case FaultReason::kSmContextNotPresent:
      return "scalable context entry not present";
    case FaultReason::kSmContextReserved:
      return "reserved bit set in scalable context entry";
    case FaultReason::kSmContextInvalid:
      return "invalid scalable context entry";
    case FaultReason::kSmDteClear:
      return "ATS request with context DTE clear";
    case FaultReason::kSmPasidDisabled:
      return "request with PASID while PASIDE clear";
    case FaultReason::kSmPasidBeyondDirectory:
      return "PASID beyond the directory size";
    case FaultReason::kSmPreClear:
      return "page request with PRE clear";
    case FaultReason::kSmRidPasidError:
      return "RID_PASID field error";
    case FaultReason::kSmPasidDirReadError:
      return "error reading the PASID directory entry";
    case FaultReason::kSmPasidDirNotPresent:
      return "PASID directory entry not present";
    case FaultReason::kSmPasidDirReserved:
      return "reserved bit set in PASID directory entry";
    case FaultReason::kSmPasidEntryReadError:
      return "error reading the PASID table entry";
    case FaultReason::kSmPasidEntryNotPresent:
      return "PASID table entry not present";
    case FaultReason::kSmPasidEntryReserved:
      return "reserved bit set in PASID table entry";
    case FaultReason::kSmPasidEntryInvalid:
      return "invalid PASID table entry";
    case FaultReason::kSmEreClear:
      return "execute request with ERE clear";
    case FaultReason::kSmSreClear:
      return "supervisor request with SRE clear";
    case FaultReason::kSmFsEntryReadError:
      return "error reading a first-stage entry";
    case FaultReason::kSmFsEntryNotPresent:
      return "first-stage entry not present";
    case FaultReason::kSmFsEntryReserved:
      return "reserved bit set in first-stage entry";
    case FaultReason::kSmFsTopReadError:
      return "error reading the first-stage top entry";
    case FaultReason::kSmFsEntryBeyondMgaw:
      return "first-stage entry address beyond MGAW";
    case FaultReason::kSmFsTopReadDenied:
      return "nested: read denied for first-stage top table";
    case FaultReason::kSmFsEntryReadDenied:
      return "nested: read denied for a first-stage table";
    case FaultReason::kSmFsEntryWriteDenied:
      return "nested: write denied for A/D update";
    case FaultReason::kSmSsEntryReadError:
      return "error reading a second-stage entry";
    case FaultReason::kSmSsPermission:
      return "second-stage permission denied";
    case FaultReason::kSmSsEntryReserved:
      return "reserved bit set in second-stage entry";
    case FaultReason::kSmSsInvalidPointer:
      return "invalid second-stage table pointer";
    case FaultReason::kSmSsAdNotSnooped:
      return "second-stage A/D update on a non-snooped walk";
    case FaultReason::kSmFsNonCanonical:
      return "first-stage address not canonical";
    case FaultReason::kSmFsUserDenied:
      return "user request to a supervisor page";
    case FaultReason::kSmExecuteDenied:
      return "execute permission denied";
    case FaultReason::kSmAddressBeyondMax:
      return "address beyond the hardware maximum";
    case FaultReason::kSmSsAddressBeyondMax:
      return "second-stage address beyond the maximum";
    case FaultReason::kSmWriteDenied:
      return "write permission denied";
    case FaultReason::kSmReadDenied:
      return "read permission denied";
    case FaultReason::kSmOutputInInterruptRange:
      return "output address in the interrupt range";
    case FaultReason::kSmFsAdNotSnooped:
      return "first-stage A/D update on a non-snooped walk";
    case FaultReason::kSmFsAdUpdateFailed:
      return "first-stage A/D update failed";
  }
  return "unknown fault reason";
}

bool is_qualified(FaultReason reason) {
  switch (reason) {
    case FaultReason::kContextNotPresent:
    case FaultReason::kContextInvalid:
    case FaultReason::kAddressBeyondAw:
    case FaultReason::kWriteDenied:
    case FaultReason::kReadDenied:
    case FaultReason::kPagingEntryReadError:
    case FaultReason::kPagingEntryReserved:
    case FaultReason::kTranslationTypeBlocked:
    case FaultReason::kOutputInInterruptRange:
    case FaultReason::kIrEntryNotPresent:
    case FaultReason::kIrEntryReserved:
    case FaultReason::kIrSourceIdFailed:
    case FaultReason::kIrPidReserved:
    case FaultReason::kSmPreClear:
    case FaultReason::kSmPasidDirNotPresent:
    case FaultReason::kSmPasidEntryNotPresent:
    case FaultReason::kSmPasidEntryInvalid:
    case FaultReason::kSmFsEntryReadError:
    case FaultReason::kSmFsEntryNotPresent:
    case FaultReason::kSmFsEntryReserved:
    case FaultReason::kSmFsTopReadError:
    case FaultReason::kSmFsNonCanonical:
    case FaultReason::kSmFsUserDenied:
    case FaultReason::kSmWriteDenied:
    case FaultReason::kSmOutputInInterruptRange:
    case FaultReason::kSmFsAdUpdateFailed:
      return true;
    default:
      return false;
  }
}

}  // namespace vtdsim::iommu
