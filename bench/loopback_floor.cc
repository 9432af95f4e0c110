// loopback_floor: the least CPU a keep-alive HTTP request over loopback can cost on this machine.
//
//   build/bench/loopback_floor PORT_FILE
//
// One thread, epoll, non-blocking sockets: it reads whatever a connection sent, answers each
// complete request (headers, plus a Content-Length body) with a fixed 200, and does nothing
// else: no parsing beyond finding the end of a request, no allocation per request, no logging,
// no other thread. bench/run.sh drives it with the same wrk load as houston's `GET /healthz`
// and `POST /v2/enqueue` cases, pinned the same way, so the difference between the two CPU
// costs per request is houston's own and the rest is the kernel's (system calls, loopback TCP,
// and on a virtual machine the hypervisor's part of each). It writes the port it listens on
// (127.0.0.1, chosen by the kernel) to PORT_FILE, then runs until SIGTERM.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>

namespace {

volatile std::sig_atomic_t stopping = 0;

constexpr std::string_view kAnswer =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";

// Where the request at the start of `buf` ends, or 0 if it is not complete yet.
size_t RequestEnd(std::string_view buf) {
  size_t head = buf.find("\r\n\r\n");
  if (head == std::string_view::npos) return 0;
  size_t body = 0;
  std::string_view headers = buf.substr(0, head);
  for (size_t at = 0; at < headers.size();) {
    size_t eol = headers.find("\r\n", at);
    std::string_view line = headers.substr(at, eol == std::string_view::npos ? eol : eol - at);
    if (line.size() > 15 && strncasecmp(line.data(), "content-length:", 15) == 0) {
      std::string_view v = line.substr(15);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      std::from_chars(v.data(), v.data() + v.size(), body);
    }
    if (eol == std::string_view::npos) break;
    at = eol + 2;
  }
  size_t end = head + 4 + body;
  return buf.size() >= end ? end : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT_FILE\n", argv[0]);
    return 2;
  }
  std::signal(SIGTERM, [](int) { stopping = 1; });
  std::signal(SIGINT, [](int) { stopping = 1; });
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(lfd, 1024) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  {
    std::string tmp = std::string(argv[1]) + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr) {
      std::perror(argv[1]);
      return 1;
    }
    std::fprintf(f, "%d\n", ntohs(addr.sin_port));
    std::fclose(f);
    std::rename(tmp.c_str(), argv[1]);
  }
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  std::unordered_map<int, std::string> pending;  // bytes of an incomplete request, per socket
  epoll_event events[256];
  char buf[65536];
  std::string out;
  while (stopping == 0) {
    int n = ::epoll_wait(ep, events, 256, 200);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == lfd) {
        for (;;) {
          int c = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
          pending[c];
        }
        continue;
      }
      ssize_t got = ::recv(fd, buf, sizeof buf, 0);
      if (got <= 0) {
        ::close(fd);
        pending.erase(fd);
        continue;
      }
      std::string& in = pending[fd];
      in.append(buf, static_cast<size_t>(got));
      out.clear();
      size_t used = 0;
      while (size_t end = RequestEnd(std::string_view(in).substr(used))) {
        out.append(kAnswer);
        used += end;
      }
      in.erase(0, used);
      if (!out.empty()) (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    }
  }
  return 0;
}
