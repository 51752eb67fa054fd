// DestinationPolicy: the addresses a user's URL or registry may make onedockd dial.
#include "bridge/destination_policy.h"

#include <doctest/doctest.h>

namespace onedock {
namespace {

TEST_CASE("loopback, link-local, unspecified, multicast and reserved addresses are refused") {
  DestinationPolicy p;
  for (const char* refused : {"127.0.0.1",
                              "127.8.9.10",
                              "::1",
                              "169.254.169.254",
                              "169.254.0.1",
                              "fe80::1",
                              "0.0.0.0",
                              "0.1.2.3",
                              "::",
                              "224.0.0.1",
                              "239.255.255.250",
                              "ff02::1",
                              "255.255.255.255",
                              "240.0.0.1",
                              "::ffff:127.0.0.1",
                              "::ffff:169.254.169.254",
                              "::127.0.0.1",
                              "64:ff9b::7f00:1",
                              "not-an-address",
                              ""}) {
    CAPTURE(refused);
    const Status s = p.Check(refused, 80);
    CHECK(s.code() == Status::Code::kPermissionDenied);
    CHECK(s.message().rfind("destination ", 0) == 0);
  }
  for (const char* allowed :
       {"93.184.216.34", "10.0.0.5", "192.168.1.1", "2001:db8::1", "fd00::1", "::ffff:8.8.8.8"}) {
    CAPTURE(allowed);
    CHECK(p.Check(allowed, 443).ok());
  }
  CHECK(p.Check("169.254.169.254", 80).message().find("link-local") != std::string::npos);
}

TEST_CASE("the front-end's own addresses are refused unless allowed") {
  auto p = DestinationPolicy::Make({}, {"10.1.2.3", "2001:db8::7"});
  REQUIRE(p.ok());
  CHECK(p->Check("10.1.2.3", 2633).code() == Status::Code::kPermissionDenied);
  CHECK(p->Check("10.1.2.3", 2633).message().find("this front-end") != std::string::npos);
  CHECK(p->Check("2001:db8::7", 443).code() == Status::Code::kPermissionDenied);
  CHECK(p->Check("10.1.2.4", 2633).ok());
  auto opened = DestinationPolicy::Make({"10.1.2.3:8080"}, {"10.1.2.3"});
  REQUIRE(opened.ok());
  CHECK(opened->Check("10.1.2.3", 8080).ok());
  CHECK_FALSE(opened->Check("10.1.2.3", 2633).ok());
}

TEST_CASE("allow entries admit CIDRs, single addresses and single ports") {
  auto p = DestinationPolicy::Make(
      {"127.0.0.1:5001", "169.254.10.0/24", "[::1]:5000", "fe80::/16", "127.0.0.2"}, {});
  REQUIRE_MESSAGE(p.ok(), p.status().ToString());
  CHECK(p->Check("127.0.0.1", 5001).ok());
  CHECK_FALSE(p->Check("127.0.0.1", 5002).ok());  // the port limits the entry
  CHECK(p->Check("169.254.10.7", 80).ok());
  CHECK_FALSE(p->Check("169.254.169.254", 80).ok());  // outside the /24
  CHECK(p->Check("::1", 5000).ok());
  CHECK_FALSE(p->Check("::1", 5001).ok());
  CHECK(p->Check("fe80::abcd", 1).ok());
  CHECK(p->Check("127.0.0.2", 2376).ok());
  CHECK(p->Check("::ffff:127.0.0.2", 2376).ok());  // the mapped form is the same address
  CHECK_FALSE(p->Check("127.0.0.3", 2376).ok());
}

TEST_CASE("malformed allow entries are refused at configuration time") {
  for (const char* bad : {"127.0.0.1/33", "::1/129", "127.0.0.1:0", "127.0.0.1:70000", "host:80",
                          "[::1", "[::1]x", "10.0.0.0/", "127.0.0.1:", "1.2.3.4/8/8", ""}) {
    CAPTURE(bad);
    CHECK(DestinationPolicy::Make({bad}, {}).status().code() == Status::Code::kInvalidArgument);
  }
  CHECK_FALSE(DestinationPolicy::Make({}, {"not-an-ip"}).ok());
}

}  // namespace
}  // namespace onedock
