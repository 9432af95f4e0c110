// The server's WebSocket side (HttpRequest::accept_websocket), over loopback with a Beast client.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/zlib/inflate_stream.hpp>
#include <future>
#include <memory>

#include "http/http.h"
#include "http/internal/ws_frames.h"

namespace houston::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// A server whose /ws route accepts WebSocket upgrades with `options` and hands the socket over.
class WebSocketServerTest : public ::testing::Test {
 protected:
  void Start(WebSocketOptions options) {
    Router router;
    router.Add(bhttp::verb::get, "/ws", [this, options](const HttpRequest& req, Responder respond) {
      if (!req.accept_websocket) {
        return respond(JsonResponse(bhttp::status::ok, R"({"plain":true})"));
      }
      WebSocketOptions o = options;
      o.on_close = [this] {
        if (closes_.fetch_add(1) == 0) closed_.set_value();  // the first one
      };
      req.accept_websocket(o, [this](std::shared_ptr<WebSocket> ws) { opened_.set_value(ws); });
    });
    ServerOptions so;
    so.port = 0;
    so.shutdown_grace = std::chrono::milliseconds(2000);
    server_ = std::make_unique<Server>(so, std::move(router), metrics_);
    auto port = server_->Start();
    ASSERT_TRUE(port) << port.error().ToString();
    port_ = *port;
  }

  // A connected client (handshake done) and the server's side of it. `res`: the handshake's
  // answer.
  std::shared_ptr<WebSocket> Connect(websocket::stream<tcp::socket>& client, int rcvbuf = 0,
                                     websocket::response_type* res = nullptr) {
    if (rcvbuf > 0) {
      client.next_layer().open(tcp::v4());
      client.next_layer().set_option(asio::socket_base::receive_buffer_size(rcvbuf));
    }
    client.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    websocket::response_type ignored;
    client.handshake(res ? *res : ignored, "127.0.0.1", "/ws");
    auto f = opened_.get_future();
    EXPECT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    auto ws = f.get();
    opened_ = {};  // for the next client
    return ws;
  }

