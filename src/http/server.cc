#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sched.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/zlib/deflate_stream.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <list>
#include <thread>
#include <unordered_map>

#include "core/thread_name.h"
#include "http/http.h"
#include "http/internal/connection_limits.h"
#include "http/internal/request_checks.h"
#include "http/internal/ws_frames.h"

namespace houston::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

// After an answer sent without reading the request's body, what the client still sends is read
// and dropped for this long (or up to kLingerBytes) before the socket is closed: closing with
// unread data resets the connection, and the client may lose the answer.
constexpr auto kLinger = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 1024 * 1024;
constexpr auto kLogInterval = std::chrono::seconds(10);

class SessionBase;

// A session's place in Server::Impl::idle.
struct IdleEntry {
  SessionBase* owner;
  std::weak_ptr<SessionBase> weak;
};

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection if it is waiting for a request (from any thread).
  virtual void CloseIfIdle() = 0;
  // Closes the connection if it is waiting for its client: for a request, or for the rest of
  // one still arriving (from any thread). Makes room at max_connections.
  virtual void CloseIfWaiting() { CloseIfIdle(); }

  // Guarded by Impl::sessions_mu. While the session waits for its client (for a request, or for
  // the rest of one: its head or body still arriving) its one IdleEntry is in
  // Impl::idle (at idle_pos); otherwise it is kept in idle_slot, so going idle allocates nothing.
  std::list<IdleEntry> idle_slot;
  std::list<IdleEntry>::iterator idle_pos;
  bool in_idle_list = false;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string_view View(beast::string_view s) { return std::string_view(s.data(), s.size()); }

bool OutOfResources(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory ||
         ec == beast::error_code(ENFILE, asio::error::get_system_category());
}

// `o` with its I/O threads decided (0: DefaultIoThreads).
ServerOptions Resolved(ServerOptions o) {
  if (o.threads <= 0) o.threads = DefaultIoThreads();
  return o;
}

}  // namespace

int DefaultIoThreads() {
  cpu_set_t set;
  CPU_ZERO(&set);
  int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 2;
  return std::clamp(cpus, 1, 2);
}

struct Server::Impl {
  Impl(ServerOptions o, Router r, Metrics& m)
      : opt(Resolved(std::move(o))), router(std::move(r)), metrics(m), ioc(opt.threads) {}

  ServerOptions opt;
  Router router;
  Metrics& metrics;
  size_t max_connections = 1;  // the effective bound, set by Start()

  // Sessions still queued in `ioc` are destroyed with it, and use what is declared before it.
  std::optional<asio::ssl::context> ssl;
  std::atomic<size_t> connections{0};
  std::atomic<size_t> in_flight{0};
  std::atomic<uint64_t> next_request_id{1};
  std::atomic<bool> stopping{false};

  // Never drop a session's last reference while holding sessions_mu: its destructor takes it.
  std::mutex sessions_mu;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;  // guarded
  std::list<IdleEntry> idle;  // guarded; sessions waiting for a request, longest waiting first

  asio::io_context ioc;
  // The accept loop's state, used on the acceptor's strand only.
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_timer;
  internal::AcceptBackoff accept_backoff;
  internal::LogThrottle shed_log{kLogInterval};
  internal::LogThrottle refuse_log{kLogInterval};

  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;

  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;  // guarded by done_mu

  Response RenderError(std::string_view path, const Status& st) {
    return opt.error_renderer ? opt.error_renderer(path, st) : ErrorResponse(st);
  }
  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  // Makes room for one more connection by closing the one idle for longest. False if none is.
  bool ShedIdle();
  template <typename Stream>
  void StartSession(Stream stream, std::string remote);

  void Register(const std::shared_ptr<SessionBase>& session);
  void Unregister(SessionBase* session);
  void SetIdle(SessionBase& session, bool idle);
  std::shared_ptr<SessionBase> TakeOldestIdle();
};

void Server::Impl::Register(const std::shared_ptr<SessionBase>& session) {
  std::lock_guard lock(sessions_mu);
  sessions[session.get()] = session;
  session->idle_slot.push_back(IdleEntry{session.get(), session});
}

void Server::Impl::Unregister(SessionBase* session) {
  std::lock_guard lock(sessions_mu);
  if (session->in_idle_list) {
    session->idle_slot.splice(session->idle_slot.end(), idle, session->idle_pos);
    session->in_idle_list = false;
  }
  sessions.erase(session);
}

void Server::Impl::SetIdle(SessionBase& session, bool is_idle) {
  std::lock_guard lock(sessions_mu);
  if (is_idle == session.in_idle_list || (is_idle && session.idle_slot.empty())) return;
  if (is_idle) {
    session.idle_pos = session.idle_slot.begin();
    idle.splice(idle.end(), session.idle_slot, session.idle_pos);
  } else {
    session.idle_slot.splice(session.idle_slot.end(), idle, session.idle_pos);
  }
  session.in_idle_list = is_idle;
}

