// The HTTP/1.1 server (Boost.Beast/Asio): connections, keep-alive and pipelining, TLS,
// timeouts, size limits, routing, request metrics and graceful shutdown.
//
// Handlers are thin functions from a request to a response. A handler may answer later (for
// example after a store commit) by keeping its Responder and calling it from any thread.
#pragma once

#include <boost/beast/http.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/metrics.h"

namespace houston::http {

namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;
// Sends the response. Call exactly once, from any thread.
using Responder = std::move_only_function<void(Response)>;

// Text messages framed once as a server sends them (RFC 6455: unmasked, one final frame each), to
// be sent as they are to any number of connections: fanning a batch out to thousands of streams
// then costs one reference per stream, not a copy or a framing. Thread-safe.
class TextFrames {
 public:
  explicit TextFrames(std::vector<std::shared_ptr<const std::string>> messages);
  const std::vector<std::shared_ptr<const std::string>>& messages() const { return messages_; }
  // Every message's frame, in order: what goes on the wire.
  const std::string& wire() const { return wire_; }
  // The same for connections that negotiated permessage-deflate (RFC 7692): each message
  // compressed (RSV1 set), by one compressor that starts afresh with these messages (so it never
  // refers to anything a connection was sent before them) and carries its window from one
  // message to the next. Compressed once, on first use.
  const std::string& deflated_wire() const;

 private:
  std::vector<std::shared_ptr<const std::string>> messages_;
  std::string wire_;
  mutable std::once_flag deflated_once_;
  mutable std::string deflated_wire_;
};

// A WebSocket connection the server accepted (RFC 6455), for sending text messages to a client;
// what the client sends is read and dropped. Thread-safe: Send and Close may be called from any
// thread, and never block.
class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // Queues a text message. Returns false if the connection is closed, or if the message does not
  // fit in the connection's bounded send buffer (WebSocketOptions::max_buffered_bytes): a client
  // that reads too slowly is then cut off (the connection is closed at once) and nothing more is
  // sent to it.
  virtual bool Send(std::shared_ptr<const std::string> text) = 0;
  // Send() for several messages at once (cheaper: one hand-over to the connection).
  virtual bool SendAll(std::vector<std::shared_ptr<const std::string>> texts) {
    for (auto& t : texts) {
      if (!Send(std::move(t))) return false;
    }
    return true;
  }
  // SendAll() for messages framed once and shared by many connections. The buffer bound counts
  // their wire bytes.
  virtual bool SendFrames(std::shared_ptr<const TextFrames> frames) {
    return SendAll(frames->messages());
  }
  // Sends a close frame after the queued messages, then closes.
  virtual void Close(uint16_t code = 1000, std::string reason = "") = 0;
  virtual bool is_open() const = 0;
};

struct WebSocketOptions {
  size_t max_buffered_bytes = 1024 * 1024;  // queued and not yet written to the socket
  // Accept permessage-deflate (RFC 7692) when the client offers it (as browsers do) without
  // parameters that bind the server's compressor: what is sent with SendFrames then goes out
  // compressed (compressed once per TextFrames, shared); Send and SendAll stay uncompressed.
  bool deflate = true;
  // The kernel's send buffer for the socket (SO_SNDBUF); 0 keeps the system's.
  int socket_send_buffer = 0;
  // A client that sends nothing (not even a pong to the server's pings) for this long is closed.
  std::chrono::milliseconds idle_timeout{60'000};
  // Runs once, on an I/O thread, when the connection has closed (either way).
  std::function<void()> on_close;
};
using WebSocketOpen = std::function<void(std::shared_ptr<WebSocket>)>;

// True if `req` asks to switch to WebSocket (Upgrade: websocket, Connection: upgrade).
bool IsWebSocketUpgrade(const Request& req);

// Whether `a` and `b` are equal ignoring ASCII case. Use it, not boost::beast::iequals: Boost
// 1.81's reads one byte past the end of both strings once they differ in case (found by
// fuzz/websocket_fuzz.cc), which views into a header value may not own.
bool EqualsIgnoringCase(std::string_view a, std::string_view b);

// What a handler sees. Valid until its Responder is called.
struct HttpRequest {
  const Request& raw;
  std::string_view path;                                    // without the query string
  std::string_view query;                                   // without '?'
  std::vector<std::pair<std::string, std::string>> params;  // from {name} route segments
  std::string remote;                                       // peer address
  // X-Request-Id, or generated; the answer carries it unless the handler set its own.
  std::string request_id;
  // Set for a WebSocket upgrade request (IsWebSocketUpgrade): accepts it, from any thread, in
  // place of answering through the Responder (which is then dropped without being called). The
  // server answers 101 and runs `on_open` with the connection, on an I/O thread.
  std::function<void(WebSocketOptions, WebSocketOpen on_open)> accept_websocket;
  // What the route's PreBodyCheck left for its handler (e.g. the caller it authenticated), so
  // that the handler need not decide again; nullptr when no check ran (bodyless requests).
  // Opaque to the server: the route that sets it is the one that reads it.
  mutable std::shared_ptr<const void> checked;

