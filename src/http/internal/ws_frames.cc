#include "http/internal/ws_frames.h"

#include "http/http.h"

namespace houston::http::internal {

ClientFrame ReadClientFrame(std::span<const uint8_t> p) {
  ClientFrame f;
  if (p.size() < 2) return f;
  if (!(p[1] & 0x80)) {  // clients must mask
    f.state = ClientFrame::State::kInvalid;
    return f;
  }
  uint64_t n = p[1] & 0x7f;
  size_t off = 2;
  if (n == 126) {
    if (p.size() < 4) return f;
    n = (uint64_t(p[2]) << 8) | p[3];
    off = 4;
  } else if (n == 127) {  // a 64-bit length follows: nothing a client sends here is that large
    f.state = ClientFrame::State::kInvalid;
    return f;
  }
  if (n > kMaxClientFramePayload) {
    f.state = ClientFrame::State::kInvalid;
    return f;
  }
  if (p.size() < off + 4 + n) return f;
  f.state = ClientFrame::State::kComplete;
  f.opcode = p[0] & 0x0f;
  f.size = off + 4 + n;
  for (size_t i = 0; i < 4; ++i) f.mask[i] = p[off + i];
  f.masked_payload = p.subspan(off + 4, n);
  return f;
}

std::string UnmaskedPayload(const ClientFrame& frame) {
  std::string out(frame.masked_payload.size(), '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(frame.masked_payload[i] ^ frame.mask[i % 4]);
  }
  return out;
}

std::optional<std::string> AcceptDeflate(std::string_view header) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  auto next = [](std::string_view& s, char sep) {
    size_t at = s.find(sep);
    std::string_view part = s.substr(0, at);
    s = at == std::string_view::npos ? std::string_view() : s.substr(at + 1);
    return part;
  };
  while (!header.empty()) {
    std::string_view offer = next(header, ',');
    if (!EqualsIgnoringCase(trim(next(offer, ';')), "permessage-deflate")) continue;
    bool ok = true;
    std::string answer = "permessage-deflate";
    while (ok && !offer.empty()) {
      std::string_view param = next(offer, ';');
      std::string_view name = trim(next(param, '='));
      std::string_view value = trim(param);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (EqualsIgnoringCase(name, "server_max_window_bits") && value == "15") {
        answer += "; server_max_window_bits=15";
      } else {
        ok = EqualsIgnoringCase(name, "client_max_window_bits") ||
             EqualsIgnoringCase(name, "client_no_context_takeover");
      }
    }
    if (ok) return answer;
  }
  return std::nullopt;
}

}  // namespace houston::http::internal