std::shared_ptr<SessionBase> Server::Impl::TakeOldestIdle() {
  std::lock_guard lock(sessions_mu);
  while (!idle.empty()) {
    auto it = idle.begin();
    SessionBase* owner = it->owner;  // alive: its destructor waits for sessions_mu
    std::shared_ptr<SessionBase> session = it->weak.lock();
    owner->idle_slot.splice(owner->idle_slot.end(), idle, it);
    owner->in_idle_list = false;
    if (session) return session;  // the caller drops it, after the lock is released
  }
  return nullptr;
}

bool Server::Impl::ShedIdle() {
  std::shared_ptr<SessionBase> victim = TakeOldestIdle();
  if (!victim) return false;
  victim->CloseIfWaiting();
  metrics.Add("houston_http_connections_shed_total", "");
  if (uint64_t n = shed_log.Event(std::chrono::steady_clock::now())) {
    spdlog::warn(
        "closed {} idle connection(s) to make room for new ones ({} open, max_connections {})", n,
        connections.load(), max_connections);
  }
  return true;
}

namespace {

namespace websocket = beast::websocket;

// A server frame's header (FIN, opcode, unmasked length) into `out` (10 bytes at most); its size.
size_t FrameHeader(uint8_t* out, uint8_t opcode, size_t n) {
  out[0] = static_cast<uint8_t>(0x80 | opcode);
  if (n < 126) {
    out[1] = static_cast<uint8_t>(n);
    return 2;
  }
  if (n < 65536) {
    out[1] = 126;
    out[2] = static_cast<uint8_t>(n >> 8);
    out[3] = static_cast<uint8_t>(n);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(uint64_t(n) >> (56 - 8 * i));
  return 10;
}

// A connection switched to WebSocket. Beast answers the handshake; then the session frames
// messages itself, so that everything queued for a client goes out in one write (a gather of
// every queued message: one system call per batch, not per message), which is what lets one
// server feed thousands of streams. What the client sends is read: close and ping frames are
// answered, data is dropped. A client silent for the idle timeout gets a ping, and is closed
// after another one.
template <typename Stream>
class WsSession : public SessionBase,
                  public WebSocket,
                  public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Server::Impl& srv, Stream stream, WebSocketOptions options)
      : srv_(srv),
        stream_(std::move(stream)),
        timer_(stream_.get_executor()),
        options_(std::move(options)) {
    srv_.connections.fetch_add(1);
  }
  ~WsSession() override {
    srv_.connections.fetch_sub(1);
    srv_.Unregister(static_cast<SessionBase*>(this));
  }

