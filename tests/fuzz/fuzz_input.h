// Shared pieces of the libFuzzer targets: a structured reader that turns the fuzzer's bytes
// into typed choices (running dry yields zeros, so every input is a complete program), and
// FUZZ_CHECK, which reports a violated invariant and aborts so that libFuzzer saves the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace vtdsim::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  std::size_t remaining() const { return size_ - pos_; }

  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(u16() | (std::uint32_t{u16()} << 16)); }
  std::uint64_t u64() { return u32() | (std::uint64_t{u32()} << 32); }
  bool boolean() { return (u8() & 1u) != 0; }
  // A value in [0, n) (n > 0).
  std::uint64_t below(std::uint64_t n) { return n <= 256 ? u8() % n : u64() % n; }
  // One element of a non-empty list.
  template <class T>
  T pick(std::span<const T> choices) {
    return choices[static_cast<std::size_t>(below(choices.size()))];
  }
  // Up to n bytes (fewer when the input runs dry).
  std::span<const std::uint8_t> bytes(std::size_t n) {
    const std::size_t k = n < remaining() ? n : remaining();
    std::span<const std::uint8_t> out(data_ + pos_, k);
    pos_ += k;
    return out;
  }
  std::string_view rest_as_string() {
    const auto b = bytes(remaining());
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

[[noreturn]] inline void fail(const char* file, int line, const char* condition,
                              const char* detail) {
  std::fprintf(stderr, "\n==FUZZ INVARIANT== %s:%d: %s\n  %s\n", file, line, condition, detail);
  std::abort();
}

// How often each non-trivial invariant was actually checked, printed at exit when the
// environment has VTDSIM_FUZZ_NOTES=1 (shows that a target's checks are not vacuous).
struct Note {
  const char* name;
  std::uint64_t count = 0;
};
inline std::vector<Note*>& notes() {
  static std::vector<Note*> all;
  return all;
}
inline Note* register_note(const char* name) {
  if (notes().empty() && std::getenv("VTDSIM_FUZZ_NOTES") != nullptr) {
    std::atexit([] {
      for (const Note* n : notes()) {
        std::fprintf(stderr, "note %-40s %llu\n", n->name,
                     static_cast<unsigned long long>(n->count));
      }
    });
  }
  auto* n = new Note{name};
  notes().push_back(n);
  return n;
}

}  // namespace vtdsim::fuzz

// Counts one check of the invariant `name` (a string literal).
#define FUZZ_NOTE(name)                                                            \
  do {                                                                             \
    static ::vtdsim::fuzz::Note* fuzz_note_ = ::vtdsim::fuzz::register_note(name); \
    ++fuzz_note_->count;                                                           \
  } while (false)

// Aborts with the condition and a message built by snprintf when cond is false.
#define FUZZ_CHECK(cond, ...)                                     \
  do {                                                            \
    if (!(cond)) [[unlikely]] {                                   \
      char fuzz_msg_[512];                                        \
      std::snprintf(fuzz_msg_, sizeof fuzz_msg_, __VA_ARGS__);    \
      ::vtdsim::fuzz::fail(__FILE__, __LINE__, #cond, fuzz_msg_); \
    }                                                             \
  } while (false)
