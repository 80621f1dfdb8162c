// The `vtdsim demo` scenario (workload/passthrough_demo.h): VM + VFIO-assigned NIC receiving.
#include "workload/passthrough_demo.h"

#include <fmt/format.h>

#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "passthrough/host_kernel.h"
#include "passthrough/kvm_vfio.h"
#include "passthrough/kvm_vm.h"
#include "passthrough/vfio_group.h"
#include "passthrough/vmm.h"
#include "pci/capabilities.h"
#include "pci/nic.h"
#include "platform/machine.h"

namespace vtdsim::workload {

namespace {

namespace pt = passthrough;
namespace r = pci::nic_regs;

constexpr std::uint64_t kGuestRam = 64ull << 20;
constexpr std::uint64_t kGuestBar0 = 0xE000'0000;
constexpr std::uint64_t kGuestBar3 = 0xE001'0000;
constexpr std::uint64_t kRingBase = 0x0010'0000;    // RX rings: 1 MiB, 4 KiB per queue
constexpr std::uint64_t kBufferBase = 0x0100'0000;  // RX buffers: 16 MiB, 1 MiB per queue
constexpr std::uint32_t kRingSize = 256;
constexpr std::uint32_t kBufferSize = 2048;
constexpr std::uint8_t kFirstVector = 0x40;  // guest vector of RX queue q: 0x40 + q

platform::MachineConfig machine_config(const PassthroughDemoOptions& o) {
  platform::MachineConfig c;
  c.address_width = 39;
  c.ram_size = 1ull << 30;
  c.host_memory_size = 256ull << 20;
  c.cpus = 4;
  platform::RemappingUnitConfig u;
  u.name = "dmar0";
  u.unit.host_address_width = 39;
  u.unit.mgaw = 39;
  u.unit.posted_interrupts = true;
  u.include_pci_all = true;
  c.units.push_back(u);
  auto nic = platform::PciNode::device("nic0", platform::NodeKind::kNic, 3);
  nic.nic.queues = o.queues;
  c.pci.push_back(nic);
  return c;
}

// Payload byte i of packet n: deterministic in (seed, n, i).
std::vector<std::byte> payload(std::uint64_t seed, std::uint64_t n, std::uint32_t size) {
  std::vector<std::byte> p(size);
  std::uint64_t x = seed * 0x9E37'79B9'7F4A'7C15ull + n * 0xBF58'476D'1CE4'E5B9ull;
  for (std::uint32_t i = 0; i < size; ++i) {
    x ^= x >> 29;
    x *= 0x94D0'49BB'1331'11EBull;
    p[i] = static_cast<std::byte>(x >> 56);
  }
  return p;
}

Status step(bool ok, const char* what) {
  if (ok) return {};
  return make_error(ErrorCode::kBusy, fmt::format("demo: {} failed", what));
}

// The guest's NIC driver: programs the device only through guest MMIO and guest memory.
class GuestDriver {
 public:
  GuestDriver(pt::KvmVm& vm, pt::VfioPciDevice& dev, unsigned queues)
      : vm_(vm), dev_(dev), queues_(queues), next_(queues, 0), tail_(queues, 0) {}

  static std::uint64_t ring(unsigned q) { return kRingBase + 0x1000ull * q; }
  static std::uint64_t buffer(unsigned q, std::uint32_t i) {
    return kBufferBase + (1ull << 20) * q + std::uint64_t{kBufferSize} * i;
  }