  void Accept(Request req, WebSocketOpen on_open) {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(10));
    if (options_.socket_send_buffer > 0) {
      beast::error_code ignored;
      beast::get_lowest_layer(stream_).socket().set_option(
          asio::socket_base::send_buffer_size(options_.socket_send_buffer), ignored);
    }
    std::optional<std::string> deflate;
    if (options_.deflate) {
      deflate = internal::AcceptDeflate(View(req[bhttp::field::sec_websocket_extensions]));
    }
    deflate_ = deflate.has_value();
    handshake_.emplace(stream_);
    handshake_->set_option(websocket::stream_base::decorator(
        [deflate = std::move(deflate)](websocket::response_type& res) {
          res.set(bhttp::field::server, "houston");
          if (deflate) res.set(bhttp::field::sec_websocket_extensions, *deflate);
        }));
    handshake_->async_accept(req, [self = this->shared_from_this(),
                                   on_open = std::move(on_open)](beast::error_code ec) mutable {
      self->handshake_.reset();
      if (ec) return self->Abort();
      beast::get_lowest_layer(self->stream_).expires_never();
      self->open_ = true;
      self->last_read_ = std::chrono::steady_clock::now();
      if (on_open) on_open(self);
      self->Read();
      self->Tick();
      self->WriteNext();
    });
  }

  bool Send(std::shared_ptr<const std::string> text) override {
    std::vector<std::shared_ptr<const std::string>> one;
    one.push_back(std::move(text));
    return SendAll(std::move(one));
  }

  bool SendAll(std::vector<std::shared_ptr<const std::string>> texts) override {
    size_t n = 0;
    for (const auto& t : texts) n += t->size();
    if (!Reserve(n)) return false;
    asio::post(stream_.get_executor(),
               [self = this->shared_from_this(), texts = std::move(texts)]() mutable {
                 for (auto& t : texts) self->queue_.push_back(Frame{0x1, std::move(t)});
                 self->WriteNext();
               });
    return true;
  }

  bool SendFrames(std::shared_ptr<const TextFrames> frames) override {
    const std::string& bytes = deflate_ ? frames->deflated_wire() : frames->wire();
    if (!Reserve(bytes.size())) return false;
    // The wire bytes, kept alive by `frames`.
    std::shared_ptr<const std::string> wire(frames, &bytes);
    asio::post(stream_.get_executor(),
               [self = this->shared_from_this(), wire = std::move(wire)]() mutable {
                 if (!wire->empty())
                   self->queue_.push_back(Frame{0x1, std::move(wire), /*framed=*/true});
                 self->WriteNext();
               });
    return true;
  }

  void Close(uint16_t code, std::string reason) override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this(), code,
                                        reason = std::move(reason)]() mutable {
      if (self->closing_) return;
      self->closing_ = true;
      std::string body(2, '\0');
      body[0] = static_cast<char>(code >> 8);
      body[1] = static_cast<char>(code & 0xff);
      body += reason.substr(0, 120);
      self->queue_.push_back(Frame{0x8, std::make_shared<const std::string>(std::move(body))});
      self->WriteNext();
    });
  }

  bool is_open() const override { return !failed_.load() && !done_.load(); }

  // Counts `n` more bytes queued; false (and the connection cut off) if that is over the bound.
  bool Reserve(size_t n) {
    if (failed_.load()) return false;
    if (buffered_.fetch_add(n) + n > options_.max_buffered_bytes) {
      // Cut off: whatever it has not read stays unread.
      if (!failed_.exchange(true)) {
        srv_.metrics.Add("houston_websocket_slow_clients_total", "");
        asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->Abort(); });
      }
      return false;
    }
    return true;
  }

  // Server shutdown: a close frame ("going away").
  void CloseIfIdle() override { Close(1001, "server shutting down"); }

 private:
  struct Frame {
    uint8_t opcode;
    std::shared_ptr<const std::string> payload;
    // Set for frames already framed (TextFrames::wire): written as they are. Bytes counted in
    // buffered_ (text payloads, or the framed bytes).
    bool framed = false;
  };

  void WriteNext() {
    if (!open_ || writing_ || done_.load() || failed_.load() || queue_.empty()) return;
    writing_ = true;
    constexpr size_t kMaxFrames = 512;
    size_t count = std::min(queue_.size(), kMaxFrames);
    headers_.resize(count * 10);
    buffers_.clear();
    sending_.clear();
    sending_bytes_ = 0;
    bool close_after = false;
    for (size_t i = 0; i < count; ++i) {
      Frame& f = queue_[i];
      if (!f.framed) {
        size_t h = FrameHeader(&headers_[i * 10], f.opcode, f.payload->size());
        buffers_.emplace_back(&headers_[i * 10], h);
      }
      buffers_.emplace_back(f.payload->data(), f.payload->size());
      if (f.opcode == 0x1) sending_bytes_ += f.payload->size();
      if (f.opcode == 0x8) {
        close_after = true;
        count = i + 1;
        break;
      }
    }
    for (size_t i = 0; i < count; ++i) sending_.push_back(std::move(queue_[i].payload));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
    beast::get_lowest_layer(stream_).expires_after(srv_.opt.write_timeout);
    asio::async_write(
        stream_, buffers_,
        [self = this->shared_from_this(), close_after](beast::error_code ec, size_t) {
          beast::get_lowest_layer(self->stream_).expires_never();
          self->writing_ = false;
          self->buffered_.fetch_sub(self->sending_bytes_);
          self->sending_.clear();
          if (ec) return self->Abort();
          if (close_after) {
            // The peer's close frame ends it (or has already); give it a while.
            if (self->peer_closed_) return self->Abort();
            beast::get_lowest_layer(self->stream_).expires_after(std::chrono::seconds(5));
            return;
          }
          self->WriteNext();
        });
  }

  // Client frames: masked, with a payload of at most 64 KiB (more closes the connection).
  void Read() {
    stream_.async_read_some(rbuf_.prepare(16 * 1024),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Abort();
                              self->rbuf_.commit(n);
                              self->last_read_ = std::chrono::steady_clock::now();
                              if (!self->Parse()) return self->Abort();
                              self->Read();
                            });
  }

  // Handles the complete frames in rbuf_; false when the connection must close.
  bool Parse() {
    for (;;) {
      auto data = rbuf_.data();
      internal::ClientFrame f = internal::ReadClientFrame(
          std::span(static_cast<const uint8_t*>(data.data()), data.size()));
      if (f.state == internal::ClientFrame::State::kInvalid) return false;
      if (f.state == internal::ClientFrame::State::kIncomplete) return true;
      if (f.opcode == 0x8) {
        peer_closed_ = true;
        rbuf_.consume(f.size);
        if (!closing_) {
          Close(1000, "");  // answered, then closed
          return true;
        }
        return writing_;  // our close frame went out: done (else it closes once written)
      }
      if (f.opcode == 0x9 && !closing_) {  // ping: pong with its (unmasked) payload
        queue_.push_front(
            Frame{0xA, std::make_shared<const std::string>(internal::UnmaskedPayload(f))});
        WriteNext();
      }
      rbuf_.consume(f.size);
    }
  }

  // Keep-alive: a ping after half the idle timeout without a byte from the client, closed after
  // the whole timeout.
  void Tick() {
    if (options_.idle_timeout.count() <= 0) return;
    timer_.expires_after(options_.idle_timeout / 2);
    timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->done_.load()) return;
      auto idle = std::chrono::steady_clock::now() - self->last_read_;
      if (idle >= self->options_.idle_timeout) return self->Abort();
      if (idle >= self->options_.idle_timeout / 2 && !self->closing_) {
        self->queue_.push_back(Frame{0x9, std::make_shared<const std::string>()});
        self->WriteNext();
      }
      self->Tick();
    });
  }

  void Abort() {
    failed_ = true;
    beast::error_code ignored;
    timer_.cancel();
    beast::get_lowest_layer(stream_).socket().close(ignored);
    if (done_.exchange(true)) return;
    if (options_.on_close) options_.on_close();
  }

  Server::Impl& srv_;
  Stream stream_;
  asio::steady_timer timer_;
  WebSocketOptions options_;
  std::optional<websocket::stream<Stream&>> handshake_;
  beast::flat_buffer rbuf_;
  // On the strand:
  std::deque<Frame> queue_;
  std::vector<uint8_t> headers_;
  std::vector<asio::const_buffer> buffers_;
  std::vector<std::shared_ptr<const std::string>> sending_;
  size_t sending_bytes_ = 0;
  std::chrono::steady_clock::time_point last_read_{};
  bool open_ = false;
  bool deflate_ = false;  // permessage-deflate negotiated (set before the session is shared)
  bool writing_ = false;
  bool closing_ = false;
  bool peer_closed_ = false;
  std::atomic<size_t> buffered_{0};
  std::atomic<bool> failed_{false};
  std::atomic<bool> done_{false};
};

