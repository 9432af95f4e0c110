// The egress guard: which destination addresses outbound notifications may connect to.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "notify/notify.h"

namespace houston::notify {
namespace {

// An address as bytes in network order: 4 for IPv4, 16 for IPv6.
struct Ip {
  std::array<uint8_t, 16> b{};
  size_t len = 0;  // 4 or 16
};

struct Cidr {
  Ip ip;
  int prefix = 0;
};

bool PrefixMatch(std::span<const uint8_t> addr, std::span<const uint8_t> net, int prefix) {
  int full = prefix / 8;
  if (std::memcmp(addr.data(), net.data(), static_cast<size_t>(full)) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (addr[full] & mask) == (net[full] & mask);
}

bool Matches(const Ip& ip, const Cidr& c) {
  return ip.len == c.ip.len &&
         PrefixMatch({ip.b.data(), ip.len}, {c.ip.b.data(), c.ip.len}, c.prefix);
}

std::optional<Ip> ParseIp(const std::string& s) {
  Ip ip;
  if (inet_pton(AF_INET, s.c_str(), ip.b.data()) == 1) {
    ip.len = 4;
    return ip;
  }
  if (inet_pton(AF_INET6, s.c_str(), ip.b.data()) == 1) {
    ip.len = 16;
    return ip;
  }
  return std::nullopt;
}

std::optional<Cidr> ParseCidr(std::string_view s) {
  size_t slash = s.find('/');
  std::optional<Ip> ip = ParseIp(std::string(s.substr(0, slash)));
  if (!ip) return std::nullopt;
  Cidr c{*ip, static_cast<int>(ip->len * 8)};
  if (slash != std::string_view::npos) {
    std::string_view p = s.substr(slash + 1);
    if (p.empty() || p.size() > 3) return std::nullopt;
    int prefix = 0;
    for (char ch : p) {
      if (ch < '0' || ch > '9') return std::nullopt;
      prefix = prefix * 10 + (ch - '0');
    }
    if (prefix > c.prefix) return std::nullopt;
    c.prefix = prefix;
  }
  return c;
}

Cidr Must(std::string_view s) {
  std::optional<Cidr> c = ParseCidr(s);
  HOUSTON_CHECK(c.has_value());
  return *c;
}

// IANA special-purpose and private ranges no notification should reach by default.
const std::vector<Cidr>& DeniedV4() {
  static const std::vector<Cidr> kList = [] {
    std::vector<Cidr> v;
    for (const char* s : {
             "0.0.0.0/8",        // "this network"
             "10.0.0.0/8",       // private
             "100.64.0.0/10",    // carrier-grade NAT
             "127.0.0.0/8",      // loopback
             "169.254.0.0/16",   // link-local, cloud metadata (169.254.169.254)
             "172.16.0.0/12",    // private
             "192.0.0.0/24",     // IETF protocol assignments
             "192.0.2.0/24",     // TEST-NET-1
             "192.88.99.0/24",   // 6to4 relay anycast (deprecated)
             "192.168.0.0/16",   // private
             "198.18.0.0/15",    // benchmarking
             "198.51.100.0/24",  // TEST-NET-2
             "203.0.113.0/24",   // TEST-NET-3
             "224.0.0.0/4",      // multicast
             "240.0.0.0/4",      // reserved, broadcast
         }) {
      v.push_back(Must(s));
    }
    return v;
  }();
  return kList;
}

const std::vector<Cidr>& DeniedV6() {
  static const std::vector<Cidr> kList = [] {
    std::vector<Cidr> v;
    for (const char* s : {
             "::/96",           // unspecified, loopback, IPv4-compatible (deprecated)
             "100::/64",        // discard-only
             "2001::/32",       // Teredo
             "2001:db8::/32",   // documentation
             "64:ff9b:1::/48",  // local-use NAT64
             "fc00::/7",        // unique local
             "fe80::/10",       // link-local
             "fec0::/10",       // site-local (deprecated)
             "ff00::/8",        // multicast
         }) {
      v.push_back(Must(s));
    }
    return v;
  }();
  return kList;
}

bool DeniedIp(const Ip& ip) {
  for (const Cidr& c : ip.len == 4 ? DeniedV4() : DeniedV6()) {
    if (Matches(ip, c)) return true;
  }
  if (ip.len == 4) return false;
  // IPv6 forms that carry an IPv4 destination: judge that address.
  static const Cidr kNat64 = Must("64:ff9b::/96");
  static const Cidr kSixToFour = Must("2002::/16");
  Ip v4;
  v4.len = 4;
  if (Matches(ip, kNat64)) {
    std::memcpy(v4.b.data(), ip.b.data() + 12, 4);
    return DeniedIp(v4);
  }
  if (Matches(ip, kSixToFour)) {
    std::memcpy(v4.b.data(), ip.b.data() + 2, 4);
    return DeniedIp(v4);
  }
  return false;
}

}  // namespace

bool AddressAllowed(const struct sockaddr* addr, const EgressPolicy& policy) {
  if (addr == nullptr) return false;
  Ip ip;
  if (addr->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, addr, sizeof in);
    std::memcpy(ip.b.data(), &in.sin_addr, 4);
    ip.len = 4;
  } else if (addr->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, addr, sizeof in6);
    std::memcpy(ip.b.data(), &in6.sin6_addr, 16);
    ip.len = 16;
  } else {
    return false;
  }
  // An IPv4-mapped address (::ffff:a.b.c.d) is a connection to a.b.c.d: judge that address
  // (the allowlist may name either form).
  Ip raw = ip;
  static constexpr std::array<uint8_t, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (ip.len == 16 && std::memcmp(ip.b.data(), kMapped.data(), kMapped.size()) == 0) {
    std::memmove(ip.b.data(), ip.b.data() + 12, 4);
    ip.len = 4;
  }
  for (const std::string& entry : policy.allow_cidrs) {
    std::optional<Cidr> c = ParseCidr(entry);
    if (c && (Matches(ip, *c) || Matches(raw, *c))) return true;
  }
  return !DeniedIp(ip);
}

Status ValidateEgressPolicy(const EgressPolicy& policy) {
  std::vector<std::string> problems;
  for (const std::string& entry : policy.allow_cidrs) {
    if (!ParseCidr(entry)) {
      problems.push_back(fmt::format(
          "egress allowlist entry '{}' is not an address or address/prefix (e.g. 127.0.0.1/32)",
          entry));
    }
  }
  if (problems.empty()) return OkStatus();
  std::string message = problems.front();
  return InvalidArgument(std::move(message), std::move(problems));
}

std::string RefusedDetail(std::vector<std::string> addresses, std::string_view command) {
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  std::string list, flags;
  for (const std::string& a : addresses) {
    list += (list.empty() ? "" : ", ") + a;
    // The smallest CIDR that allows exactly this address.
    flags += fmt::format("{}--allow-egress {}/{}", flags.empty() ? "" : " ", a,
                         a.find(':') == std::string::npos ? 32 : 128);
  }
  if (addresses.empty()) flags = "--allow-egress CIDR";
  return fmt::format(
      "destination address not allowed: {} (private, loopback and reserved addresses are refused "
      "by default); to add it to the egress allowlist, {} with {}",
      list.empty() ? "?" : list, command, flags);
}

}  // namespace houston::notify
