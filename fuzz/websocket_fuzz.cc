// Fuzz target: what a live-feed client sends over WebSocket. The input is the upgrade request's
// Sec-WebSocket-Extensions value, a NUL byte, then the bytes the client sends once connected:
// they are cut into frames as the server's session does (http/internal/ws_frames, used by
// WsSession::Parse in server.cc), in reads of varying size.
#include "fuzz/fuzz_util.h"
#include "http/internal/ws_frames.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace houston;
  using State = http::internal::ClientFrame::State;
  auto fields = fuzz::Fields(fuzz::AsText(data, size), 2);
  if (auto answer = http::internal::AcceptDeflate(fields[0])) {
    fuzz::Check(answer->starts_with("permessage-deflate"), "an answer that is not deflate");
  }
  std::span<const uint8_t> wire(reinterpret_cast<const uint8_t*>(fields[1].data()),
                                fields[1].size());
  // Bytes arrive in reads of 1, 2, 3, ... bytes (the input's length decides where they end).
  std::string buffered;
  size_t read = 0, step = 1;
  while (read < wire.size()) {
    size_t n = std::min(step++, wire.size() - read);
    buffered.append(reinterpret_cast<const char*>(wire.data() + read), n);
    read += n;
    for (;;) {
      http::internal::ClientFrame f = http::internal::ReadClientFrame(
          std::span(reinterpret_cast<const uint8_t*>(buffered.data()), buffered.size()));
      if (f.state == State::kInvalid) return 0;  // the connection closes
      if (f.state == State::kIncomplete) break;
      fuzz::Check(f.size >= 6 && f.size <= buffered.size(), "a frame larger than what was read");
      fuzz::Check(f.masked_payload.size() <= http::internal::kMaxClientFramePayload,
                  "a payload over the bound");
      fuzz::Check(f.masked_payload.data() + f.masked_payload.size() ==
                      reinterpret_cast<const uint8_t*>(buffered.data()) + f.size,
                  "the payload does not end the frame");
      std::string payload = http::internal::UnmaskedPayload(f);
      fuzz::Check(payload.size() == f.masked_payload.size(), "unmasking changed the length");
      if (f.opcode == 0x8) return 0;  // close: answered, then the connection ends
      buffered.erase(0, f.size);
    }
  }
  return 0;
}
