// Error channel 2 of DESIGN.md: bad user input and API misuse, reported as values.
// Guest-controlled content never produces an Error; it produces spec faults instead.
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace vtdsim {

enum class ErrorCode {
  kInvalidArgument,  // a parameter out of its documented range
  kOutOfRange,       // an address beyond the physical address width or a region
  kExhausted,        // an allocator has nothing left
  kNotFound,         // a named thing does not exist
  kAlreadyExists,    // a thing that must be unique is present twice
  kBusy,             // the object is in a state where the request cannot be taken
  kParse,            // a file or text could not be parsed (message names file/line/key)
  kUnsupported,      // the configuration does not offer the requested feature
  kIo,               // an operating-system I/O error
};

const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;
};

template <class T>
using Expected = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> make_error(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace vtdsim
