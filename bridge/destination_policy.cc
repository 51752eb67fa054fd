#include "bridge/destination_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace onedock {
namespace {

using Address = std::array<unsigned char, 16>;

// IPv4 becomes ::ffff:a.b.c.d, so one range type holds both families.
bool ToAddress(const std::string& text, Address& out) {
  unsigned char v4[4];
  if (inet_pton(AF_INET, text.c_str(), v4) == 1) {
    out.fill(0);
    out[10] = out[11] = 0xff;
    std::copy(v4, v4 + 4, out.begin() + 12);
    return true;
  }
  return inet_pton(AF_INET6, text.c_str(), out.data()) == 1;
}

bool IsMappedV4(const Address& a) {
  return std::all_of(a.begin(), a.begin() + 10, [](unsigned char c) { return c == 0; }) &&
         a[10] == 0xff && a[11] == 0xff;
}

bool InPrefix(const Address& a, const Address& base, int bits) {
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const int take = std::min(bits, 8);
    const auto mask = static_cast<unsigned char>(0xff << (8 - take));
    if ((a[i] & mask) != (base[i] & mask)) return false;
  }
  return true;
}

bool AllDigits(const std::string& s, size_t max) {
  return !s.empty() && s.size() <= max && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// Why `a` is refused by default, or "" when it is not.
std::string DefaultRefusal(const Address& a) {
  if (IsMappedV4(a)) {
    const unsigned char b0 = a[12], b1 = a[13];
    if (b0 == 0) return "unspecified (0.0.0.0/8) address";
    if (b0 == 127) return "loopback address";
    if (b0 == 169 && b1 == 254) return "link-local address (cloud metadata lives here)";
    if (b0 >= 224 && b0 < 240) return "multicast address";
    if (b0 >= 240) return "reserved or broadcast address";
    return "";
  }
  static const Address kZero{};
  if (a == kZero) return "unspecified address";
  Address one{};
  one[15] = 1;
  if (a == one) return "loopback address";
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return "link-local address";
  if (a[0] == 0xff) return "multicast address";
  // ::a.b.c.d (deprecated IPv4-compatible) and 64:ff9b::/96 (NAT64) reach IPv4 addresses this
  // policy would otherwise have to translate.
  if (std::all_of(a.begin(), a.begin() + 12, [](unsigned char c) { return c == 0; }))
    return "IPv4-compatible address";
  if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b) return "NAT64 address";
  return "";
}

}  // namespace

Result<DestinationPolicy::Range> DestinationPolicy::ParseEntry(const std::string& entry) {
  const auto bad = [&entry](const std::string& why) {
    return InvalidArgument("\"" + entry + "\" is not ADDRESS[/BITS][:PORT] (" + why + ")");
  };
  std::string address, bits, port;
  if (!entry.empty() && entry.front() == '[') {
    const auto close = entry.find(']');
    if (close == std::string::npos) return bad("unclosed '['");
    address = entry.substr(1, close - 1);
    std::string rest = entry.substr(close + 1);
    if (!rest.empty() && rest.front() == '/') {
      const auto colon = rest.find(':');
      bits = rest.substr(1, colon == std::string::npos ? std::string::npos : colon - 1);
      rest = colon == std::string::npos ? "" : rest.substr(colon);
    }
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("junk after ']'");
      port = rest.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else if (std::count(entry.begin(), entry.end(), ':') > 1) {  // bare IPv6, no port
    const auto slash = entry.find('/');
    address = entry.substr(0, slash);
    if (slash != std::string::npos) bits = entry.substr(slash + 1);
  } else {
    const auto colon = entry.find(':');
    std::string head = entry.substr(0, colon);
    if (colon != std::string::npos) {
      port = entry.substr(colon + 1);
      if (port.empty()) return bad("empty port");
    }
    const auto slash = head.find('/');
    address = head.substr(0, slash);
    if (slash != std::string::npos) bits = head.substr(slash + 1);
  }
  Range r;
  if (!ToAddress(address, r.base)) return bad("\"" + address + "\" is no IP address");
  const bool v4 = IsMappedV4(r.base) && address.find(':') == std::string::npos;
  const int max_bits = v4 ? 32 : 128;
  r.bits = max_bits;
  if (!bits.empty() || entry.find('/') != std::string::npos) {
    if (!AllDigits(bits, 3) || std::stoi(bits) > max_bits) return bad("bad prefix length");
    r.bits = std::stoi(bits);
  }
  if (v4) r.bits += 96;
  if (!port.empty()) {
    if (!AllDigits(port, 5) || std::stoi(port) < 1 || std::stoi(port) > 65535)
      return bad("bad port");
    r.port = std::stoi(port);
  }
  return r;
}

Result<DestinationPolicy> DestinationPolicy::Make(const std::vector<std::string>& allow,
                                                  const std::vector<std::string>& own) {
  DestinationPolicy p;
  for (const auto& entry : allow) {
    auto r = ParseEntry(entry);
    if (!r.ok()) return r.status();
    p.allow_.push_back(*r);
  }
  for (const auto& address : own) {
    Address a{};
    if (!ToAddress(address, a)) return InvalidArgument("\"" + address + "\" is no IP address");
    p.own_.push_back(a);
  }
  return p;
}

Status DestinationPolicy::Check(const std::string& address, int port) const {
  Address a{};
  const std::string where = address.find(':') != std::string::npos
                                ? "[" + address + "]:" + std::to_string(port)
                                : address + ":" + std::to_string(port);
  if (!ToAddress(address, a))
    return PermissionDenied("destination " + where + " refused: not an IP address");
  for (const Range& r : allow_) {
    if (InPrefix(a, r.base, r.bits) && (r.port == 0 || r.port == port)) return Status::Ok();
  }
  std::string why = DefaultRefusal(a);
  if (why.empty() && std::find(own_.begin(), own_.end(), a) != own_.end())
    why = "an address of this front-end";
  if (why.empty()) return Status::Ok();
  return PermissionDenied("destination " + where + " refused: " + why +
                          " (not in [images] allow_destinations)");
}

}  // namespace onedock
