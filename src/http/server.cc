#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <thread>
#include <unordered_map>

#include "http/http.h"

namespace houston::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void CloseIfIdle() = 0;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, Router r, Metrics& m)
      : opt(std::move(o)), router(std::move(r)), metrics(m), ioc(std::max(1, opt.threads)) {}

  ServerOptions opt;
  Router router;
  Metrics& metrics;
  asio::io_context ioc;
  std::optional<asio::ssl::context> ssl;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<size_t> connections{0};
  std::atomic<size_t> in_flight{0};
  std::atomic<uint64_t> next_request_id{1};
  std::atomic<bool> stopping{false};

  std::mutex sessions_mu;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;  // guarded

  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;  // guarded by done_mu

  Response RenderError(std::string_view path, const Status& st) {
    return opt.error_renderer ? opt.error_renderer(path, st) : ErrorResponse(st);
  }
  void Accept();
  template <typename Stream>
  void StartSession(Stream stream, std::string remote);
};

namespace {

template <typename Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Server::Impl& srv, Stream stream, std::string remote)
      : srv_(srv), stream_(std::move(stream)), remote_(std::move(remote)) {
    srv_.connections.fetch_add(1);
  }
  ~Session() override {
    srv_.connections.fetch_sub(1);
    std::lock_guard lock(srv_.sessions_mu);
    srv_.sessions.erase(this);
  }

  void Run() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(srv_.opt.header_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->Close();
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

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  void DoRead() {
    if (srv_.stopping.load()) return Close();
    if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
    idle_ = true;
    beast::get_lowest_layer(stream_).expires_after(srv_.opt.idle_timeout);
    stream_.async_read_some(buffer_.prepare(16 * 1024),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->idle_ = false;
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    idle_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(srv_.opt.max_header_bytes));
    // The body limit is checked once the headers are in (OnHeader), so that an oversize
    // Content-Length is answered in the shape of the route it was sent to.
    parser_->body_limit(boost::none);
    beast::get_lowest_layer(stream_).expires_after(srv_.opt.header_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    const auto& h = parser_->get();
    auto cl = parser_->content_length();
    if (cl && *cl > srv_.opt.max_body_bytes) {
      return OnReadError(bhttp::error::body_limit);
    }
    parser_->body_limit(srv_.opt.max_body_bytes);  // chunked bodies are cut off while read
    if (beast::iequals(Trim(h[bhttp::field::expect]), "100-continue")) {
      continue_.emplace(bhttp::status::continue_, h.version());
      beast::get_lowest_layer(stream_).expires_after(srv_.opt.write_timeout);
      bhttp::async_write(stream_, *continue_,
                         [self = this->shared_from_this()](beast::error_code ec, size_t) {
                           if (ec) return self->Close();
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

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::eof || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset) {
      return Close();
    }
    std::string path;
    if (parser_ && parser_->is_header_done()) path = std::string(parser_->get().target());
    Response res;
    if (ec == bhttp::error::body_limit) {
      res = srv_.RenderError(
          path, ResourceExhausted(fmt::format("request body is larger than the limit of {} bytes",
                                              srv_.opt.max_body_bytes)));
      res.result(bhttp::status::payload_too_large);
      if (path.starts_with("/v2/")) res.result(bhttp::status::bad_request);  // PagerDuty's way
    } else if (ec == bhttp::error::header_limit) {
      res = ErrorResponse(ResourceExhausted(fmt::format(
          "request headers are larger than the limit of {} bytes", srv_.opt.max_header_bytes)));
      res.result(bhttp::status::request_header_fields_too_large);
    } else {
      res = srv_.RenderError(path, InvalidArgument("malformed HTTP request: " + ec.message()));
    }
    route_ = "malformed";
    method_ = "-";
    srv_.in_flight.fetch_add(1);
    started_ = std::chrono::steady_clock::now();
    force_close_ = true;
    Write(std::move(res));
  }

  void Dispatch() {
    req_ = parser_->release();
    parser_.reset();
    started_ = std::chrono::steady_clock::now();
    srv_.in_flight.fetch_add(1);
    std::string_view target = req_.target();
    std::string_view path = target, query;
    if (auto q = target.find('?'); q != std::string_view::npos) {
      path = target.substr(0, q);
      query = target.substr(q + 1);
    }
    method_ = std::string(req_.method_string());
    auto match = srv_.router.Find(req_.method(), path);
    if (!match.handler) {
      route_ = "unmatched";
      Status st = match.path_known
                      ? Status(StatusCode::kInvalidArgument,
                               fmt::format("method {} is not allowed on {}", method_, path))
                      : NotFound(fmt::format("no route for {} {}", method_, path));
      Response res = srv_.RenderError(path, st);
      if (match.path_known) res.result(bhttp::status::method_not_allowed);
      return Write(std::move(res));
    }
    route_ = *match.pattern;
    std::string request_id(req_["X-Request-Id"]);
    if (request_id.empty() || request_id.size() > 128) {
      request_id = fmt::format("{:x}", srv_.next_request_id.fetch_add(1));
    }
    request_.emplace(
        HttpRequest{req_, path, query, std::move(match.params), remote_, std::move(request_id)});
    Responder respond = [self = this->shared_from_this()](Response res) mutable {
      asio::post(self->stream_.get_executor(),
                 [self, res = std::move(res)]() mutable { self->Write(std::move(res)); });
    };
    try {
      (*match.handler)(*request_, std::move(respond));
    } catch (const std::exception& e) {
      // Our handlers do not throw; a library exception that escaped an adapter is a bug.
      spdlog::error("handler for {} threw: {}", route_, e.what());
      Write(ErrorResponse(Internal("internal error")));
    }
  }

  void Write(Response res) {
    srv_.in_flight.fetch_sub(1);
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    unsigned code = res.result_int();
    srv_.metrics.Add("houston_http_requests_total",
                     fmt::format("route=\"{}\",method=\"{}\",code=\"{}\"", route_, method_, code));
    srv_.metrics.Observe("houston_http_request_duration_seconds",
                         fmt::format("route=\"{}\"", route_), secs);
    bool keep_alive = !force_close_ && req_.keep_alive() && !srv_.stopping.load();
    res.version(11);
    res.keep_alive(keep_alive);
    res.set(bhttp::field::server, "houston");
    if (request_) res.set("X-Request-Id", request_->request_id);
    res.prepare_payload();
    res_ = std::move(res);
    beast::get_lowest_layer(stream_).expires_after(srv_.opt.write_timeout);
    bhttp::async_write(stream_, res_,
                       [self = this->shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                         self->request_.reset();
                         if (ec || !keep_alive) return self->Close();
                         self->DoRead();
                       });
  }

  void Close() {
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
      stream_.socket().close(ignored);
    }
  }

  Server::Impl& srv_;
  Stream stream_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  Request req_;
  std::optional<HttpRequest> request_;
  Response res_;
  std::string route_ = "unmatched";
  std::string method_;
  std::chrono::steady_clock::time_point started_;
  bool idle_ = false;
  bool closed_ = false;
  bool force_close_ = false;
};

}  // namespace

template <typename Stream>
void Server::Impl::StartSession(Stream stream, std::string remote) {
  auto session = std::make_shared<Session<Stream>>(*this, std::move(stream), std::move(remote));
  {
    std::lock_guard lock(sessions_mu);
    sessions[session.get()] = session;
  }
  session->Run();
}

void Server::Impl::Accept() {
  acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping.load()) return;
      spdlog::warn("accept failed: {}", ec.message());
    } else if (connections.load() >= opt.max_connections) {
      spdlog::warn("refusing connection: {} connections open (max_connections)",
                   connections.load());
      beast::error_code ignored;
      s.close(ignored);
    } else {
      beast::error_code rec;
      auto ep = s.remote_endpoint(rec);
      std::string remote = rec ? "?" : ep.address().to_string();
      s.set_option(tcp::no_delay(true), rec);
      if (ssl) {
        StartSession(beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(s)), *ssl),
                     std::move(remote));
      } else {
        StartSession(beast::tcp_stream(std::move(s)), std::move(remote));
      }
    }
    if (!stopping.load()) Accept();
  });
}

