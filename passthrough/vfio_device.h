// A vfio-pci device fd (Linux vfio-pci, facts only): device info; region info for BARs 0-5
// (size, READ/WRITE, MMAP for memory BARs; on the BAR holding the MSI-X table a sparse-mmap
// capability that leaves the table's pages out), ROM (size 0 here), config (256 or 4096 bytes)
// and VGA (size 0); pread/pwrite at region_offset(index) + offset; IRQ info (INTx 1 when the
// interrupt pin is set, MSI 2^MMC, MSI-X table size, ERR for PCIe, REQ); SET_IRQS with
// ACTION_TRIGGER for MSI/MSI-X: DATA_EVENTFD enables the host interrupts (remapped IRTEs, one
// per vector, a naturally aligned block for MSI) and binds each vector's host handler to an
// eventfd (-1, here null, unbinds), DATA_NONE with count 0 disables, DATA_NONE/BOOL with a
// count fires the triggers (loopback). Each trigger is an irq-bypass producer.
// Config access is virtualized as vfio-pci does it: BARs read back the user's value (sizing
// works) and never reach the device; MSI/MSI-X capability writes are dropped (interrupts are
// set up with SET_IRQS only); everything else goes to the device. BAR accesses through the
// fd skip the MSI-X table (reads all-ones, writes dropped).
// Not modelled: INTx delivery (pci/ has no INTx), reset, ERR/REQ signalling, ROM contents.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "model/error.h"
#include "passthrough/host_kernel.h"
#include "passthrough/kvm_vm.h"
#include "passthrough/vfio_uapi.h"
#include "pci/function.h"

namespace vtdsim::passthrough {

class VfioGroup;

enum class VfioIrqType : std::uint8_t { kNone, kIntx, kMsi, kMsix };

class VfioDevice {
 public:
  VfioDevice(HostKernel& kernel, VfioGroup& group, pci::Function& function);
  ~VfioDevice();
  VfioDevice(const VfioDevice&) = delete;
  VfioDevice& operator=(const VfioDevice&) = delete;

  pci::Function& function() { return *function_; }
  VfioGroup& group() { return *group_; }

  vfio::DeviceInfo info() const;
  Expected<vfio::RegionInfo> region_info(unsigned index) const;
  Expected<vfio::IrqInfo> irq_info(unsigned index) const;

  // pread/pwrite of 1, 2, 4 (or 8 for BARs) bytes at a device-fd offset.
  Expected<std::uint64_t> read(std::uint64_t fd_offset, unsigned size);
  Status write(std::uint64_t fd_offset, unsigned size, std::uint64_t value);
  // mmap of [offset, +size) of a BAR region: the host-physical address backing it. Refused
  // for regions without MMAP, unaligned ranges and ranges outside the sparse-mmap areas.
  Expected<std::uint64_t> mmap(unsigned index, std::uint64_t offset, std::uint64_t size) const;

  // VFIO_DEVICE_SET_IRQS. `fds` holds count entries for DATA_EVENTFD (null = unbind),
  // `bools` count entries for DATA_BOOL.
  Status set_irqs(std::uint32_t flags, unsigned index, unsigned start, unsigned count,
                  std::span<EventFd* const> fds = {}, std::span<const bool> bools = {});

  VfioIrqType irq_type() const { return irq_type_; }
  unsigned enabled_vectors() const { return static_cast<unsigned>(vectors_.size()); }
  // The host interrupt of an enabled vector (null if out of range).
  const HostIrq* host_irq(unsigned vector) const;
  EventFd* trigger(unsigned vector) const;

 private:
  struct Vector {
    HostIrq irq;
    EventFd* trigger = nullptr;
    IrqBypassManager::Handle producer = 0;
  };
  std::uint32_t config_region_size() const;
  bool msix_table_hit(unsigned bar, std::uint64_t offset, unsigned size) const;
  std::vector<vfio::SparseMmapArea> mmap_areas(unsigned bar) const;
  bool in_capability(std::uint32_t offset, unsigned size) const;
  std::uint32_t config_read(std::uint32_t offset, unsigned size) const;
  void config_write(std::uint32_t offset, unsigned size, std::uint32_t value);
  std::uint32_t irq_count(unsigned index) const;

  Status enable(VfioIrqType type, unsigned nvec);
  Status disable();
  Status set_block(unsigned start, unsigned count, std::span<EventFd* const> fds);
  Status set_trigger(unsigned vector, EventFd* fd);
  void program_vector(unsigned vector, bool masked);

  HostKernel* kernel_;
  VfioGroup* group_;
  pci::Function* function_;
  std::array<std::uint32_t, 6> vbar_{};  // virtual BAR registers
  VfioIrqType irq_type_ = VfioIrqType::kNone;
  std::vector<Vector> vectors_;
};

}  // namespace vtdsim::passthrough