  Status setup() {
    for (unsigned q = 0; q < queues_; ++q) {
      for (std::uint32_t i = 0; i < kRingSize; ++i) {
        if (auto s = arm(q, i); !s) return s;
      }
    }
    if (auto s = w32(r::kRxBufSize, kBufferSize); !s) return s;
    for (unsigned q = 0; q < queues_; ++q) {
      const std::uint64_t regs = r::kRxQueues + r::kQueueStride * q;
      if (auto s = w64(regs + r::kQBase, ring(q)); !s) return s;
      if (auto s = w32(regs + r::kQLen, kRingSize); !s) return s;
      tail_[q] = kRingSize - 1;  // one slot stays empty: head == tail means empty
      if (auto s = w32(regs + r::kQTail, tail_[q]); !s) return s;
      if (auto s = w32(regs + r::kQCtrl, 1); !s) return s;
    }
    if (auto s = w32(r::kCtrl, 1); !s) return s;
    // MSI-X: enable, then program and unmask one vector per queue (PCI Local Bus 6.8.2).
    const auto cap = dev_.device().function().msix_offset();
    if (!cap) return make_error(ErrorCode::kUnsupported, "demo: the NIC has no MSI-X capability");
    dev_.guest_config_write(*cap + 2, 2, 0x8000);
    for (unsigned q = 0; q < queues_; ++q) {
      const std::uint64_t e = kGuestBar3 + 16ull * q;
      const std::uint32_t dest = q % vm_.vcpu_count();
      bool ok = dev_.guest_mmio_write(e + 0, 4, 0xFEE0'0000u | (dest << 12));
      ok = ok && dev_.guest_mmio_write(e + 4, 4, 0);
      ok = ok && dev_.guest_mmio_write(e + 8, 4, vector(q));
      ok = ok && dev_.guest_mmio_write(e + 12, 4, 0);
      if (auto s = step(ok, "MSI-X table write"); !s) return s;
    }
    return {};
  }

  static std::uint8_t vector(unsigned q) { return static_cast<std::uint8_t>(kFirstVector + q); }

  // The interrupt handler of queue q's vCPU: acknowledges the vector, reaps completed
  // descriptors (DD), checks each packet against `expected`, re-arms and advances the tail.
  Status service(unsigned q, std::span<const std::vector<std::byte>> expected, std::uint64_t& first,
                 PassthroughDemoResult& out) {
    pt::Vcpu& cpu = vm_.vcpu(q % vm_.vcpu_count());
    if (!cpu.apic().acknowledge(vector(q))) return {};
    ++out.interrupts.vcpu_vectors;
    const std::uint64_t regs = r::kRxQueues + r::kQueueStride * q;
    for (;;) {
      std::array<std::uint64_t, 2> d{};
      const std::uint32_t i = next_[q];
      if (auto s = vm_.read_guest(ring(q) + 16ull * i, std::as_writable_bytes(std::span(d))); !s) {
        return s;
      }
      if (((d[1] >> 32) & 1) == 0) break;  // DD (bit 96) clear: not done yet
      const auto length = static_cast<std::uint32_t>(d[1] & 0xFFFF);
      std::vector<std::byte> got(length);
      if (auto s = vm_.read_guest(buffer(q, i), got); !s) return s;
      if (first < expected.size() && got == expected[first] && ((d[1] >> 47) & 1) == 0) {
        ++out.packets_received;
        out.bytes_received += length;
      } else {
        ++out.payload_mismatches;
      }
      ++first;
      if (auto s = arm(q, i); !s) return s;
      next_[q] = (i + 1) % kRingSize;
      tail_[q] = (tail_[q] + 1) % kRingSize;
      if (auto s = w32(regs + r::kQTail, tail_[q]); !s) return s;
    }
    return {};
  }

 private:
  Status arm(unsigned q, std::uint32_t i) {
    const std::array<std::uint64_t, 2> d{buffer(q, i), 0};
    return vm_.write_guest(ring(q) + 16ull * i, std::as_bytes(std::span(d)));
  }
  Status w32(std::uint64_t off, std::uint64_t v) {
    return step(dev_.guest_mmio_write(kGuestBar0 + off, 4, v), "BAR0 write");
  }
  Status w64(std::uint64_t off, std::uint64_t v) {
    return step(dev_.guest_mmio_write(kGuestBar0 + off, 8, v), "BAR0 write");
  }

  pt::KvmVm& vm_;
  pt::VfioPciDevice& dev_;
  unsigned queues_;
  std::vector<std::uint32_t> next_;  // next descriptor to reap, per queue
  std::vector<std::uint32_t> tail_;
};

double rate(std::uint64_t hit, std::uint64_t lookup) {
  return lookup == 0 ? 0.0 : 100.0 * static_cast<double>(hit) / static_cast<double>(lookup);
}

std::uint64_t pwc_hits(const iommu::DmaRemapStats& s) {
  return s.slpwc_l2_hit + s.slpwc_l3_hit + s.slpwc_l4_hit + s.slpwc_l5_hit;
}

std::string format_text(const PassthroughDemoResult& x) {
  const auto& o = x.options;
  const auto& d = x.dma;
  std::string t;
  auto out = std::back_inserter(t);
  fmt::format_to(out, "vtdsim demo: VM (2 vCPUs) with NIC 00:03.0 assigned through VFIO\n");
  fmt::format_to(out, "  {} packets x {} bytes on {} RX queue(s), interrupts {}, seed {}\n\n",
                 o.packets, o.packet_size, o.queues,
                 o.posted ? "posted (KVM-VFIO bypass)" : "remapped (host handler + irqfd)", o.seed);
  fmt::format_to(out, "traffic\n");
  fmt::format_to(out, "  {:<28}{:>14}\n", "packets received", x.packets_received);
  fmt::format_to(out, "  {:<28}{:>14}\n", "bytes received", x.bytes_received);
  fmt::format_to(out, "  {:<28}{:>14}\n", "payload mismatches", x.payload_mismatches);
  fmt::format_to(out, "\nDMA remapping (unit dmar0)\n");
  fmt::format_to(out, "  {:<28}{:>14}\n", "translations", d.translations);
  fmt::format_to(out, "  {:<28}{:>14}  hit rate {:6.2f}%\n", "IOTLB lookups", d.iotlb_lookup,
                 rate(d.iotlb_hit, d.iotlb_lookup));
  fmt::format_to(out, "  {:<28}{:>14}  hit rate {:6.2f}%\n", "context-cache lookups",
                 d.ctxt_cache_lookup, rate(d.ctxt_cache_hit, d.ctxt_cache_lookup));
  fmt::format_to(out, "  {:<28}{:>14}  hit rate {:6.2f}%\n", "paging-structure lookups",
                 d.slpwc_lookup, rate(pwc_hits(d), d.slpwc_lookup));
  fmt::format_to(out, "  {:<28}{:>14}\n", "page walks", d.pw_walks);
  fmt::format_to(out, "  {:<28}{:>14}\n", "page-walk memory reads", d.pw_mem_reads);
  fmt::format_to(out, "  {:<28}{:>14}\n", "DMA faults", d.faults);
  fmt::format_to(out, "  {:<28}{:>14}\n", "fault records", x.unit_faults);
  fmt::format_to(out, "\ninterrupts\n");
  for (const auto& f : DemoInterruptStats::kFields) {
    fmt::format_to(out, "  {:<28}{:>14}\n", f.name, x.interrupts.*(f.member));
  }
  return t;
}

}  // namespace

Expected<PassthroughDemoResult> run_passthrough_demo(const PassthroughDemoOptions& o) {
  if (o.packet_size < 1 || o.packet_size > kBufferSize) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("packet size {}: must be in [1, {}]",
                                                               o.packet_size, kBufferSize));
  }
  if (o.queues < 1 || o.queues > r::kMaxQueues) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("queues {}: must be in [1, {}]", o.queues, r::kMaxQueues));
  }
  auto machine = platform::Machine::create(machine_config(o));
  if (!machine) return tl::unexpected(machine.error());
  auto kernel = pt::HostKernel::boot(**machine);
  if (!kernel) return tl::unexpected(kernel.error());
  pt::VmConfig vc;
  vc.vcpus = 2;
  vc.ram_bytes = kGuestRam;
  vc.host_cpus = {2, 3};
  auto vm = pt::KvmVm::create((*machine)->memory(), (*machine)->frame_allocator(), vc);
  if (!vm) return tl::unexpected(vm.error());

  pt::Vfio vfio(**kernel);
  auto* nic = (*machine)->device<pci::Nic>("nic0");
  if (nic == nullptr) return make_error(ErrorCode::kNotFound, "demo: no NIC nic0");
  if (auto s = vfio.bind(*nic); !s) return tl::unexpected(s.error());
  std::unique_ptr<pt::KvmVfioDevice> kvm_vfio;
  if (o.posted) kvm_vfio = std::make_unique<pt::KvmVfioDevice>(**vm, **kernel);
  pt::VfioPciOptions vo;
  vo.host = model::to_string(nic->requester_id());
  vo.kvm_vfio = kvm_vfio.get();
  auto dev = pt::VfioPciDevice::realize(**vm, vfio, vo);
  if (!dev) return tl::unexpected(dev.error());
  // The guest's PCI enumeration: BAR0 and BAR3 at guest addresses, memory decode + bus master.
  (*dev)->guest_config_write(0x10, 4, static_cast<std::uint32_t>(kGuestBar0));
  (*dev)->guest_config_write(0x14, 4, 0);
  (*dev)->guest_config_write(0x1C, 4, static_cast<std::uint32_t>(kGuestBar3));
  (*dev)->guest_config_write(pci::cfg::kCommand, 2, 0x6);

  GuestDriver driver(**vm, **dev, o.queues);
  if (auto s = driver.setup(); !s) return tl::unexpected(s.error());

  PassthroughDemoResult x;
  x.options = o;
  // Packets are injected in order, queue n % queues; each queue reaps its own in order.
  std::vector<std::vector<std::vector<std::byte>>> sent(o.queues);
  std::vector<std::uint64_t> reaped(o.queues, 0);
  for (std::uint64_t n = 0; n < o.packets; ++n) {
    const auto q = static_cast<unsigned>(n % o.queues);
    sent[q].push_back(payload(o.seed, n, o.packet_size));
    auto outcome = nic->inject_rx_packet(q, sent[q].back());
    if (!outcome) return tl::unexpected(outcome.error());
    if (auto s = driver.service(q, sent[q], reaped[q], x); !s) return tl::unexpected(s.error());
  }

  iommu::RemappingUnit& unit = (*machine)->unit(0);
  x.dma = unit.dma_remapper().stats();
  x.ir = unit.interrupt_remapper().stats();
  x.unit_faults = unit.stats().faults_recorded;
  x.interrupts.nic_interrupts = nic->stats().interrupts;
  x.interrupts.remapped = x.ir.remapped;
  x.interrupts.posted = x.ir.posted;
  x.interrupts.notifications = x.ir.notifications;
  x.interrupts.host_irqs_handled = (*kernel)->stats().host_irqs_handled;
  x.interrupts.kvm_msi_injected = (*vm)->stats().msi_injected;
  x.interrupts.pir_vectors_synced = (*vm)->stats().pir_vectors_synced;
  x.text = format_text(x);
  return x;
}

