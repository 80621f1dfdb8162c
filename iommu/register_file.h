// The register file of one remapping unit (spec §11.4; facts §1.1): storage for every
// register, 4- and 8-byte MMIO decoding, and the access rules (RO, RW, RW1C, reserved bits
// read 0, GCMD write-only). It performs no side effects: the unit inspects each WriteResult
// and runs the command it implies (GCMD, CCMD/IOTLB on the upper-dword or 8-byte write, IQT).
// Not modelled: 16-byte accesses; 8-byte accesses to 32-bit registers (rejected, spec §11.2).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "iommu/registers.h"
#include "iommu/unit_config.h"

namespace vtdsim::iommu {

enum class Reg : std::uint8_t {
  kVer,
  kCap,
  kEcap,
  kGcmd,
  kGsts,
  kRtaddr,
  kCcmd,
  kFsts,
  kFectl,
  kFedata,
  kFeaddr,
  kFeuaddr,
  kIqh,
  kIqt,
  kIqa,
  kIcs,
  kIectl,
  kIedata,
  kIeaddr,
  kIeuaddr,
  kIqer,
  kIrta,
  kIva,
  kIotlb,
  kCount,
};
inline constexpr std::size_t kRegCount = static_cast<std::size_t>(Reg::kCount);

// How software may access one register.
struct RegisterSpec {
  std::uint32_t offset = 0;
  std::uint8_t width = 0;  // 4 or 8 bytes; 0 = not implemented by this unit (reserved)
  std::uint64_t reset = 0;
  std::uint64_t rw = 0;    // bits software writes
  std::uint64_t rw1c = 0;  // bits software clears by writing 1
  bool command = false;    // write-only: the value goes to the unit, reads return 0 (GCMD)
};

struct WriteResult {
  enum class Kind : std::uint8_t {
    kRegister,     // reg was written (masks applied)
    kFaultRecord,  // FRCD[record] written (only F is writable, RW1C)
    kIgnored,      // read-only target, reserved offset or bad access; nothing changed
  };
  Kind kind = Kind::kIgnored;
  Reg reg = Reg::kCount;
  unsigned record = 0;
  bool low = false;         // the access covered bits 31:0 of the 64-bit word
  bool high = false;        // the access covered bits 63:32 (8-byte write or upper dword)
  std::uint64_t value = 0;  // the written value at its bit positions (commands use it)
  std::uint64_t old = 0;    // the register before the write
  bool bad_access = false;  // kIgnored because of size, alignment or an unmapped offset
};

class RegisterFile {
 public:
  explicit RegisterFile(const UnitConfig& config);

  std::uint64_t window_size() const { return window_; }
  const RegisterSpec& spec(Reg r) const { return specs_[index(r)]; }
  unsigned fault_records() const { return static_cast<unsigned>(frcd_.size() / 2); }

  // MMIO access. Bad size/offset: reads return 0, writes come back kIgnored.
  std::uint64_t read(std::uint64_t offset, unsigned size) const;
  WriteResult write(std::uint64_t offset, unsigned size, std::uint64_t value);

  // Hardware-side access (no masks).
  std::uint64_t get(Reg r) const { return values_[index(r)]; }
  void set(Reg r, std::uint64_t v) { values_[index(r)] = v; }
  template <class F>
  std::uint64_t field(Reg r) const {
    return F::get(values_[index(r)]);
  }
  template <class F>
  void set_field(Reg r, std::uint64_t v) {
    values_[index(r)] = F::set(values_[index(r)], v);
  }
  // FRCD[record]: word 0 = bits 63:0, word 1 = bits 127:64.
  std::uint64_t frcd(unsigned record, unsigned word) const { return frcd_[record * 2 + word]; }
  void set_frcd(unsigned record, unsigned word, std::uint64_t v) { frcd_[record * 2 + word] = v; }

  void reset();

 private:
  static constexpr std::size_t index(Reg r) { return static_cast<std::size_t>(r); }
  // Slot of one dword of the window: 0 none; 1 + 2·reg + half; kFrcdTag | (4·record + dword).
  static constexpr std::uint16_t kFrcdTag = 0x8000;
  std::uint16_t slot(std::uint64_t offset) const {
    return offset < window_ ? slots_[offset >> 2] : std::uint16_t{0};
  }

  std::array<RegisterSpec, kRegCount> specs_{};
  std::array<std::uint64_t, kRegCount> values_{};
  std::vector<std::uint64_t> frcd_;
  std::vector<std::uint16_t> slots_;
  std::uint64_t window_ = 0;
};

}  // namespace vtdsim::iommu