template <typename Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Server::Impl& srv, Stream stream, std::string remote)
      : srv_(srv), stream_(std::move(stream)), remote_(std::move(remote)) {
    srv_.connections.fetch_add(1);
  }
  ~Session() override {
    srv_.connections.fetch_sub(1);
    srv_.Unregister(this);
  }

  void Run() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(srv_.opt.header_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->Close(false);
                                self->DoRead();
                              });
    } else {
      DoRead();
    }
  }

  void CloseIfIdle() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->idle_) beast::get_lowest_layer(self->stream_).cancel();
    });
  }

  void CloseIfWaiting() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->waiting_) beast::get_lowest_layer(self->stream_).cancel();
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  void DoRead() {
    if (srv_.stopping.load()) return Close(false);
    if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
    idle_ = true;
    waiting_ = true;
    srv_.SetIdle(*this, true);
    beast::get_lowest_layer(stream_).expires_after(srv_.opt.idle_timeout);
    stream_.async_read_some(buffer_.prepare(16 * 1024),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->idle_ = false;
                              // Still waiting for the client (the rest of the request): stays
                              // in the list that ShedIdle takes from, until Dispatch.
                              if (ec) return self->Close(false);
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    idle_ = false;
    waiting_ = true;
    srv_.SetIdle(*this, true);
    head_ = false;
    method_ = "-";
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(srv_.opt.max_header_bytes));
    // The body limit is checked once the headers are in (OnHeader), so that an oversize
    // Content-Length is answered in the shape of the route it was sent to.
    parser_->body_limit(boost::none);
    beast::get_lowest_layer(stream_).expires_after(srv_.opt.header_timeout);
    ScanHead();
  }

  // Reads until the whole request head is buffered (within the header timeout and size limit),
  // refuses obs-fold and bare CR/LF in it (internal::CheckRawHead: the parser would accept the
  // first), then parses it.
  void ScanHead() {
    auto data = buffer_.data();
    std::string_view buffered(static_cast<const char*>(data.data()), data.size());
    size_t end = buffered.find("\r\n\r\n");
    // Without the end of the head, everything buffered is head so far: refused as soon as a
    // line of it is bad (a CR at the very end may still get its LF).
    std::string_view head = end == std::string_view::npos ? buffered : buffered.substr(0, end + 2);
    if (end == std::string_view::npos && head.ends_with('\r')) head.remove_suffix(1);
    if (auto bad = internal::CheckRawHead(head)) return Reject("/", *bad);
    if (end == std::string_view::npos) {
      if (buffered.size() > srv_.opt.max_header_bytes + 4) {
        return OnReadError(bhttp::error::header_limit);
      }
      stream_.async_read_some(buffer_.prepare(16 * 1024),
                              [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                                if (ec) return self->OnReadError(ec);
                                self->buffer_.commit(n);
                                self->ScanHead();
                              });
      return;
    }
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  // The headers are in, the body is not read yet: refuse what must be refused before reading it
  // (bad framing, a missing Host, an unknown route, a failed pre-body check), then read it.
  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    const Request& h = parser_->get();
    method_ = internal::MethodLabel(h.method());
    head_ = h.method() == bhttp::verb::head;
    keep_alive_ = h.keep_alive();
    internal::Target target = internal::SplitTarget(View(h.target()));
    if (auto bad = internal::CheckHeaderCount(h, srv_.opt.max_header_fields)) {
      return Reject(target.path, *bad);
    }
    if (auto bad = internal::CheckFraming(h)) return Reject(target.path, *bad);
    if (auto bad = internal::CheckHost(h)) return Reject(target.path, *bad);
    if (auto bad = internal::CheckPath(target.path)) return Reject(target.path, *bad);
    match_ = srv_.router.Find(h.method(), target.path);
    body_limit_ = match_.handler && match_.max_body_bytes > 0 ? match_.max_body_bytes
                                                              : srv_.opt.max_body_bytes;
    auto cl = parser_->content_length();
    if (cl && *cl > body_limit_) return OnReadError(bhttp::error::body_limit);
    parser_->body_limit(body_limit_);  // chunked bodies are cut off while read
    checked_.reset();
    bool body_pending = !parser_->is_done();
    if (!match_.handler) {
      // Nothing to read: answered as usual, keeping the connection. Otherwise answered at once,
      // and the unread body closes the connection.
      if (!body_pending) return ReadBody();
      route_ = "unmatched";
      return AnswerEarly(RouteError(target.path));
    }
    if (body_pending && match_.check) {
      HttpRequest peek{h, target.path, target.query, match_.params, remote_, ""};
      if (std::optional<Response> refusal = (*match_.check)(peek)) {
        route_ = *match_.pattern;
        return AnswerEarly(std::move(*refusal));
      }
      checked_ = std::move(peek.checked);
    }
    if (body_pending && h.version() >= 11 &&
        EqualsIgnoringCase(Trim(View(h[bhttp::field::expect])), "100-continue")) {
      continue_.emplace(bhttp::status::continue_, 11);
      beast::get_lowest_layer(stream_).expires_after(srv_.opt.write_timeout);
      bhttp::async_write(stream_, *continue_,
                         [self = this->shared_from_this()](beast::error_code ec, size_t) {
                           if (ec) return self->Close(false);
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    beast::get_lowest_layer(stream_).expires_after(srv_.opt.body_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->OnReadError(ec);
                        self->Dispatch();
                      });
  }

  // 404, or 405 with the path's methods in Allow.
  Response RouteError(std::string_view path) {
    if (!match_.path_known) {
      return srv_.RenderError(path, NotFound(fmt::format("no route for {} {}", method_, path)));
    }
    Response res = srv_.RenderError(
        path, InvalidArgument(fmt::format(
                  "method {} is not allowed on {}",
                  View(parser_ ? parser_->get().method_string() : req_.method_string()), path)));
    res.result(bhttp::status::method_not_allowed);
    res.set(bhttp::field::allow, match_.allow);
    return res;
  }

  void Reject(std::string_view path, const internal::Rejection& bad) {
    Response res = srv_.RenderError(path, bad.error);
    res.result(bad.status);
    route_ = "malformed";
    AnswerEarly(std::move(res));
  }

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::eof || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset) {
      return Close(false);
    }
    std::string path;
    if (parser_ && parser_->is_header_done()) {
      path = std::string(internal::SplitTarget(View(parser_->get().target())).path);
    }
    Response res;
    if (ec == bhttp::error::body_limit) {
      res = srv_.RenderError(
          path, ResourceExhausted(
                    fmt::format("request body is larger than the limit of {} bytes", body_limit_)));
      // 413, unless the renderer chose its own status (PagerDuty's senders expect 400).
      if (res.result() == HttpStatusFor(StatusCode::kResourceExhausted)) {
        res.result(bhttp::status::payload_too_large);
      }
    } else if (ec == bhttp::error::header_limit) {
      res = ErrorResponse(ResourceExhausted(fmt::format(
          "request headers are larger than the limit of {} bytes", srv_.opt.max_header_bytes)));
      res.result(bhttp::status::request_header_fields_too_large);
    } else {
      res = srv_.RenderError(path, InvalidArgument("malformed HTTP request: " + ec.message()));
    }
    route_ = "malformed";
    method_ = "-";
    AnswerEarly(std::move(res));
  }

  // Answers without reading the rest of the request, then closes the connection.
  void AnswerEarly(Response res) {
    waiting_ = false;
    srv_.SetIdle(*this, false);
    srv_.in_flight.fetch_add(1);
    started_ = std::chrono::steady_clock::now();
    force_close_ = true;
    Write(std::move(res));
  }

  void Dispatch() {
    waiting_ = false;
    srv_.SetIdle(*this, false);
    req_ = parser_->release();
    parser_.reset();
    started_ = std::chrono::steady_clock::now();
    srv_.in_flight.fetch_add(1);
    internal::Target target = internal::SplitTarget(View(req_.target()));
    if (!match_.handler) {
      route_ = "unmatched";
      return Write(RouteError(target.path));
    }
    route_ = *match_.pattern;
    std::string request_id(req_["X-Request-Id"]);
    if (request_id.empty() || request_id.size() > 128) {
      request_id = fmt::format("{:x}", srv_.next_request_id.fetch_add(1));
    }
    request_.emplace(HttpRequest{req_, target.path, target.query, std::move(match_.params), remote_,
                                 std::move(request_id)});
    request_->checked = std::move(checked_);
    if (IsWebSocketUpgrade(req_)) {
      request_->accept_websocket = [weak = this->weak_from_this()](WebSocketOptions options,
                                                                   WebSocketOpen on_open) {
        auto self = weak.lock();
        if (!self) return;
        asio::post(self->stream_.get_executor(),
                   [self, options = std::move(options), on_open = std::move(on_open)]() mutable {
                     self->Upgrade(std::move(options), std::move(on_open));
                   });
      };
    }
    Responder respond = [self = this->shared_from_this()](Response res) mutable {
      asio::post(self->stream_.get_executor(),
                 [self, res = std::move(res)]() mutable { self->Write(std::move(res)); });
    };
    try {
      (*match_.handler)(*request_, std::move(respond));
    } catch (const std::exception& e) {
      // Our handlers do not throw; a library exception that escaped an adapter is a bug.
      spdlog::error("handler for {} threw: {}", route_, e.what());
      Write(ErrorResponse(Internal("internal error")));
    }
  }

  // Hands the connection to a WebSocket session, which answers 101 (see
  // HttpRequest::accept_websocket).
  void Upgrade(WebSocketOptions options, WebSocketOpen on_open) {
    if (closed_) return;
    closed_ = true;  // the stream moves to the WebSocket session
    srv_.in_flight.fetch_sub(1);
    srv_.metrics.Add("houston_http_requests_total",
                     fmt::format("route=\"{}\",method=\"{}\",code=\"101\"", route_, method_));
    auto ws = std::make_shared<WsSession<Stream>>(srv_, std::move(stream_), std::move(options));
    srv_.Register(ws);
    ws->Accept(std::move(req_), std::move(on_open));
    request_.reset();
  }

  void Write(Response res) {
    srv_.in_flight.fetch_sub(1);
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    unsigned code = res.result_int();
    // A keep-alive connection mostly asks the same route again: its series are kept from the
    // last request and looked up (label strings and the registry's lock) only when they change.
    const bool new_route = !counted_.requests || counted_.route != route_;
    if (new_route || counted_.method != method_ || counted_.code != code) {
      if (new_route) {
        counted_.duration = &srv_.metrics.HistogramOf("houston_http_request_duration_seconds",
                                                      fmt::format("route=\"{}\"", route_));
      }
      counted_.requests = &srv_.metrics.Counter(
          "houston_http_requests_total",
          fmt::format("route=\"{}\",method=\"{}\",code=\"{}\"", route_, method_, code));
      counted_.route = route_;
      counted_.method = method_;
      counted_.code = code;
    }
    counted_.requests->fetch_add(1, std::memory_order_relaxed);
    counted_.duration->Observe(secs);
    bool keep_alive = !force_close_ && keep_alive_ && !srv_.stopping.load();
    res.version(11);
    res.keep_alive(keep_alive);
    res.set(bhttp::field::server, "houston");
    // A handler may answer with its own request id (Opsgenie's API: its requestId).
    if (request_ && res.find("X-Request-Id") == res.end()) {
      res.set("X-Request-Id", request_->request_id);
    }
    res.prepare_payload();
    // A HEAD answer is the GET answer's headers (Content-Length included) without its body.
    if (head_) res.body().clear();
    res_ = std::move(res);
    beast::get_lowest_layer(stream_).expires_after(srv_.opt.write_timeout);
    bhttp::async_write(stream_, res_,
                       [self = this->shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                         self->request_.reset();
                         if (ec) return self->Close(false);
                         if (!keep_alive) return self->Close(self->force_close_);
                         self->DoRead();
                       });
  }

  // `linger`: the client may still be sending a request we did not read (see kLinger).
  void Close(bool linger) {
    if (closed_) return;
    closed_ = true;
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().close(ignored);
      });
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      if (!linger || srv_.stopping.load()) return stream_.socket().close(ignored);
      buffer_.clear();
      stream_.expires_after(kLinger);
      Drain();
    }
  }

  void Drain() {
    stream_.async_read_some(buffer_.prepare(16 * 1024),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kLingerBytes) {
                                beast::error_code ignored;
                                self->stream_.socket().close(ignored);
                                return;
                              }
                              self->Drain();
                            });
  }

  Server::Impl& srv_;
  Stream stream_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  Router::Match match_;
  std::shared_ptr<const void> checked_;  // what match_.check left for the handler
  Request req_;
  std::optional<HttpRequest> request_;
  Response res_;
  std::string route_ = "unmatched";
  std::string_view method_;  // a static label
  // The metric series of the last answer (Write), for the next one on this connection.
  struct Counted {
    std::string route;
    std::string_view method;
    unsigned code = 0;
    std::atomic<uint64_t>* requests = nullptr;
    Histogram* duration = nullptr;  // set with `requests`
  } counted_;
  std::chrono::steady_clock::time_point started_;
  size_t drained_ = 0;
  bool idle_ = false;      // waiting for the first byte of a request
  bool waiting_ = false;   // waiting for the client: idle, or a request still arriving
  size_t body_limit_ = 0;  // the body limit of the request being read
  bool head_ = false;
  bool keep_alive_ = false;
  bool closed_ = false;
  bool force_close_ = false;
};

}  // namespace

