#include "rpc/monitord_message.h"

#include <doctest/doctest.h>

#include <sstream>

#include "tests/unit/fixtures.h"

namespace onedock::rpc {

TEST_CASE("monitord messages captured on the wire decode") {
  std::istringstream in(fixtures::Read("captures/monitord-wire-messages.txt"));
  std::string line;
  int decoded = 0;
  while (std::getline(in, line)) {
    if (line.rfind("RAW: ", 0) != 0) continue;
    auto m = DecodeMonitordMessage(line.substr(5));
    REQUIRE_MESSAGE(m.ok(), m.status().ToString());
    CHECK(m->host_id == 1);
    CHECK(m->success);
    CHECK(m->timestamp >= 1795839648);
    if (m->type == "SYSTEM_HOST") CHECK(m->payload.find("TOTALCPU=200\n") != std::string::npos);
    if (m->type == "STATE_VM") CHECK(m->payload.find("STATE=\"RUNNING\"") != std::string::npos);
    if (m->type == "BEACON_HOST") CHECK(m->payload.rfind("1795839", 0) == 0);
    ++decoded;
  }
  CHECK(decoded >= 10);
}

TEST_CASE("monitord messages round trip and bad ones are refused") {
  MonitordMessage m{"MONITOR_VM", true, 7, 1795839648,
                    "VM = [ ID=\"4\", MONITOR=\"Q1BVPSIxIgo=\" ]\n"};
  const std::string wire = EncodeMonitordMessage(m);
  CHECK(wire.rfind("MONITOR_VM SUCCESS 7 1795839648 e", 0) == 0);  // zlib header 0x78 -> "e"
  auto back = DecodeMonitordMessage(wire + "\n");
  REQUIRE(back.ok());
  CHECK(back->payload == m.payload);
  CHECK(back->type == "MONITOR_VM");

  MonitordMessage failure{"SYSTEM_HOST", false, 3, 0, "engine h1 unreachable"};
  auto f = DecodeMonitordMessage(EncodeMonitordMessage(failure));
  REQUIRE(f.ok());
  CHECK_FALSE(f->success);
  CHECK(f->payload == "engine h1 unreachable");

  for (const char* bad : {"", "GARBAGE", "HELLO SUCCESS 1 2 eNoDAAAAAAE=", "STATE_VM MAYBE 1 2 x",
                          "STATE_VM SUCCESS one 2 eNoDAAAAAAE=", "STATE_VM SUCCESS 1 2 !!!!",
                          "STATE_VM SUCCESS 1 2 aGVsbG8=", "STATE_VM SUCCESS 1 -x eNoDAAAAAAE="}) {
    CAPTURE(bad);
    CHECK(DecodeMonitordMessage(bad).status().code() == Status::Code::kInvalidArgument);
  }
}

TEST_CASE("a compressed bomb is refused") {
  MonitordMessage big{"MONITOR_HOST", true, 1, 1, std::string(kMaxMonitordPayload + 1, 'a')};
  auto r = DecodeMonitordMessage(EncodeMonitordMessage(big));
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
}

}  // namespace onedock::rpc