  static std::shared_ptr<const std::string> Text(std::string s) {
    return std::make_shared<const std::string>(std::move(s));
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  Metrics metrics_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  asio::io_context ioc_;
  std::promise<std::shared_ptr<WebSocket>> opened_;
  std::promise<void> closed_;
  std::atomic<int> closes_{0};
};

TEST_F(WebSocketServerTest, SendsTextMessagesInOrderAndClosesWithAFrame) {
  Start({});
  websocket::stream<tcp::socket> client(ioc_);
  auto ws = Connect(client);
  ASSERT_TRUE(ws);
  EXPECT_TRUE(ws->Send(Text("one")));
  EXPECT_TRUE(ws->Send(Text("two")));
  ws->Close(1000, "bye");
  beast::flat_buffer buf;
  client.read(buf);
  EXPECT_TRUE(client.got_text());
  EXPECT_EQ(beast::buffers_to_string(buf.data()), "one");
  buf.clear();
  client.read(buf);
  EXPECT_EQ(beast::buffers_to_string(buf.data()), "two");
  beast::error_code ec;
  client.read(buf, ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(client.reason().code, 1000);
  EXPECT_EQ(client.reason().reason, "bye");
  EXPECT_EQ(closed_.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(ws->Send(Text("late")));
}

TEST(TextFramesTest, FramesEachMessageOnceAsAFinalUnmaskedTextFrame) {
  std::vector<std::shared_ptr<const std::string>> messages = {
      std::make_shared<const std::string>("ab"),
      std::make_shared<const std::string>(std::string(300, 'x')),
      std::make_shared<const std::string>(std::string(70'000, 'y'))};
  TextFrames frames(messages);
  EXPECT_EQ(frames.messages(), messages);
  std::string expected =
      "\x81\x02"
      "ab";
  expected += std::string("\x81\x7e\x01\x2c", 4) + std::string(300, 'x');
  expected += std::string("\x81\x7f\0\0\0\0\0\x01\x11\x70", 10) + std::string(70'000, 'y');
  EXPECT_EQ(frames.wire(), expected);
  EXPECT_EQ(TextFrames({}).wire(), "");
}

TEST_F(WebSocketServerTest, SharedFramesGoOutAsOneTextMessageEachInOrder) {
  Start({});
  websocket::stream<tcp::socket> client(ioc_);
  auto ws = Connect(client);
  ASSERT_TRUE(ws);
  auto frames = std::make_shared<const TextFrames>(std::vector<std::shared_ptr<const std::string>>{
      Text("two"), Text(std::string(300, 'x')), Text(std::string(70'000, 'y'))});
  EXPECT_TRUE(ws->Send(Text("one")));
  EXPECT_TRUE(ws->SendFrames(frames));
  EXPECT_TRUE(ws->SendFrames(std::make_shared<const TextFrames>(
      std::vector<std::shared_ptr<const std::string>>{})));  // nothing: sends nothing
  EXPECT_TRUE(ws->SendFrames(frames));                       // the same buffer again
  EXPECT_TRUE(ws->Send(Text("last")));
  ws->Close(1000, "bye");
  std::vector<std::string> got;
  for (;;) {
    beast::flat_buffer buf;
    beast::error_code ec;
    client.read(buf, ec);
    if (ec) {
      EXPECT_EQ(ec, websocket::error::closed);
      break;
    }
    EXPECT_TRUE(client.got_text());
    got.push_back(beast::buffers_to_string(buf.data()));
  }
  const std::string x(300, 'x'), y(70'000, 'y');
  std::vector<std::string> want = {"one", "two", x, y, "two", x, y, "last"};
  EXPECT_EQ(got, want);
  EXPECT_EQ(client.reason().code, 1000);
}

TEST(TextFramesTest, DeflatesEachMessageOnceForClientsThatNegotiatedIt) {
  std::vector<std::shared_ptr<const std::string>> messages;
  for (int i = 0; i < 50; ++i) {
    messages.push_back(std::make_shared<const std::string>(
        R"({"seq":)" + std::to_string(1000 + i) + R"(,"type":"alert.created","id":")" +
        std::to_string(i) + R"(","at":"2026-01-01T00:00:00.000Z"})"));
  }
  TextFrames frames(messages);
  const std::string& z = frames.deflated_wire();
  EXPECT_EQ(&z, &frames.deflated_wire());  // compressed once
  EXPECT_LT(z.size() * 3, frames.wire().size());
  // Each message its own compressed (RSV1) final text frame; one inflater, as a client keeps.
  beast::zlib::inflate_stream inflater;
  inflater.reset(15);
  size_t at = 0;
  for (const auto& m : messages) {
    ASSERT_LT(at + 2, z.size());
    EXPECT_EQ(static_cast<uint8_t>(z[at]), 0xC1);
    size_t n = static_cast<uint8_t>(z[at + 1]);
    ASSERT_LT(n, 126u);
    std::string in = z.substr(at + 2, n) + std::string("\0\0\xff\xff", 4);
    at += 2 + n;
    std::string out(m->size() + 16, '\0');
    beast::zlib::z_params zs;
    zs.next_in = in.data();
    zs.avail_in = in.size();
    zs.next_out = out.data();
    zs.avail_out = out.size();
    beast::error_code ec;
    inflater.write(zs, beast::zlib::Flush::sync, ec);
    EXPECT_FALSE(ec) << ec.message();
    out.resize(out.size() - zs.avail_out);
    EXPECT_EQ(out, *m);
  }
  EXPECT_EQ(at, z.size());
}

TEST_F(WebSocketServerTest, SharedFramesGoOutCompressedToClientsThatOfferDeflate) {
  Start({});
  websocket::permessage_deflate pmd;
  // Offers permessage-deflate; server_max_window_bits=15; client_max_window_bits=15.
  pmd.client_enable = true;
  websocket::stream<tcp::socket> zclient(ioc_), plain(ioc_);
  zclient.set_option(pmd);
  websocket::response_type res;
  auto zws = Connect(zclient, 0, &res);
  ASSERT_TRUE(zws);
  EXPECT_EQ(res[bhttp::field::sec_websocket_extensions],
            "permessage-deflate; server_max_window_bits=15");
  auto pws = Connect(plain, 0, &res);
  ASSERT_TRUE(pws);
  EXPECT_EQ(res[bhttp::field::sec_websocket_extensions], "");
  std::vector<std::shared_ptr<const std::string>> batch;
  for (int i = 0; i < 20; ++i) batch.push_back(Text(R"({"seq":)" + std::to_string(i) + "}"));
  auto frames = std::make_shared<const TextFrames>(batch);
  // Shared by both; uncompressed messages in between, and the same compressed frames again.
  for (auto* ws : {zws.get(), pws.get()}) {
    EXPECT_TRUE(ws->SendFrames(frames));
    EXPECT_TRUE(ws->Send(Text("plain")));
    EXPECT_TRUE(ws->SendFrames(frames));
    ws->Close(1000, "bye");
  }
  std::vector<std::string> want;
  for (int round = 0; round < 2; ++round) {
    for (const auto& m : batch) want.push_back(*m);
    if (round == 0) want.push_back("plain");
  }
  for (auto* client : {&zclient, &plain}) {
    std::vector<std::string> got;
    for (;;) {
      beast::flat_buffer buf;
      beast::error_code ec;
      client->read(buf, ec);
      if (ec) {
        EXPECT_EQ(ec, websocket::error::closed);
        break;
      }
      EXPECT_TRUE(client->got_text());
      got.push_back(beast::buffers_to_string(buf.data()));
    }
    EXPECT_EQ(got, want);
  }
}

TEST_F(WebSocketServerTest, AnOfferThatBindsTheServersCompressorIsDeclined) {
  Start({});
  websocket::permessage_deflate pmd;
  pmd.client_enable = true;
  pmd.server_no_context_takeover = true;
  websocket::stream<tcp::socket> client(ioc_);
  client.set_option(pmd);
  websocket::response_type res;
  auto ws = Connect(client, 0, &res);
  ASSERT_TRUE(ws);
  EXPECT_EQ(res[bhttp::field::sec_websocket_extensions], "");
  EXPECT_TRUE(ws->SendFrames(std::make_shared<const TextFrames>(
      std::vector<std::shared_ptr<const std::string>>{Text("one"), Text("two")})));
  beast::flat_buffer buf;
  client.read(buf);
  EXPECT_EQ(beast::buffers_to_string(buf.data()), "one");
}

TEST_F(WebSocketServerTest, SharedFramesCountTowardsTheBufferBound) {
  WebSocketOptions o;
  o.max_buffered_bytes = 64 * 1024;
  o.socket_send_buffer = 4096;
  Start(o);
  websocket::stream<tcp::socket> client(ioc_);
  auto ws = Connect(client, /*rcvbuf=*/4096);
  ASSERT_TRUE(ws);
  auto frames = std::make_shared<const TextFrames>(
      std::vector<std::shared_ptr<const std::string>>(8, Text(std::string(128, 'x'))));
  int sent = 0;
  while (ws->SendFrames(frames)) {
    ASSERT_LT(++sent, 100'000) << "never cut off";
  }
  EXPECT_FALSE(ws->is_open());
  EXPECT_EQ(closed_.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(ws->SendFrames(frames));
  EXPECT_NE(metrics_.Render().find("houston_websocket_slow_clients_total 1"), std::string::npos);
}

TEST_F(WebSocketServerTest, APlainRequestToTheSameRouteIsAnsweredAsUsual) {
  Start({});
  tcp::socket s(ioc_);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/ws", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  bhttp::write(s, req);
  beast::flat_buffer buf;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(s, buf, res);
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(res.body(), R"({"plain":true})");
}

TEST_F(WebSocketServerTest, AClientThatDoesNotReadIsCutOffWhenItsBufferFills) {
  WebSocketOptions o;
  o.max_buffered_bytes = 64 * 1024;
  o.socket_send_buffer = 4096;
  Start(o);
  websocket::stream<tcp::socket> client(ioc_);
  auto ws = Connect(client, /*rcvbuf=*/4096);
  ASSERT_TRUE(ws);
  // The client never reads: the kernel's buffers fill, then ours; Send never blocks.
  const std::string kilobyte(1024, 'x');
  int sent = 0;
  while (ws->Send(Text(kilobyte))) {
    ASSERT_LT(++sent, 100'000) << "never cut off";
  }
  EXPECT_FALSE(ws->is_open());
  EXPECT_EQ(closed_.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(ws->Send(Text("more")));
  EXPECT_NE(metrics_.Render().find("houston_websocket_slow_clients_total 1"), std::string::npos);
}

TEST_F(WebSocketServerTest, ShutdownSendsGoingAway) {
  Start({});
  websocket::stream<tcp::socket> client(ioc_);
  auto ws = Connect(client);
  ASSERT_TRUE(ws);
  auto reader = std::async(std::launch::async, [&] {
    beast::flat_buffer buf;
    beast::error_code ec;
    client.read(buf, ec);
    return ec;
  });
  server_->Shutdown();
  EXPECT_EQ(reader.get(), websocket::error::closed);
  EXPECT_EQ(client.reason().code, 1001);
}

// ---- client frames and the deflate offer, as bytes (fuzz/websocket_fuzz.cc drives the same) ----

std::vector<uint8_t> Bytes(std::initializer_list<int> v) { return {v.begin(), v.end()}; }

TEST(ClientFrameTest, ReadsAMaskedPingAndUnmasksItsPayload) {
  // FIN|ping, masked, 2 bytes; mask 01 02 03 04; "hi" masked; then the start of another frame.
  auto b = Bytes({0x89, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2, 0x81});
  internal::ClientFrame f = internal::ReadClientFrame(b);
  ASSERT_EQ(f.state, internal::ClientFrame::State::kComplete);
  EXPECT_EQ(f.opcode, 0x9);
  EXPECT_EQ(f.size, 8u);
  EXPECT_EQ(internal::UnmaskedPayload(f), "hi");
}

TEST(ClientFrameTest, WaitsForTheWholeFrameAndRefusesUnmaskedOrHugeOnes) {
  using State = internal::ClientFrame::State;
  EXPECT_EQ(internal::ReadClientFrame(Bytes({0x81})).state, State::kIncomplete);
  EXPECT_EQ(internal::ReadClientFrame(Bytes({0x81, 0xFE, 0x01})).state, State::kIncomplete);
  EXPECT_EQ(internal::ReadClientFrame(Bytes({0x81, 0x83, 1, 2, 3, 4, 0})).state,
            State::kIncomplete);
  EXPECT_EQ(internal::ReadClientFrame(Bytes({0x81, 0x01, 'x'})).state, State::kInvalid);
  EXPECT_EQ(internal::ReadClientFrame(Bytes({0x81, 0xFF, 0, 0, 0, 0, 0, 0, 0, 1})).state,
            State::kInvalid);
  // 126: a 16-bit length, here 65535 (within the 64 KiB bound): held until it is all in.
  EXPECT_EQ(internal::ReadClientFrame(Bytes({0x81, 0xFE, 0xFF, 0xFF, 1, 2, 3, 4})).state,
            State::kIncomplete);
  auto at_bound = Bytes({0x82, 0xFE, 0x01, 0x00, 9, 9, 9, 9});
  at_bound.resize(at_bound.size() + 256);
  internal::ClientFrame f = internal::ReadClientFrame(at_bound);
  ASSERT_EQ(f.state, State::kComplete);
  EXPECT_EQ(f.size, 8u + 256u);
}

// fuzz/regressions/websocket/crash-beast-iequals-overread: Boost 1.81's beast::iequals read a
// byte past both strings when they differed in case; ASan sees it when a view ends a buffer.
TEST(EqualsIgnoringCaseTest, ComparesAsciiCaseInsensitivelyWithinTheViews) {
  std::string owned = "Permessage-Deflate";
  auto exact = std::make_unique<char[]>(owned.size());  // no byte after the view to read
  std::copy(owned.begin(), owned.end(), exact.get());
  std::string_view v(exact.get(), owned.size());
  EXPECT_TRUE(EqualsIgnoringCase(v, "permessage-deflate"));
  EXPECT_TRUE(EqualsIgnoringCase("permessage-deflate", v));
  EXPECT_FALSE(EqualsIgnoringCase(v, "permessage-deflatE!"));
  EXPECT_FALSE(EqualsIgnoringCase(v, "permessage-deflatf"));
  EXPECT_TRUE(EqualsIgnoringCase("", ""));
  EXPECT_FALSE(EqualsIgnoringCase("\xC3\xA9", "\xC3\x89"));  // ASCII only: é is not É
}

TEST(AcceptDeflateTest, AnswersTheFirstOfferThatLeavesTheServersCompressorFree) {
  EXPECT_EQ(internal::AcceptDeflate("permessage-deflate; client_max_window_bits"),
            "permessage-deflate");
  EXPECT_EQ(
      internal::AcceptDeflate("permessage-deflate; server_max_window_bits=10, permessage-deflate; "
                              "server_max_window_bits=\"15\""),
      "permessage-deflate; server_max_window_bits=15");
  EXPECT_EQ(internal::AcceptDeflate("permessage-deflate; server_no_context_takeover"),
            std::nullopt);
  EXPECT_EQ(internal::AcceptDeflate("x-webkit-deflate-frame"), std::nullopt);
  EXPECT_EQ(internal::AcceptDeflate(""), std::nullopt);
}

}  // namespace
}  // namespace houston::http