Server::Server(ServerOptions options, Router router, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router), metrics)) {}

Server::~Server() {
  if (!impl_->threads.empty()) Shutdown();
}

size_t Server::in_flight() const { return impl_->in_flight.load(); }

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
  tcp::endpoint ep(addr, s.opt.port);
  s.acceptor.emplace(s.ioc);
  s.acceptor->open(ep.protocol(), ec);
  if (!ec) s.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(ep, ec);
  if (!ec) s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return std::unexpected(Unavailable(
        fmt::format("cannot listen on {}:{}: {}", s.opt.host, s.opt.port, ec.message())));
  }
  uint16_t port = s.acceptor->local_endpoint().port();
  s.work.emplace(s.ioc.get_executor());
  s.Accept();
  for (int i = 0; i < std::max(1, s.opt.threads); ++i) {
    s.threads.emplace_back([&s] { s.ioc.run(); });
  }
  return port;
}

void Server::Shutdown() {
  Impl& s = *impl_;
  if (s.stopping.exchange(true)) {
    Wait();
    return;
  }
  asio::post(s.ioc, [&s] {
    beast::error_code ignored;
    if (s.acceptor) s.acceptor->close(ignored);
  });
  {
    std::lock_guard lock(s.sessions_mu);
    for (auto& [ptr, weak] : s.sessions) {
      if (auto sp = weak.lock()) sp->CloseIfIdle();
    }
  }
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
