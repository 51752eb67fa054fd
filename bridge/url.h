// ParseUrl: an http(s) URL split into scheme, host, port and path, strictly enough that what is
// checked (the host) is what libcurl dials. Userinfo ("user@host"), a port past 65535, an empty
// host, a fragment and bytes outside printable ASCII are refused, so `http://127.0.0.1@evil/` and
// `http://localhost.evil/` cannot pass for loopback. Pure; thread-safe.
#ifndef ONEDOCK_BRIDGE_URL_H_
#define ONEDOCK_BRIDGE_URL_H_

#include <string>
#include <string_view>

#include "bridge/status.h"

namespace onedock {

struct Url {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // lower case; an IPv6 literal without its brackets
  int port = 0;        // the explicit port, else 80 or 443
  bool explicit_port = false;
  std::string path;  // from the first '/', query included; "/" when the URL has none

  // "host:port" as a registry domain is written ("[::1]:5000" for IPv6).
  std::string Authority() const;
};

// kInvalidArgument naming what is wrong: another scheme, userinfo, a bad host or port.
Result<Url> ParseUrl(std::string_view text);

// A host[:port] as a registry reference names it ("127.0.0.1:5000", "[::1]:5000", "example.org"),
// with `default_port` when none is given.
Result<Url> ParseAuthority(std::string_view authority, std::string_view scheme, int default_port);

// True for an IPv4 literal in 127.0.0.0/8 or the IPv6 literal ::1 (never a name: "localhost" may
// resolve elsewhere).
bool IsLoopbackLiteral(const std::string& host);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_URL_H_
