// Hostile input: deterministic mutations and truncations of real documents fed to every parser
// that reads what a network peer sends. Each must answer OK or a clear error, never crash, hang or
// throw.
#include <doctest/doctest.h>

#include <random>

#include "docker/engine_json.h"
#include "rpc/monitord_message.h"
#include "rpc/one_parse.h"
#include "tests/unit/fixtures.h"

namespace onedock {
namespace {

std::vector<std::string> Mutations(const std::string& original, int count) {
  std::mt19937 rng(20261128);
  std::vector<std::string> out;
  const std::string specials = "<>&;]/\"'=[\\\0\n ";
  for (int i = 0; i < count; ++i) {
    std::string s = original;
    switch (i % 4) {
      case 0:  // truncate
        s.resize(rng() % (s.size() + 1));
        break;
      case 1:  // flip bytes
        for (int k = 0; k < 4 && !s.empty(); ++k)
          s[rng() % s.size()] = static_cast<char>(rng() % 256);
        break;
      case 2:  // insert markup characters
        for (int k = 0; k < 3; ++k)
          s.insert(rng() % (s.size() + 1), 1, specials[rng() % specials.size()]);
        break;
      default:  // delete a span
        if (!s.empty()) {
          const size_t at = rng() % s.size();
          s.erase(at, rng() % 64);
        }
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

TEST_CASE("mutated oned documents are parsed or refused with invalid argument") {
  const std::string vm = fixtures::CapturedDocument("vmm-shutdown.txt");
  int refused = 0;
  for (const std::string& doc : Mutations(vm, 3000)) {
    auto parsed = rpc::ParseXml(doc);
    if (!parsed.ok()) {
      CHECK(parsed.status().code() == Status::Code::kInvalidArgument);
      ++refused;
      continue;
    }
    if (const rpc::XmlNode* node = parsed->Child("VM")) (void)rpc::ParseVm(*node);
  }
  CHECK(refused > 1000);  // most mutations break the document, and are said to
}

TEST_CASE("mutated monitord messages are decoded or refused") {
  const std::string wire = rpc::EncodeMonitordMessage(
      {"STATE_VM", true, 1, 1795839648, "SYNC_STATE=yes\nVM = [ ID=\"4\", STATE=\"RUNNING\" ]\n"});
  for (const std::string& m : Mutations(wire, 3000)) {
    auto decoded = rpc::DecodeMonitordMessage(m);
    if (!decoded.ok()) CHECK(decoded.status().code() == Status::Code::kInvalidArgument);
  }
}

TEST_CASE("mutated engine replies are parsed or refused") {
  const std::string inspect =
      R"({"Id":"4e9d","Name":"/one-42","State":{"Status":"running","Running":true,"Pid":1},
    "Config":{"Labels":{"one.vmid":"42"},"Env":["A=1"]},"HostConfig":{"NanoCpus":5,"Memory":6},
    "NetworkSettings":{"Networks":{"n":{"IPAddress":"10.0.0.2","IPPrefixLen":24}}}})";
  for (const std::string& body : Mutations(inspect, 3000)) {
    auto c = docker::ParseContainerInspect(body);
    if (!c.ok()) CHECK(c.status().code() == Status::Code::kInternal);
    (void)docker::ParseStats(body);
    (void)docker::ParseEvent(body);
    (void)docker::StreamLineStatus(body);
    (void)docker::EngineMessage(body);
  }
}

}  // namespace onedock
