// The stub endpoint's pure parts with hostile input: request heads, the token check, envelope
// vetting and decoding, and which lane a call is served in.
#include "rpc/stub_protocol.h"

#include <doctest/doctest.h>

#include "bridge/driver_router.h"
#include "tests/support/stub_wire.h"

namespace onedock::rpc {
namespace {

using testing::NestedEnvelope;

const std::string kToken = "0123456789abcdef0123456789abcdef";

std::string Head(const std::string& extra, const std::string& line = "POST /RPC2 HTTP/1.1") {
  return line + "\r\nHost: x\r\n" + extra + "\r\n";
}

StubRefusal Refusal(const std::string& head, size_t max_body = 1000) {
  StubRequestHead out;
  StubRefusal refusal{0, ""};
  const bool ok = ReadStubHead(head, kToken, max_body, &out, &refusal);
  CHECK_FALSE(ok);
  return refusal;
}

}  // namespace

TEST_CASE("stub head: a stub's head is accepted with its length and Expect") {
  StubRequestHead out;
  StubRefusal refusal{0, ""};
  REQUIRE(ReadStubHead(
      Head("X-Onedock-Token: " + kToken + "\r\ncontent-length: 42\r\nExpect: 100-continue\r\n"),
      kToken, 1000, &out, &refusal));
  CHECK(out.content_length == 42);
  CHECK(out.expect_continue);
  CHECK(refusal.http_status == 0);
}

TEST_CASE("stub head: no token, a wrong one or two are refused before the length is looked at") {
  // Content-Length far over the limit: the token decides first.
  CHECK(Refusal(Head("Content-Length: 99999999\r\n")).http_status == 401);
  CHECK(Refusal(Head("X-Onedock-Token: wrong\r\nContent-Length: 99999999\r\n")).http_status == 403);
  CHECK(Refusal(Head("X-Onedock-Token: " + kToken.substr(0, 31) + "X\r\nContent-Length: 1\r\n"))
            .http_status == 403);
  CHECK(Refusal(Head("X-Onedock-Token: " + kToken + "\r\nX-Onedock-Token: " + kToken +
                     "\r\nContent-Length: 1\r\n"))
            .http_status == 403);
  CHECK(Refusal(Head("X-Onedock-Token: \r\nContent-Length: 1\r\n")).http_status == 403);
}

TEST_CASE("stub head: oversize, missing, chunked or malformed lengths are refused") {
  const std::string t = "X-Onedock-Token: " + kToken + "\r\n";
  const StubRefusal big = Refusal(Head(t + "Content-Length: 1001\r\n"));
  CHECK(big.http_status == 413);
  CHECK(big.why.find("max_request_bytes") != std::string::npos);
  CHECK(Refusal(Head(t + "Content-Length: 18446744073709551617\r\n")).http_status == 400);
  CHECK(Refusal(Head(t)).http_status == 411);
  CHECK(Refusal(Head(t + "Transfer-Encoding: chunked\r\n")).http_status == 501);
  CHECK(Refusal(Head(t + "Content-Length: -1\r\n")).http_status == 400);
  CHECK(Refusal(Head(t + "Content-Length: 1\r\nContent-Length: 2\r\n")).http_status == 400);
  CHECK(Refusal(Head(t + "Content-Length: 0x10\r\n")).http_status == 400);
}

TEST_CASE("stub head: other methods, paths, versions and malformed lines are refused") {
  const std::string t = "X-Onedock-Token: " + kToken + "\r\nContent-Length: 1\r\n";
  CHECK(Refusal(Head(t, "GET /RPC2 HTTP/1.1")).http_status == 405);
  CHECK(Refusal(Head(t, "POST /other HTTP/1.1")).http_status == 404);
  CHECK(Refusal(Head(t, "POST /RPC2 SPDY/3")).http_status == 400);
  CHECK(Refusal(Head(t, "POST  /RPC2 HTTP/1.1")).http_status == 400);
  CHECK(Refusal(Head(t, "POST")).http_status == 400);
  CHECK(Refusal(Head(t + " folded: line\r\n")).http_status == 400);
  CHECK(Refusal(Head(t + "no colon\r\n")).http_status == 400);
  CHECK(Refusal(std::string(kMaxStubHeadBytes + 1, 'a')).http_status == 431);
  CHECK(Refusal("").http_status == 400);
}

TEST_CASE("stub head: the end of a head is found, or not yet") {
  CHECK(StubHeadEnd("POST / HTTP/1.1\r\nA: b\r\n\r\nbody") == 25);
  CHECK(StubHeadEnd("POST / HTTP/1.1\r\nA: b\r\n") == std::string_view::npos);
  CHECK(StubHeadEnd(std::string(100000, 'a')) == std::string_view::npos);
}

TEST_CASE("stub token: equal tokens only, never an empty one") {
  CHECK(SameToken(kToken, kToken));
  CHECK_FALSE(SameToken(kToken + "x", kToken));
  CHECK_FALSE(SameToken("", kToken));
  CHECK_FALSE(SameToken("", ""));
  CHECK_FALSE(SameToken(std::string(kToken.size(), 'a'), kToken));
}

TEST_CASE("stub envelope: a real call is vetted and decoded both ways") {
  const StubCall call{
      "vmm", "deploy", {"/var/lib/one/1/deployment.0", "h1", "7", "h1"}, "PFZNPjwvVk0+ <&> ]]>"};
  const std::string body = EncodeStubCall(call);
  CHECK(VetStubEnvelope(body).ok());
  auto back = DecodeStubEnvelope(body);
  REQUIRE_MESSAGE(back.ok(), back.status().ToString());
  CHECK(back->kind == "vmm");
  CHECK(back->action == "deploy");
  CHECK(back->argv == call.argv);
  CHECK(back->stdin_text == call.stdin_text);
  // Untyped values are strings, as XML-RPC says.
  auto untyped = DecodeStubEnvelope(
      "<methodCall><methodName>onedock.driver</methodName><params><param><value>tm</value>"
      "</param><param><value>mv</value></param><param><value><array><data/></array></value>"
      "</param><param><value></value></param></params></methodCall>");
  REQUIRE_MESSAGE(untyped.ok(), untyped.status().ToString());
  CHECK(untyped->action == "mv");
  CHECK(untyped->argv.empty());
}

TEST_CASE("stub envelope: 900-deep nesting is refused before it is parsed") {
  const Status s = VetStubEnvelope(NestedEnvelope(900));  // 900 nested arrays, ~40 KB
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK(s.message().find("nested deeper") != std::string::npos);
  CHECK_FALSE(DecodeStubEnvelope(NestedEnvelope(900)).ok());
  CHECK(VetStubEnvelope(NestedEnvelope(2)).ok());  // an argv array is 8 deep
}

TEST_CASE("stub envelope: DTDs, entities, comments, CDATA and PIs are refused") {
  const char* bad[] = {
      "<?xml version=\"1.0\"?><!DOCTYPE lol [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]>"
      "<methodCall><methodName>&b;</methodName></methodCall>",
      "<methodCall><!-- x --><methodName>onedock.driver</methodName></methodCall>",
      "<methodCall><methodName><![CDATA[onedock.driver]]></methodName></methodCall>",
      "<methodCall><?php x?></methodCall>",
      "<methodCall a=\"1\"><methodName>onedock.driver</methodName></methodCall>",
      "<methodCall><methodName>onedock.driver</methodName",
  };
  for (const char* body : bad) {
    CAPTURE(body);
    CHECK(VetStubEnvelope(body).code() == Status::Code::kInvalidArgument);
    CHECK_FALSE(DecodeStubEnvelope(body).ok());
  }
}

TEST_CASE("stub envelope: too many elements, wrong method or params are refused") {
  std::string many;
  for (int i = 0; i < kMaxEnvelopeElements; ++i) many += "<value/>";
  CHECK(VetStubEnvelope("<a>" + many + "</a>").message().find("elements") != std::string::npos);
  const StubCall call{"vmm", "deploy", {"a"}, ""};
  std::string other = EncodeStubCall(call);
  other.replace(other.find("onedock.driver"), 14, "system.multicall");
  CHECK(DecodeStubEnvelope(other).status().message().find("not a call") != std::string::npos);
  CHECK_FALSE(
      DecodeStubEnvelope("<methodCall><methodName>onedock.driver</methodName><params><param><value>"
                         "<i4>1</i4></value></param></params></methodCall>")
          .ok());
  std::string argv_int = EncodeStubCall(call);
  argv_int.replace(argv_int.find("<value><string>a</string></value>"), 33,
                   "<value><i4>1</i4></value>");
  CHECK(DecodeStubEnvelope(argv_int).status().message().find("argv") != std::string::npos);
}

TEST_CASE("stub answer: encoded and decoded, hostile answers refused") {
  const DriverAnswer answer{3, "one-7\n", "deploy vm 7: <refused> & why"};
  auto back = DecodeStubAnswer(EncodeStubAnswer(answer));
  REQUIRE_MESSAGE(back.ok(), back.status().ToString());
  CHECK(back->exit_code == 3);
  CHECK(back->out == answer.out);
  CHECK(back->error == answer.error);
  CHECK_FALSE(DecodeStubAnswer(NestedEnvelope(900)).ok());
  CHECK_FALSE(DecodeStubAnswer("<!DOCTYPE a><methodResponse/>").ok());
  CHECK_FALSE(DecodeStubAnswer("<methodResponse><fault/></methodResponse>").ok());
}

TEST_CASE("stub lanes: image copies have their own lane, everything else the lifecycle one") {
  CHECK(LaneOf("ds", "cp") == DriverLane::kTransfer);
  CHECK(LaneOf("ds", "clone") == DriverLane::kTransfer);
  CHECK(LaneOf("ds", "stat") == DriverLane::kTransfer);
  for (const char* action : {"rm", "mkfs", "monitor", "snap_delete", "export"})
    CHECK(LaneOf("ds", action) == DriverLane::kLifecycle);
  for (const char* kind : {"vmm", "tm", "im", "vnm"}) {
    CHECK(LaneOf(kind, "cp") == DriverLane::kLifecycle);
    CHECK(LaneOf(kind, "clone") == DriverLane::kLifecycle);
  }
  CHECK(LaneOf("vmm", "deploy") == DriverLane::kLifecycle);
}

}  // namespace onedock::rpc