TextFrames::TextFrames(std::vector<std::shared_ptr<const std::string>> messages)
    : messages_(std::move(messages)) {
  size_t n = 0;
  for (const auto& m : messages_) n += m->size() + 10;
  wire_.reserve(n);
  uint8_t header[10];
  for (const auto& m : messages_) {
    size_t h = FrameHeader(header, 0x1, m->size());
    wire_.append(reinterpret_cast<const char*>(header), h);
    wire_ += *m;
  }
}

const std::string& TextFrames::deflated_wire() const {
  std::call_once(deflated_once_, [this] {
    namespace zlib = beast::zlib;
    zlib::deflate_stream z;
    z.reset(6, 15, 8, zlib::Strategy::normal);
    std::string body;
    uint8_t header[10];
    for (const auto& m : messages_) {
      // RFC 7692 7.2.1: DEFLATE, ended by a sync flush whose 00 00 ff ff tail is left out.
      body.clear();
      zlib::z_params zs;
      zs.next_in = m->data();
      zs.avail_in = m->size();
      for (;;) {
        size_t at = body.size();
        body.resize(at + m->size() + 64);
        zs.next_out = body.data() + at;
        zs.avail_out = body.size() - at;
        beast::error_code ec;
        z.write(zs, zlib::Flush::sync, ec);
        body.resize(body.size() - zs.avail_out);
        if (ec == zlib::error::need_buffers) ec = {};
        if (ec || (zs.avail_in == 0 && zs.avail_out > 0)) break;
      }
      if (body.size() >= 4 && body.compare(body.size() - 4, 4, "\0\0\xff\xff", 4) == 0) {
        body.resize(body.size() - 4);
      }
      size_t h = FrameHeader(header, 0x1, body.size());
      header[0] |= 0x40;  // RSV1: compressed
      deflated_wire_.append(reinterpret_cast<const char*>(header), h);
      deflated_wire_ += body;
    }
  });
  return deflated_wire_;
}

