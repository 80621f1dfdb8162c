// DMA port: split, translate every piece, then touch memory (see dma_port.h).
// Spec sections and what is not modelled: see pci/dma_port.h.
#include "pci/dma_port.h"

#include <algorithm>

namespace vtdsim::pci {

const char* to_string(DmaStatus status) {
  switch (status) {
    case DmaStatus::kOk:
      return "ok";
    case DmaStatus::kBusMasterDisabled:
      return "bus master disabled";
    case DmaStatus::kFault:
      return "translation fault";
    case DmaStatus::kInterruptWindow:
      return "interrupt window";
    case DmaStatus::kNotConnected:
      return "not connected";
    case DmaStatus::kOutOfRange:
      return "out of range";
  }
  return "?";
}

void DmaPort::connect(model::DmaTranslator& translator, model::PhysicalMemory& memory,
                      MsiTarget* msi) {
  translator_ = &translator;
  memory_ = &memory;
  msi_ = msi;
}

void DmaPort::translate_range(std::uint64_t address, std::uint64_t size, model::AccessType access,
                              const DmaAttrs& attrs, DmaResult& result) {
  model::DmaRequest req;
  req.source_id = source_id_;
  req.access = access;
  req.address_type = attrs.address_type;
  req.has_pasid = attrs.has_pasid;
  req.pasid = attrs.pasid;
  req.privileged = attrs.privileged;
  req.execute = attrs.execute;
  req.arrival = attrs.arrival;
  std::uint64_t at = address;
  std::uint64_t left = size;
  // MODEL: all pieces are issued at the arrival cycle (fully pipelined); the transfer completes
  // when the slowest translation does. Memory access time is not added.
  while (left > 0) {
    const std::uint64_t room = model::kPageSize - (at & (model::kPageSize - 1));
    const auto chunk = static_cast<std::uint32_t>(std::min(room, left));
    req.address = at;
    req.size = chunk;
    const model::Translation t = translator_->translate(req);
    ++stats_.translations;
    ++result.pieces;
    result.completion = std::max(result.completion, t.completion);
    if (t.status == model::TranslationStatus::kFault) {
      result.status = DmaStatus::kFault;
      result.fault_reason = t.fault_reason;
      result.fault_address = at;
      return;
    }
    if (t.status == model::TranslationStatus::kInterruptWindow) {
      result.status = DmaStatus::kInterruptWindow;
      result.fault_address = at;
      return;
    }
    if (!memory_->contains(t.hpa, chunk)) {
      result.status = DmaStatus::kOutOfRange;
      result.fault_address = at;
      return;
    }
    pieces_.push_back(Piece{t.hpa, chunk});
    at += chunk;
    left -= chunk;
  }
}

DmaResult DmaPort::translate_all(std::uint64_t address, std::uint64_t size,
                                 model::AccessType access, const DmaAttrs& attrs) {
  DmaResult result;
  result.completion = attrs.arrival;
  pieces_.clear();
  translate_range(address, size, access, attrs, result);
  return result;
}

DmaResult DmaPort::check(std::uint64_t address, const DmaAttrs& attrs) {
  DmaResult r;
  r.completion = attrs.arrival;
  r.fault_address = address;
  if (!bus_master_) {
    ++stats_.blocked_bus_master;
    r.status = DmaStatus::kBusMasterDisabled;
  } else if (!connected()) {
    r.status = DmaStatus::kNotConnected;
  }
  return r;
}

void DmaPort::account_failure(const DmaResult& r) {
  if (r.status == DmaStatus::kFault) ++stats_.faults;
  if (r.status == DmaStatus::kInterruptWindow) ++stats_.interrupt_window_aborts;
}

DmaResult DmaPort::read(std::uint64_t address, std::span<std::byte> out, const DmaAttrs& attrs) {
  if (DmaResult c = check(address, attrs); !c.ok()) return c;
  ++stats_.dma_reads;
  DmaResult r = translate_all(address, out.size(), model::AccessType::kRead, attrs);
  if (!r.ok()) {
    account_failure(r);
    return r;
  }
  std::size_t done = 0;
  for (const Piece& p : pieces_) {
    (void)memory_->read_bytes(p.hpa, out.subspan(done, p.size));
    done += p.size;
  }
  stats_.bytes_read += out.size();
  return r;
}

DmaResult DmaPort::write(std::uint64_t address, std::span<const std::byte> in,
                         const DmaAttrs& attrs) {
  if (DmaResult c = check(address, attrs); !c.ok()) return c;
  ++stats_.dma_writes;
  DmaResult r = translate_all(address, in.size(), model::AccessType::kWrite, attrs);
  if (r.status == DmaStatus::kInterruptWindow && in.size() == 4 && address % 4 == 0 &&
      msi_ != nullptr) {
    // A dword write to the interrupt window is an interrupt request, whatever the device meant.
    std::uint32_t data = 0;
    std::memcpy(&data, in.data(), sizeof data);
    msi_->deliver_msi(source_id_, address, data, r.completion);
    ++stats_.msi_sent;
    r.status = DmaStatus::kOk;
    r.interrupt = true;
    return r;
  }
  if (!r.ok()) {
    account_failure(r);
    return r;
  }
  std::size_t done = 0;
  for (const Piece& p : pieces_) {
    (void)memory_->write_bytes(p.hpa, in.subspan(done, p.size));
    done += p.size;
  }
  stats_.bytes_written += in.size();
  return r;
}

DmaResult DmaPort::translate_sg(std::span<const DmaSegment> segments, std::uint64_t limit,
                                model::AccessType access, const DmaAttrs& attrs,
                                std::uint64_t& total) {
  DmaResult r;
  r.completion = attrs.arrival;
  pieces_.clear();
  total = 0;
  for (const DmaSegment& s : segments) {
    const std::uint64_t size = std::min<std::uint64_t>(s.size, limit - total);
    translate_range(s.address, size, access, attrs, r);
    if (!r.ok()) {
      account_failure(r);
      return r;
    }
    total += size;
  }
  return r;
}

DmaResult DmaPort::read_sg(std::span<const DmaSegment> segments, std::span<std::byte> out,
                           const DmaAttrs& attrs) {
  if (DmaResult c = check(segments.empty() ? 0 : segments[0].address, attrs); !c.ok()) return c;
  ++stats_.dma_reads;
  std::uint64_t total = 0;
  const DmaResult r = translate_sg(segments, out.size(), model::AccessType::kRead, attrs, total);
  if (!r.ok()) return r;
  std::size_t done = 0;
  for (const Piece& p : pieces_) {
    (void)memory_->read_bytes(p.hpa, out.subspan(done, p.size));
    done += p.size;
  }
  stats_.bytes_read += total;
  return r;
}

DmaResult DmaPort::write_sg(std::span<const DmaSegment> segments, std::span<const std::byte> in,
                            const DmaAttrs& attrs) {
  if (DmaResult c = check(segments.empty() ? 0 : segments[0].address, attrs); !c.ok()) return c;
  ++stats_.dma_writes;
  std::uint64_t total = 0;
  const DmaResult r = translate_sg(segments, in.size(), model::AccessType::kWrite, attrs, total);
  if (!r.ok()) return r;
  std::size_t done = 0;
  for (const Piece& p : pieces_) {
    (void)memory_->write_bytes(p.hpa, in.subspan(done, p.size));
    done += p.size;
  }
  stats_.bytes_written += total;
  return r;
}

DmaResult DmaPort::send_msi(std::uint64_t address, std::uint32_t data, model::Cycle time) {
  if (!bus_master_) {
    ++stats_.msi_blocked;
    return DmaResult{DmaStatus::kBusMasterDisabled, 0, address, false, 0, time};
  }
  if (!connected()) return DmaResult{DmaStatus::kNotConnected, 0, address, false, 0, time};
  DmaAttrs attrs;
  attrs.arrival = time;
  DmaResult r = translate_all(address, 4, model::AccessType::kWrite, attrs);
  if (r.status == DmaStatus::kInterruptWindow) {
    if (msi_ == nullptr) return DmaResult{DmaStatus::kNotConnected, 0, address, false, 1, time};
    msi_->deliver_msi(source_id_, address, data, r.completion);
    ++stats_.msi_sent;
    r.status = DmaStatus::kOk;
    r.interrupt = true;
    return r;
  }
  if (!r.ok()) {
    ++stats_.msi_faults;
    return r;
  }
  // An MSI address outside the window is an ordinary memory write (PCI 3.0 §6.8.3.3).
  std::array<std::byte, 4> bytes{};
  std::memcpy(bytes.data(), &data, sizeof data);
  (void)memory_->write_bytes(pieces_.front().hpa, bytes);
  stats_.bytes_written += 4;
  ++stats_.msi_sent;
  return r;
}

model::Translation DmaPort::translation_request(std::uint64_t address, model::AccessType access,
                                                const DmaAttrs& attrs) {
  model::Translation t;
  if (!bus_master_) {
    ++stats_.blocked_bus_master;
    t.completion = attrs.arrival;
    return t;  // status kFault, reason 0: the request never left the function
  }
  if (!connected()) {
    t.completion = attrs.arrival;
    return t;
  }
  model::DmaRequest req;
  req.source_id = source_id_;
  req.address = address & ~(model::kPageSize - 1);
  req.size = static_cast<std::uint32_t>(model::kPageSize);
  req.access = access;
  req.address_type = model::AddressType::kTranslationRequest;
  req.has_pasid = attrs.has_pasid;
  req.pasid = attrs.pasid;
  req.privileged = attrs.privileged;
  req.execute = attrs.execute;
  req.arrival = attrs.arrival;
  ++stats_.translation_requests;
  return translator_->translate(req);
}

}  // namespace vtdsim::pci
