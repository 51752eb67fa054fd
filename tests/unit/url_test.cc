// ParseUrl: what is checked is what is dialled; hostile URLs that string prefixes let through are
// refused or parsed to the host they really name.
#include "bridge/url.h"

#include <doctest/doctest.h>

namespace onedock {
namespace {

TEST_CASE("a URL splits into scheme, host, port and path") {
  auto u = ParseUrl("HTTPS://Registry.Example.org:5000/v2/token?scope=a%3Ab");
  REQUIRE_MESSAGE(u.ok(), u.status().ToString());
  CHECK(u->scheme == "https");
  CHECK(u->host == "registry.example.org");
  CHECK(u->port == 5000);
  CHECK(u->explicit_port);
  CHECK(u->path == "/v2/token?scope=a%3Ab");
  CHECK(u->Authority() == "registry.example.org:5000");

  auto plain = ParseUrl("http://127.0.0.1");
  REQUIRE(plain.ok());
  CHECK(plain->port == 80);
  CHECK(plain->path == "/");
  auto query = ParseUrl("https://auth.example/?x=1");
  REQUIRE(query.ok());
  CHECK(query->port == 443);
  CHECK(query->path == "/?x=1");
  auto v6 = ParseUrl("http://[::1]:5000/token");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->Authority() == "[::1]:5000");
}

TEST_CASE("hostile URLs are refused before any host is compared") {
  for (const char* hostile : {
           "http://localhost@evil.example/token",     // userinfo: the host is evil.example
           "http://127.0.0.1@evil.example/token",     // the same with a loopback-looking user
           "http://user:pw@registry.example/",        // credentials in the URL
           "http://127.0.0.1:80@evil.example:8080/",  // a port-looking userinfo
           "http://127.1/",                           // short forms some resolvers expand
           "http://2130706433/",                      // 127.0.0.1 as one decimal number
           "http://0x7f000001/",                      // ... or hexadecimal
           "http://127.0.0.1%2f@evil/",               // escapes in the authority
           "http://evil.example\\@127.0.0.1/",        // a backslash browsers treat as '/'
           "http://[::1/",
           "http://[127.0.0.1]/",  // bad IPv6 literals
           "http://host:0/",
           "http://host:65536/",
           "http://host:12a/",
           "http://host:/",
           "http:///path",
           "http://-bad-.example/",
           "http://a..b/",
           "ftp://example.org/x",
           "file:///etc/shadow",
           "gopher://x/",
           "//example.org/x",
           "http://example.org/a b",
           "http://exa\tmple.org/",
           "http://example.org/#frag",
       }) {
    CAPTURE(hostile);
    CHECK(ParseUrl(hostile).status().code() == Status::Code::kInvalidArgument);
  }
  CHECK_FALSE(ParseUrl("http://" + std::string(3000, 'a') + "/").ok());
}

TEST_CASE("a name that starts like loopback is a name, not loopback") {
  auto u = ParseUrl("http://127.0.0.1.evil.example/token");
  REQUIRE(u.ok());
  CHECK(u->host == "127.0.0.1.evil.example");
  CHECK_FALSE(IsLoopbackLiteral(u->host));
  auto l = ParseUrl("http://localhost.evil.example/");
  REQUIRE(l.ok());
  CHECK_FALSE(IsLoopbackLiteral(l->host));
  CHECK_FALSE(IsLoopbackLiteral("localhost"));  // a name may resolve anywhere
  CHECK(IsLoopbackLiteral("127.0.0.1"));
  CHECK(IsLoopbackLiteral("127.9.9.9"));
  CHECK(IsLoopbackLiteral("::1"));
}

TEST_CASE("a registry authority parses with a default port") {
  auto a = ParseAuthority("127.0.0.1:5000", "http", 80);
  REQUIRE(a.ok());
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 5000);
  auto hub = ParseAuthority("registry-1.docker.io", "https", 443);
  REQUIRE(hub.ok());
  CHECK(hub->port == 443);
  CHECK_FALSE(hub->explicit_port);
  for (const char* bad : {"", "a@b", "host/path", "host:99999", "host?x", "[::1"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseAuthority(bad, "https", 443).ok());
  }
}

}  // namespace
}  // namespace onedock