bool IsWebSocketUpgrade(const Request& req) {
  return req.method() == bhttp::verb::get && beast::websocket::is_upgrade(req);
}

template <typename Stream>
void Server::Impl::StartSession(Stream stream, std::string remote) {
  auto session = std::make_shared<Session<Stream>>(*this, std::move(stream), std::move(remote));
  Register(session);
  session->Run();
}

void Server::Impl::Accept() {
  // The handler runs on the acceptor's strand; each connection gets a strand of its own.
  acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void Server::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping.load() || ec == asio::error::operation_aborted) return;
  auto now = std::chrono::steady_clock::now();
  if (ec == asio::error::connection_aborted || ec == asio::error::connection_reset) {
    return Accept();  // the client gave up before it was accepted
  }
  if (ec) {
    // Retrying at once would spin (the pending connection stays ready) and log per failure.
    metrics.Add("houston_http_accept_errors_total", "");
    auto pause = accept_backoff.Failed(now);
    if (pause.log_failures > 0) {
      spdlog::warn(
          "accepting connections failed {} time(s): {} ({} connections open, max_connections "
          "{}); pausing accepts for up to {} ms at a time",
          pause.log_failures, ec.message(), connections.load(), max_connections,
          internal::AcceptBackoff::kMaxPause.count());
    }
    // Out of descriptors: an idle connection gives one back.
    if (OutOfResources(ec)) ShedIdle();
    accept_timer->expires_after(pause.delay);
    accept_timer->async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && !stopping.load()) Accept();
    });
    return;
  }
  if (uint64_t failed = accept_backoff.Succeeded(now)) {
    spdlog::info("accepting connections again after {} failed accept(s)", failed);
  }
  if (connections.load() >= max_connections && !ShedIdle()) {
    metrics.Add("houston_http_connections_refused_total", "");
    if (uint64_t n = refuse_log.Event(now)) {
      spdlog::warn("refused {} connection(s): {} connections open, none idle (max_connections {})",
                   n, connections.load(), max_connections);
    }
    beast::error_code ignored;
    socket.close(ignored);
    return Accept();
  }
  beast::error_code rec;
  auto ep = socket.remote_endpoint(rec);
  std::string remote = rec ? "?" : ep.address().to_string();
  socket.set_option(tcp::no_delay(true), rec);
  if (ssl) {
    StartSession(beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *ssl),
                 std::move(remote));
  } else {
    StartSession(beast::tcp_stream(std::move(socket)), std::move(remote));
  }
  Accept();
}