std::string passthrough_demo_json(const PassthroughDemoResult& x) {
  nlohmann::ordered_json j;
  j["scenario"] = "passthrough_demo";
  j["options"] = {{"packets", x.options.packets},
                  {"packet_size", x.options.packet_size},
                  {"queues", x.options.queues},
                  {"posted", x.options.posted},
                  {"seed", x.options.seed}};
  j["packets_received"] = x.packets_received;
  j["bytes_received"] = x.bytes_received;
  j["payload_mismatches"] = x.payload_mismatches;
  j["unit_faults"] = x.unit_faults;
  const auto& d = x.dma;
  j["rates"] = {{"iotlb_hit_rate", rate(d.iotlb_hit, d.iotlb_lookup) / 100.0},
                {"context_cache_hit_rate", rate(d.ctxt_cache_hit, d.ctxt_cache_lookup) / 100.0},
                {"pwc_hit_rate", rate(pwc_hits(d), d.slpwc_lookup) / 100.0}};
  for (const auto& f : iommu::DmaRemapStats::kFields) j["dma"][f.name] = d.*(f.member);
  for (const auto& f : irq_remap::IrStats::kFields) j["ir"][f.name] = x.ir.*(f.member);
  for (const auto& f : DemoInterruptStats::kFields) {
    j["interrupts"][f.name] = x.interrupts.*(f.member);
  }
  return j.dump(2) + "\n";
}

}  // namespace vtdsim::workload
