#include "bridge/url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "bridge/net_address.h"

namespace onedock {
namespace {

// "\"text\"", built by append: GCC 12 at -O3 reports a false -Wrestrict for
// "\"" + std::string(text).
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  out.append(text).append("\"");
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool Printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

// A DNS name: labels of letters, digits and '-' (and '_', which some internal names carry),
// 1 to 63 characters each, neither starting nor ending with '-'.
bool DnsName(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  size_t start = 0;
  while (start <= host.size()) {
    const size_t dot = std::min(host.find('.', start), host.size());
    const std::string_view label(host.data() + start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    }
    start = dot + 1;
  }
  return true;
}

// Host and optional port of an authority that holds no userinfo.
Status SplitHostPort(std::string_view authority, int default_port, Url& url) {
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgument("unclosed '[' in the host");
    url.host = Lower(authority.substr(1, close - 1));
    unsigned char buf[16];
    if (inet_pton(AF_INET6, url.host.c_str(), buf) != 1)
      return InvalidArgument(Quoted(url.host) + " is not an IPv6 address");
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return InvalidArgument("junk after the IPv6 address");
      port_text = rest.substr(1);
      url.explicit_port = true;
    }
  } else {
    const auto colon = authority.find(':');
    url.host = Lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      url.explicit_port = true;
    }
    unsigned char buf[4];
    const bool v4 = inet_pton(AF_INET, url.host.c_str(), buf) == 1;
    // Digits and dots that are no dotted quad ("127.1", "2130706433") are read as addresses by
    // some resolvers and as names by others: refused rather than guessed.
    const bool numeric =
        !url.host.empty() && std::all_of(url.host.begin(), url.host.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
        });
    if (!v4 && (numeric || !DnsName(url.host)))
      return InvalidArgument(Quoted(url.host) + " is not a host name or address");
    if (!v4 && url.host.rfind("0x", 0) == 0)
      return InvalidArgument(Quoted(url.host) + " is not a host name or address");
  }
  if (url.explicit_port) {
    if (port_text.empty() || port_text.size() > 5 ||
        !std::all_of(port_text.begin(), port_text.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return InvalidArgument(Quoted(port_text) + " is not a port");
    url.port = std::stoi(std::string(port_text));
    if (url.port < 1 || url.port > 65535)
      return InvalidArgument(std::string("port ").append(port_text).append(" is out of range"));
  } else {
    url.port = default_port;
  }
  return Status::Ok();
}

}  // namespace

std::string Url::Authority() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return explicit_port ? h + ":" + std::to_string(port) : h;
}

Result<Url> ParseUrl(std::string_view text) {
  if (text.size() > 2048) return InvalidArgument("URL longer than 2048 characters");
  if (!Printable(text)) return InvalidArgument("URL holds spaces or non-ASCII bytes");
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) return InvalidArgument(Quoted(text) + " is not a URL");
  Url url;
  url.scheme = Lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https")
    return InvalidArgument("scheme \"" + url.scheme + "\" is not http or https");
  std::string_view rest = text.substr(sep + 3);
  const auto end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (authority.find('@') != std::string_view::npos)
    return InvalidArgument("URL carries userinfo (\"…@host\"); name the host alone");
  if (authority.find('\\') != std::string_view::npos ||
      authority.find('%') != std::string_view::npos)
    return InvalidArgument("URL host holds '\\' or '%'");
  if (tail.find('#') != std::string_view::npos) return InvalidArgument("URL carries a fragment");
  if (Status s = SplitHostPort(authority, url.scheme == "https" ? 443 : 80, url); !s.ok())
    return s.WithContext("URL");
  url.path = tail.empty()
                 ? "/"
                 : (tail.front() == '?' ? std::string("/").append(tail) : std::string(tail));
  return url;
}

Result<Url> ParseAuthority(std::string_view authority, std::string_view scheme, int default_port) {
  if (authority.empty() || authority.size() > 260 || !Printable(authority) ||
      authority.find_first_of("/@?#%\\") != std::string_view::npos)
    return InvalidArgument(Quoted(authority) + " is not host[:port]");
  Url url;
  url.scheme = std::string(scheme);
  url.path.assign(1, '/');  // not = "/": GCC 12 at -O3 reports a false -Wrestrict
  if (Status s = SplitHostPort(authority, default_port, url); !s.ok()) return s;
  return url;
}

bool IsLoopbackLiteral(const std::string& host) { return IsIpv4Loopback(host) || host == "::1"; }

}  // namespace onedock