Server::Server(ServerOptions options, Router router, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router), metrics)) {}

Server::~Server() {
  if (!impl_->threads.empty()) Shutdown();
}

size_t Server::in_flight() const { return impl_->in_flight.load(); }

size_t Server::idle_connections() const {
  std::lock_guard lock(impl_->sessions_mu);
  return impl_->idle.size();
}

Result<uint16_t> Server::Start() {
  Impl& s = *impl_;
  beast::error_code ec;
  if (!s.opt.tls_cert_file.empty() || !s.opt.tls_key_file.empty()) {
    if (s.opt.tls_cert_file.empty() || s.opt.tls_key_file.empty()) {
      return std::unexpected(InvalidArgument("--tls-cert and --tls-key must be given together"));
    }
    s.ssl.emplace(asio::ssl::context::tls_server);
    s.ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                       ec);
    s.ssl->use_certificate_chain_file(s.opt.tls_cert_file, ec);
    if (ec) {
      return std::unexpected(InvalidArgument(
          fmt::format("cannot load TLS certificate {}: {}", s.opt.tls_cert_file, ec.message())));
    }
    s.ssl->use_private_key_file(s.opt.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) {
      return std::unexpected(InvalidArgument(
          fmt::format("cannot load TLS key {}: {}", s.opt.tls_key_file, ec.message())));
    }
  }
  std::string host = s.opt.host == "localhost" ? "127.0.0.1" : s.opt.host;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) {
    return std::unexpected(InvalidArgument(
        fmt::format("cannot listen on '{}': not an IP address ({})", s.opt.host, ec.message())));
  }
  std::optional<size_t> fd_limit = internal::RaiseOpenFileLimit();
  s.max_connections = internal::ConnectionBound(s.opt.max_connections, fd_limit);
  if (s.max_connections < s.opt.max_connections) {
    spdlog::warn(
        "holding at most {} connections (max_connections {}): the open-file limit is {} "
        "(raise it with ulimit -n or systemd's LimitNOFILE)",
        s.max_connections, s.opt.max_connections, fd_limit.value_or(0));
  }
  tcp::endpoint ep(addr, s.opt.port);
  s.acceptor.emplace(asio::make_strand(s.ioc));
  s.acceptor->open(ep.protocol(), ec);
  if (!ec) s.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(ep, ec);
  if (!ec) s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return std::unexpected(Unavailable(
        fmt::format("cannot listen on {}:{}: {}", s.opt.host, s.opt.port, ec.message())));
  }
  s.accept_timer.emplace(s.acceptor->get_executor());
  for (const char* name :
       {"houston_http_accept_errors_total", "houston_http_connections_shed_total",
        "houston_http_connections_refused_total"}) {
    s.metrics.Add(name, "", 0);  // present from the start
  }
  s.metrics.Describe("houston_http_accept_errors_total", "counter",
                     "Accepts that failed (out of file descriptors or memory); the accept loop "
                     "then pauses, up to 1 s.");
  s.metrics.Describe("houston_http_connections_shed_total", "counter",
                     "Connections closed to make room for new ones: idle, or sending a request "
                     "slowly (the one waiting longest on its client goes first).");
  s.metrics.Describe("houston_http_connections_refused_total", "counter",
                     "Connections closed at once: max_connections open and none idle.");
  uint16_t port = s.acceptor->local_endpoint().port();
  s.work.emplace(s.ioc.get_executor());
  asio::post(s.acceptor->get_executor(), [&s] { s.Accept(); });
  for (int i = 0; i < s.opt.threads; ++i) {
    s.threads.emplace_back([&s] {
      NameThisThread("http-io");
      s.ioc.run();
    });
  }
  return port;
}

