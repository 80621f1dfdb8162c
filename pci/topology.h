// The PCI hierarchy: buses holding functions at device.function slots, a root complex with the
// root bus, bus:device.function addressing of configuration requests routed through bridges'
// bus-number registers (PCI-to-PCI Bridge 1.2 §3.2.5), a firmware-style enumerator, flat MMIO
// decode, and the DMA requester ids and aliases bridges introduce (PCIe-to-PCI Bridge 1.0 §2.3:
// a PCIe-to-PCI bridge takes ownership of conventional requests with (secondary bus, 0, 0)).
// Not modelled: multiple segments, hot plug, ARI, bridge window filtering of MMIO.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "model/dma_translator.h"
#include "model/error.h"
#include "model/physical_memory.h"
#include "model/types.h"
#include "pci/bridge.h"
#include "pci/function.h"

namespace vtdsim::pci {

class RootComplex;

class Bus {
 public:
  // A secondary bus below `self`; the root bus has self == nullptr and a root complex.
  explicit Bus(Bridge* self, RootComplex* root = nullptr) : self_(self), root_(root) {}
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  bool is_root() const { return self_ == nullptr; }
  Bridge* self() const { return self_; }
  // The current bus number: the root complex's root bus number, or the bridge's secondary bus
  // number register (0 until enumeration programs it).
  std::uint8_t number() const;
  // The root complex above, or nullptr while this subtree is not attached yet.
  RootComplex* root_complex() const;

  // Places a function at dev.fn. Errors: slot taken, dev/fn out of range, fn > 0 without
  // function 0, a device other than 0 below a PCIe link.
  Expected<Function*> attach(unsigned dev, unsigned fn, std::unique_ptr<Function> function);
  template <class T, class... Args>
  Expected<T*> add(unsigned dev, unsigned fn, Args&&... args) {
    auto f = std::make_unique<T>(std::forward<Args>(args)...);
    T* raw = f.get();
    auto placed = attach(dev, fn, std::move(f));
    if (!placed) return tl::unexpected(placed.error());
    return raw;
  }

  Function* function(unsigned dev, unsigned fn) const;
  // Functions on this bus in devfn order.
  std::vector<Function*> functions() const;

 private:
  Bridge* self_;
  RootComplex* root_;
  std::array<std::unique_ptr<Function>, 256> slots_{};
};

struct EnumerationOptions {
  std::uint64_t mmio_base = 0xC0000000;   // memory BARs are placed in [mmio_base, mmio_limit)
  std::uint64_t mmio_limit = 0xFEC00000;  // below the IOAPIC / interrupt window
  bool enable_memory = true;              // set command.MSE on functions with memory BARs
  bool enable_bus_master = true;          // set command.BME (an OS driver would do this)
  // Enable the ACS controls a port implements among SV, RR, CR, UF (what Linux does at boot,
  // pci_enable_acs), so isolation follows from the capability bits.
  bool enable_acs = true;
};

struct EnumerationResult {
  unsigned buses = 0;  // including the root bus
  unsigned functions = 0;
  unsigned bridges = 0;
  std::uint64_t mmio_used = 0;  // bytes of the window consumed (with alignment)
};

// One DMA alias: the requester id and the function it belongs to (the device itself, or the
// bridge that substitutes its id).
struct DmaAlias {
  model::SourceId id;
  const Function* owner;
  friend bool operator==(const DmaAlias&, const DmaAlias&) = default;
};

class RootComplex {
 public:
  explicit RootComplex(std::uint8_t root_bus_number = 0);
  RootComplex(const RootComplex&) = delete;
  RootComplex& operator=(const RootComplex&) = delete;

  Bus& root_bus() { return root_bus_; }
  const Bus& root_bus() const { return root_bus_; }
  std::uint8_t root_bus_number() const { return root_bus_number_; }

  // Binds every function's DMA port (now and when attached later) to the platform.
  void connect(model::DmaTranslator& translator, model::PhysicalMemory& memory, MsiTarget* msi);

  // Configuration requests addressed by bus:dev.fn, routed as hardware does: a request for a
  // bus no bridge claims, or an empty slot, reads all-ones and drops writes.
  Function* route(model::SourceId bdf) const;
  std::uint32_t config_read(model::SourceId bdf, std::uint32_t offset, unsigned size) const;
  void config_write(model::SourceId bdf, std::uint32_t offset, unsigned size, std::uint32_t value);

  // What firmware does at boot: depth-first bus numbering of every bridge, BAR sizing and
  // placement (naturally aligned, from options.mmio_base), bridge memory windows, command
  // register enables. Only configuration requests are used. Errors: bus numbers or the MMIO
  // window exhausted.
  Expected<EnumerationResult> enumerate(const EnumerationOptions& options = {});

  // Every function, depth first (a bridge before the functions below it).
  std::vector<Function*> functions() const;
  // The function whose own requester id is bdf (no routing), or nullptr.
  Function* find(model::SourceId bdf) const;

  // MMIO: the function and memory BAR decoding [address, address+size), if any.
  struct MmioHit {
    Function* function;
    unsigned bar;
    std::uint64_t offset;
  };
  std::optional<MmioHit> decode_mmio(std::uint64_t address, unsigned size) const;
  // False when nothing decodes the address (the caller sees a master abort: all-ones).
  bool mmio_read(std::uint64_t address, unsigned size, std::uint64_t* value);
  bool mmio_write(std::uint64_t address, unsigned size, std::uint64_t value);

  // The requester ids the remapping hardware may see for f's DMA, in the order Linux's
  // pci_for_each_dma_alias visits them (own id first, then the ones bridges substitute).
  std::vector<DmaAlias> dma_aliases(const Function& f) const;
  // The id f's DMA actually carries when it reaches the root complex: the last alias.
  model::SourceId dma_source_id(const Function& f) const;
  // Re-derives every DMA port's source-id (called after bus numbers change).
  void refresh_source_ids();

 private:
  friend class Bus;
  void attached(Function& f);
  void visit(const Bus& bus, const std::function<void(Function&)>& fn) const;

  std::uint8_t root_bus_number_;
  Bus root_bus_;
  model::DmaTranslator* translator_ = nullptr;
  model::PhysicalMemory* memory_ = nullptr;
  MsiTarget* msi_ = nullptr;
};

}  // namespace vtdsim::pci
