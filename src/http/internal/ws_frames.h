// What the server reads from a WebSocket client (RFC 6455): the frames it sends on an open
// connection and the permessage-deflate offer (RFC 7692) of its upgrade request. Pure functions
// on bytes, so that they are tested and fuzzed without sockets. Thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace houston::http::internal {

// The largest payload a client frame may carry: nothing a client needs to send to the live feed
// (close, ping, pong) comes near it. A larger frame closes the connection.
inline constexpr size_t kMaxClientFramePayload = 64 * 1024;

// The first frame of what a client sent.
struct ClientFrame {
  enum class State {
    kIncomplete,  // more bytes are needed to know or to hold the whole frame
    kInvalid,     // not masked, or longer than kMaxClientFramePayload: close the connection
    kComplete,
  };
  State state = State::kIncomplete;
  uint8_t opcode = 0;  // kComplete: the low four bits of the first byte
  size_t size = 0;     // kComplete: the frame's bytes (header, mask and payload)
  std::array<uint8_t, 4> mask{};
  std::span<const uint8_t> masked_payload;  // kComplete: a view into the bytes read
};

// Reads the frame at the start of `bytes` (which may hold less or more than one frame).
ClientFrame ReadClientFrame(std::span<const uint8_t> bytes);

// The payload of a complete frame, unmasked.
std::string UnmaskedPayload(const ClientFrame& frame);

// The Sec-WebSocket-Extensions answer to the first permessage-deflate offer in `header` that
// does not bind the server's compressor (client_max_window_bits and client_no_context_takeover
// concern the client's and need no answer; server_max_window_bits=15 is the default, and is
// answered), or nullopt when there is none.
std::optional<std::string> AcceptDeflate(std::string_view header);

}  // namespace houston::http::internal