void Server::Shutdown() {
  Impl& s = *impl_;
  if (s.stopping.exchange(true)) {
    Wait();
    return;
  }
  if (s.acceptor) {
    asio::post(s.acceptor->get_executor(), [&s] {
      beast::error_code ignored;
      s.acceptor->close(ignored);
      if (s.accept_timer) s.accept_timer->cancel();
    });
  }
  // Take references under the lock, act and drop them after it: a dropped last reference runs
  // the session's destructor, which takes sessions_mu.
  std::vector<std::shared_ptr<SessionBase>> open;
  {
    std::lock_guard lock(s.sessions_mu);
    open.reserve(s.sessions.size());
    for (auto& [ptr, weak] : s.sessions) {
      if (auto sp = weak.lock()) open.push_back(std::move(sp));
    }
  }
  for (auto& session : open) session->CloseIfIdle();
  open.clear();
  auto deadline = std::chrono::steady_clock::now() + s.opt.shutdown_grace;
  // Bounded wait for in-flight requests (their answers depend on store commits).
  while (s.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Let the final writes go out, then stop.
  auto write_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (s.connections.load() > 0 && std::chrono::steady_clock::now() < write_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) {
    if (t.joinable()) t.join();
  }
  s.threads.clear();
  {
    std::lock_guard lock(s.done_mu);
    s.done = true;
  }
  s.done_cv.notify_all();
}

void Server::Wait() {
  std::unique_lock lock(impl_->done_mu);
  impl_->done_cv.wait(lock, [&] { return impl_->done; });
}

}  // namespace houston::http