  // A path parameter ("" if absent).
  std::string Param(std::string_view name) const;
  // A percent-decoded query parameter.
  std::optional<std::string> Query(std::string_view name) const;
  // The value of a header ("" if absent).
  std::string_view Header(std::string_view name) const;
};

using Handler = std::function<void(const HttpRequest&, Responder)>;

// Looks at a request's headers before its body is read, for a route that must refuse some
// requests early (say, without a valid bearer token): an unauthenticated client then cannot
// make the server read its body, and gets no 100 Continue. Returns the answer that refuses the
// request (the body is not read and the connection is closed after it), or nullopt to go on.
// Runs on an I/O thread, only for requests with a body; `raw` has no body yet. What it stores in
// `checked` reaches the handler's request. The handler must still check for itself when
// `checked` is empty: bodyless requests reach it unchecked.
using PreBodyCheck = std::function<std::optional<Response>(const HttpRequest&)>;

// The one mapping from Status codes to HTTP statuses.
bhttp::status HttpStatusFor(StatusCode code);
// {"error":{"code":"invalid_argument","message":...,"details":[...]}} with the mapped status.
Response ErrorResponse(const Status& status);
Response JsonResponse(bhttp::status code, std::string body);

// Renders the response for errors found before a handler runs (bad framing, oversize body,
// unknown route) so that routes can keep their own error shape (PagerDuty's on /v2/...). An
// oversize body comes as ResourceExhausted: the server answers 413 unless the renderer chose
// another status than that code's own (HttpStatusFor: 429).
using ErrorRenderer = std::function<Response(std::string_view path, const Status& status)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;       // 0 = pick a free port
  int threads = 2;            // I/O threads; 0: DefaultIoThreads()
  std::string tls_cert_file;  // both set: serve HTTPS only
  std::string tls_key_file;
  size_t max_header_bytes = 8 * 1024;
  size_t max_header_fields = 100;       // more header fields: 431
  size_t max_body_bytes = 1024 * 1024;  // routes without a limit of their own (Router::Add)
  // Connections held open at most. The server also keeps this below the open-file limit (it
  // raises the soft RLIMIT_NOFILE to the hard one at Start() and leaves a reserve for the rest of
  // the process). At the bound, a new connection closes the connection idle for longest (waiting
  // for a first or next request, or for the rest of a request still arriving: a slow client);
  // with none waiting, the new one is closed.
  size_t max_connections = 10000;
  std::chrono::milliseconds header_timeout{10'000};  // first byte to end of headers
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{75'000};  // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  ErrorRenderer error_renderer;  // optional
};

// I/O threads for ServerOptions::threads = 0: one per CPU this process may run on (its affinity
// mask, which taskset and cgroup cpusets narrow), at most 2. On one CPU a second I/O thread only
// adds hand-offs between the two; beyond two, intake is bound by the store's single writer, not
// by reading requests. Safe only because nothing slow runs on an I/O thread (api::Api hands its
// handlers to workers of their own).
int DefaultIoThreads();

// Routes requests by method and path pattern ("/api/v1/alerts/{id}"); HEAD requests go to the
// GET route (the server sends the headers only). Empty segments do not count: "/a/b/" and
// "/a//b" are "/a/b". Each path segment is percent-decoded exactly once before it is matched
// ('+' is read as a space, as it always was here), so "/%68ealthz" is "/healthz" and "%252e" is the
// text "%2e"; the server refuses paths with dot segments or an encoded '/' before routing
// (internal::CheckPath), so a decoded segment never holds a '/'. A `{name}` segment matches one
// path segment; at most one
// `{name*}` segment per pattern matches zero or more segments, its parameter being them
// (decoded) joined by '/' ("{prefix*}/v2/alerts" serves "/v2/alerts" and "/x/y/v2/alerts",
// prefix "" and "x/y"). A route without a `{name*}` segment wins: routes with one are only
// looked at for paths that no other route knows (so that 405 stays 405 there). The first
// route added wins among equals. Thread-compatible: add routes before the server starts, then
// it is read-only.
class Router {
 public:
  // `max_body_bytes`: the largest request body the route takes (a larger one is refused before
  // it is read, 413 or the route's error shape); 0: ServerOptions::max_body_bytes.
  void Add(bhttp::verb method, std::string pattern, Handler handler, PreBodyCheck check = {},
           size_t max_body_bytes = 0);
  struct Match {
    const Handler* handler = nullptr;
    const PreBodyCheck* check = nullptr;   // set when the route has one
    const std::string* pattern = nullptr;  // the route's name in metrics
    size_t max_body_bytes = 0;             // the route's own body limit; 0: the server's
    std::vector<std::pair<std::string, std::string>> params;
    bool path_known = false;  // some route has this path (for 405 vs 404)
    std::string allow;        // without a handler: the path's methods, for 405's Allow header
  };
  Match Find(bhttp::verb method, std::string_view path) const;

 private:
  struct Route {
    bhttp::verb method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
    PreBodyCheck check;
    size_t max_body_bytes = 0;
    int rest = -1;  // the index of its {name*} segment, or -1
  };
  // Whether `r` matches `segs`; fills `params` (cleared first).
  static bool Matches(const Route& r, const std::vector<std::string>& segs,
                      std::vector<std::pair<std::string, std::string>>& params);
  std::vector<Route> routes_;
};

// Serves HTTP/1.1 to clients that may be hostile: requests are checked before routing (body
// framing, Host; RFC 9112), unknown routes and refused requests are answered without reading
// their body, connections are bounded (see ServerOptions::max_connections), and an accept that
// fails for want of descriptors pauses the accept loop instead of spinning. Thread-safe.
class Server {
 public:
  Server(ServerOptions options, Router router, Metrics& metrics);
  ~Server();
  // Binds, listens and starts the I/O threads. Returns the bound port.
  Result<uint16_t> Start();
  // Stops accepting, lets in-flight requests finish (up to shutdown_grace), closes idle
  // keep-alive connections, then stops the I/O threads.
  void Shutdown();
  // Blocks until Shutdown() has completed.
  void Wait();
  size_t in_flight() const;
  // Keep-alive connections waiting for their next request (tests).
  size_t idle_connections() const;

  struct Impl;  // internal; public only so that connection classes in server.cc can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace houston::http
