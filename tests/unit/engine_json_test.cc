#include "docker/engine_json.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/fixtures.h"

namespace onedock::docker {

using nlohmann::json;

TEST_CASE("API versions compare numerically and negotiate to min(client engine)") {
  CHECK(*ApiVersion::Parse("1.9") < *ApiVersion::Parse("1.10"));
  CHECK_FALSE(ApiVersion::Parse("1").ok());
  CHECK_FALSE(ApiVersion::Parse("1.x").ok());
  CHECK_FALSE(ApiVersion::Parse("1.41.2").ok());

  CHECK(NegotiateApi("1.41", "1.12")->ToString() == "1.41");
  CHECK(NegotiateApi("1.43", "1.12")->ToString() == "1.43");
  CHECK(NegotiateApi("1.52", "1.44")->ToString() == kNewestApi.ToString());  // Docker 29
  auto old = NegotiateApi("1.40", "1.12");
  CHECK(old.status().code() == Status::Code::kFailedPrecondition);
  CHECK(NegotiateApi("1.60", "1.50").status().code() == Status::Code::kFailedPrecondition);
  CHECK(NegotiateApi("garbage", "").status().code() == Status::Code::kInvalidArgument);
}

TEST_CASE("HTTP errors map to codes and keep the engine's text") {
  auto s = StatusFromHttp(
      409, R"({"message":"Conflict. The container name \"/one-42\" is already in use"})");
  CHECK(s.code() == Status::Code::kConflict);
  CHECK(s.message() == "409 Conflict: Conflict. The container name \"/one-42\" is already in use");
  CHECK(StatusFromHttp(404, R"({"message":"No such container: nope"})").code() ==
        Status::Code::kNotFound);
  CHECK(StatusFromHttp(400, "client version 1.11 is too old.\n").message() ==
        "400 Bad Request: client version 1.11 is too old.");  // text/plain body
  CHECK(StatusFromHttp(403, R"({"message":"Address already in use"})").code() ==
        Status::Code::kFailedPrecondition);
  CHECK(StatusFromHttp(500, "{}").code() == Status::Code::kInternal);
  CHECK(StatusFromHttp(503, "").code() == Status::Code::kUnavailable);
}

TEST_CASE("errors inside a 200 progress stream are detected") {
  CHECK(StreamLineStatus(R"({"status":"Pulling fs layer","id":"abc"})").ok());
  auto e = StreamLineStatus(
      R"({"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"})");
  CHECK(e.code() == Status::Code::kInternal);
  CHECK(e.message() == "manifest unknown");
  CHECK(StreamLineStatus(R"({"error":"boom"})").message() == "boom");
  CHECK_FALSE(StreamLineStatus("not json").ok());
  CHECK(PushDigestFromLine(R"({"aux":{"Tag":"0","Digest":"sha256:6db7","Size":527}})") ==
        "sha256:6db7");
  CHECK(PushDigestFromLine(R"({"status":"Pushed"})").empty());
  CHECK(LoadedImageFromLine(R"({"stream":"Loaded image: local/busybox:1\n"})") ==
        "local/busybox:1");
  CHECK(LoadedImageFromLine(R"({"stream":"Loaded image ID: sha256:ab\n"})") == "sha256:ab");
}

TEST_CASE("registry auth header is base64url JSON {} when anonymous") {
  CHECK(RegistryAuthHeader({}) == "e30=");
  const std::string h = RegistryAuthHeader({"u", "p?>", "127.0.0.1:5000"});
  CHECK(h.find('+') == std::string::npos);
  CHECK(h.find('/') == std::string::npos);
}

TEST_CASE("create body: limits init no swap primary network with static IP and MAC") {
  ContainerSpec spec;
  spec.name = "one-42";
  spec.image = "127.0.0.1:5000/httpd:7";
  spec.cmd = {"/bin/httpd", "-f"};
  spec.env = {"ONE_VMID=42"};
  spec.labels = {{"one.vmid", "42"}};
  spec.hostname = "vm42";
  spec.nano_cpus = 500000000;
  spec.memory_bytes = 64 << 20;
  spec.network_mode = "one-vnet0";
  spec.primary = {"one-vnet0", "10.42.0.42", "02:00:0a:2a:00:2a", {"vm42"}};

  json old_api = json::parse(ContainerCreateBody(spec, {1, 41}));
  CHECK(old_api["HostConfig"]["NanoCpus"] == 500000000);
  CHECK(old_api["HostConfig"]["Memory"] == 64 << 20);
  CHECK(old_api["HostConfig"]["MemorySwap"] == 64 << 20);
  CHECK(old_api["HostConfig"]["Init"] == true);
  CHECK(old_api["HostConfig"]["Privileged"] == false);
  CHECK(old_api["HostConfig"]["NetworkMode"] == "one-vnet0");
  CHECK(old_api["MacAddress"] == "02:00:0a:2a:00:2a");
  auto endpoint = old_api["NetworkingConfig"]["EndpointsConfig"]["one-vnet0"];
  CHECK(endpoint["IPAMConfig"]["IPv4Address"] == "10.42.0.42");
  CHECK_FALSE(endpoint.contains("MacAddress"));
  CHECK(old_api["Labels"]["one.vmid"] == "42");
  CHECK(old_api["Hostname"] == "vm42");

  json new_api = json::parse(ContainerCreateBody(spec, {1, 44}));
  CHECK_FALSE(new_api.contains("MacAddress"));
  CHECK(new_api["NetworkingConfig"]["EndpointsConfig"]["one-vnet0"]["MacAddress"] ==
        "02:00:0a:2a:00:2a");
}

TEST_CASE("create body: how the image runs, under the keys the engine reads") {
  ContainerSpec spec;
  spec.name = "one-42";
  spec.image = "127.0.0.1:5000/shell:1";
  spec.entrypoint = {"/bin/env", "A=1", "/bin/sh", "-c"};
  spec.cmd = {"echo $A; exec sleep 9"};
  spec.working_dir = "/www";
  spec.user = "65534:65534";
  spec.tty = true;
  spec.open_stdin = true;
  spec.shm_size_bytes = 128 << 20;
  spec.ulimits = {{"nofile", 1024, 4096}};
  spec.sysctls = {{"net.ipv4.ip_forward", "1"}};
  spec.labels = {{"team", "web"}, {"one.vmid", "42"}};
  json j = json::parse(ContainerCreateBody(spec, {1, 41}));
  CHECK(j["Entrypoint"] == json::array({"/bin/env", "A=1", "/bin/sh", "-c"}));
  CHECK(j["Cmd"] == json::array({"echo $A; exec sleep 9"}));
  CHECK(j["WorkingDir"] == "/www");
  CHECK(j["User"] == "65534:65534");
  CHECK(j["Tty"] == true);
  CHECK(j["OpenStdin"] == true);
  CHECK(j["HostConfig"]["ShmSize"] == 128 << 20);
  CHECK(j["HostConfig"]["Ulimits"] ==
        json::parse(R"([{"Name":"nofile","Soft":1024,"Hard":4096}])"));
  CHECK(j["HostConfig"]["Sysctls"] == json{{"net.ipv4.ip_forward", "1"}});
  CHECK(j["Labels"] == json{{"team", "web"}, {"one.vmid", "42"}});

  ContainerSpec plain = spec;
  plain.tty = plain.open_stdin = false;
  plain.entrypoint.clear();
  plain.shm_size_bytes = 0;
  json p = json::parse(ContainerCreateBody(plain, {1, 41}));
  CHECK(p["Tty"] == false);
  CHECK(p["OpenStdin"] == false);
  CHECK_FALSE(p.contains("Entrypoint"));             // the image's own
  CHECK_FALSE(p["HostConfig"].contains("ShmSize"));  // the engine's default
}

TEST_CASE("a request body with text that is not UTF-8 is still a body, never a throw") {
  ContainerSpec spec;
  spec.name = "one-42";
  spec.image = "img";
  spec.env = {"A=x\xffy"};
  std::string body;
  CHECK_NOTHROW(body = ContainerCreateBody(spec, {1, 41}));
  CHECK(json::parse(body)["Env"][0] == "A=x\xef\xbf\xbdy");  // U+FFFD
}

TEST_CASE("network connect and update bodies") {
  NetworkSpec n{.name = "one-vnet0",
                .subnet = "10.42.0.0/24",
                .gateway = "10.42.0.1",
                .options = {{"com.docker.network.bridge.name", "onebr0"}},
                .labels = {{"one.vnet_id", "0"}}};
  json j = json::parse(NetworkCreateBody(n));
  CHECK(j["IPAM"]["Config"][0]["Subnet"] == "10.42.0.0/24");
  CHECK(j["IPAM"]["Config"][0]["Gateway"] == "10.42.0.1");
  CHECK(j["Options"]["com.docker.network.bridge.name"] == "onebr0");
  CHECK(j["CheckDuplicate"] == true);

  json c = json::parse(NetworkConnectBody("one-42", {"one-vnet1", "10.43.0.42", "", {}}));
  CHECK(c["Container"] == "one-42");
  CHECK(c["EndpointConfig"]["IPAMConfig"]["IPv4Address"] == "10.43.0.42");

  json u = json::parse(ResourceUpdateBody({.nano_cpus = 1500000000, .memory_bytes = 256 << 20}));
  CHECK(u["NanoCpus"] == 1500000000);
  CHECK(u["MemorySwap"] == u["Memory"]);
  CHECK(json::parse(ResourceUpdateBody({})).empty());
}

TEST_CASE("inspect parsing tolerates nulls and unknown fields") {
  const char* body = R"({"Id":"4e9d","Name":"/one-42","Image":"sha256:32e8",
    "State":{"Status":"running","Running":true,"Paused":false,"OOMKilled":false,"Pid":8750,
             "ExitCode":0,"Error":"","StartedAt":"2026-11-28T04:00:00Z","Health":null},
    "Config":{"Hostname":"vm42","Image":"reg/httpd:7","Labels":{"one.vmid":"42"},"Env":null,
              "Unknown":{"x":1}},
    "HostConfig":{"NanoCpus":500000000,"Memory":67108864,"MemorySwap":67108864,"Init":true,
                  "NetworkMode":"one-vnet0"},
    "NetworkSettings":{"Networks":{"one-vnet0":{"NetworkID":"bfc7","IPAddress":"10.42.0.42",
      "IPPrefixLen":24,"Gateway":"10.42.0.1","MacAddress":"02:00:0a:2a:00:2a"}}}})";
  auto c = ParseContainerInspect(body);
  REQUIRE(c.ok());
  CHECK(c->name == "one-42");
  CHECK(c->running);
  CHECK(c->pid == 8750);
  CHECK(c->image == "reg/httpd:7");
  CHECK(c->env.empty());
  CHECK(c->labels.at("one.vmid") == "42");
  CHECK(c->nano_cpus == 500000000);
  CHECK(c->init);
  CHECK(c->networks.at("one-vnet0").ipv4 == "10.42.0.42");
  CHECK(c->networks.at("one-vnet0").prefix_length == 24);
  CHECK(c->networks.at("one-vnet0").mac == "02:00:0a:2a:00:2a");

  CHECK_FALSE(ParseContainerInspect("{").ok());
  CHECK_FALSE(ParseContainerInspect("{}").ok());  // no Id
  CHECK_FALSE(ParseContainerList("{}").ok());
  auto list =
      ParseContainerList(R"([{"Id":"a","Names":["/one-1"],"State":"exited","Labels":null}])");
  REQUIRE(list.ok());
  CHECK(list->at(0).name == "one-1");
  CHECK(list->at(0).state == "exited");
}

TEST_CASE("stats of a stopped container and of a running one") {
  auto stopped = ParseStats(
      R"({"read":"0001-01-01T00:00:00Z","blkio_stats":{"io_service_bytes_recursive":null},
    "cpu_stats":{"cpu_usage":{"total_usage":0}},"memory_stats":{}})");
  REQUIRE(stopped.ok());
  CHECK(stopped->cpu_total_ns == 0);
  auto running = ParseStats(R"({"read":"2026-11-28T04:00:00Z",
    "cpu_stats":{"cpu_usage":{"total_usage":1000,"percpu_usage":[600,400]},"system_cpu_usage":90000},
    "memory_stats":{"usage":2000000,"limit":67108864,"stats":{"total_inactive_file":947328}},
    "networks":{"eth0":{"rx_bytes":10,"tx_bytes":20},"eth1":{"rx_bytes":1,"tx_bytes":2}},
    "blkio_stats":{"io_service_bytes_recursive":[{"op":"Read","value":5},{"op":"Write","value":7}]},
    "pids_stats":{"current":3}})");
  REQUIRE(running.ok());
  CHECK(running->online_cpus == 2);  // from percpu_usage when online_cpus is absent
  CHECK(running->memory_usage - running->memory_inactive_file == 1052672);
  CHECK(running->net_rx_bytes == 11);
  CHECK(running->net_tx_bytes == 22);
  CHECK(running->disk_read_bytes == 5);
  CHECK(running->disk_write_bytes == 7);
  CHECK(running->pids == 3);
}

TEST_CASE("a one-shot stats reply of the real engine (20.10, cgroup v1)") {
  auto s = ParseStats(fixtures::Read("engine/stats_one_shot_h1.json"));
  REQUIRE(s.ok());
  CHECK(s->read == "2026-12-07T01:28:07.517430972Z");
  CHECK(s->cpu_total_ns == 28930426);  // cpu_stats, not precpu_stats
  CHECK(s->system_cpu_ns == 26749680000000);
  CHECK(s->online_cpus == 2);
  CHECK(s->memory_usage == 1880064);
  CHECK(s->memory_inactive_file == 991232);
  CHECK(s->memory_limit == 25276182528);
  CHECK(s->net_rx_bytes == 376);
  CHECK(s->net_tx_bytes == 0);
  CHECK(s->disk_read_bytes == 0);
  CHECK(s->pids == 1);
}

TEST_CASE("stats fields of another type read as empty, and the last of duplicate keys wins") {
  auto s = ParseStats(R"({"read":7,
    "cpu_stats":{"cpu_usage":{"total_usage":5},"system_cpu_usage":9,"online_cpus":4},
    "cpu_stats":{"cpu_usage":{"total_usage":-3,"percpu_usage":[1,{"x":2},[3]]},"online_cpus":0},
    "memory_stats":{"usage":12.7,"limit":"64","stats":{"inactive_file":100,"total_inactive_file":null}},
    "networks":{"eth0":{"rx_bytes":10,"tx_bytes":20},"eth1":5,"eth0":{"rx_bytes":1}},
    "blkio_stats":{"io_service_bytes_recursive":[{"value":4,"op":"read"},3,{"op":"Write","value":6,
      "value":8},{"op":"Total","value":99},{"op":"write","value":"1"}]},
    "pids_stats":[{"current":3}]})");
  REQUIRE(s.ok());
  CHECK(s->read.empty());        // a number where the time is
  CHECK(s->cpu_total_ns == 0);   // the second cpu_stats replaced the first, -3 reads as 0
  CHECK(s->system_cpu_ns == 0);  // it had none
  CHECK(s->online_cpus == 3);    // none either: the length of percpu_usage
  CHECK(s->memory_usage == 12);  // a float, truncated
  CHECK(s->memory_limit == 0);   // a string
  CHECK(s->memory_inactive_file ==
        0);                     // total_inactive_file is there (null), so it is the one read
  CHECK(s->net_rx_bytes == 1);  // the second eth0 only; eth1 is no object
  CHECK(s->net_tx_bytes == 0);
  CHECK(s->disk_read_bytes == 4);  // op and value in either order, either case
  CHECK(s->disk_write_bytes == 8);
  CHECK(s->pids == 0);  // pids_stats is no object
}

TEST_CASE(
    "a stats reply that is not JSON, or not only JSON, is malformed, and other JSON reads as "
    "empty") {
  for (const char* body : {"", "{", R"({"read":"x"} trailing)", R"({"cpu_stats":{"cpu_usage":)",
                           "{\"read\":\"\xff\"}"}) {
    auto s = ParseStats(body);
    CHECK(s.status().code() == Status::Code::kInternal);
    CHECK(s.status().message() == "malformed stats reply from the engine");
  }
  for (const char* body : {"[]", "5", "null", R"({"networks":[{"rx_bytes":3}]})"}) {
    auto s = ParseStats(body);
    REQUIRE(s.ok());
    CHECK(s->net_rx_bytes == 0);
    CHECK(s->cpu_total_ns == 0);
  }
}

TEST_CASE("a listing of all containers of the real engine (20.10): one exited, one running") {
  auto list = ParseContainerList(fixtures::Read("engine/containers_all_h1.json"));
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  const ContainerSummary& exited = list->at(0);
  CHECK(exited.id == "0c1fa2c4b5db3bc675ce6b1c703e3f2ecbe85d494a2f3f226baf580a5d6eb142");
  CHECK(exited.name == "fixture-2");
  CHECK(exited.image == "127.0.0.1:5001/onedock/httpd:1.0");
  CHECK(exited.state == "exited");
  CHECK(exited.status_text == "Exited (1) 4 seconds ago");
  CHECK(exited.created == 1796702153);
  CHECK(exited.labels == std::map<std::string, std::string>{{"one.host", "h1"}, {"one.vmid", "2"}});
  REQUIRE(exited.networks.size() == 1);
  CHECK(exited.networks.at("bridge").ipv4.empty());  // no address once stopped
  const ContainerSummary& running = list->at(1);
  CHECK(running.name == "fixture-1");
  CHECK(running.state == "running");
  CHECK(running.status_text == "Up 5 seconds");
  CHECK(running.labels.at("one.vmid") == "1");
  REQUIRE(running.networks.size() == 1);
  const EndpointState& e = running.networks.at("fixture-vnet0");
  CHECK(e.network_id == "f4540c31678d09ba8150b00b3041b42b69d77d293f6a6638d2b4090782783de1");
  CHECK(e.ipv4 == "10.77.0.11");  // not IPAMConfig's IPv4Address, one level further in
  CHECK(e.prefix_length == 24);
  CHECK(e.gateway == "10.77.0.1");
  CHECK(e.mac == "02:42:0a:4d:00:0b");
}

TEST_CASE("listing fields of another type read as empty, and the last of duplicate keys wins") {
  auto list = ParseContainerList(R"([7, {"Id":"a","Id":"b","Names":[5,"/one-1","/x"],
    "Image":{"Id":"c"},"State":"running","Status":3,"Created":1.7e9,
    "Labels":{"one.vmid":"1","k":"v","k":2,"Id":"z"},
    "NetworkSettings":{"Networks":{"n1":{"IPAddress":"10.0.0.2","IPPrefixLen":24},"n2":5,
      "n3":{"IPAddress":"10.0.0.3"},"n3":{"IPPrefixLen":16,"MacAddress":[]}}},
    "Mounts":[{"Id":"m","Names":["/m"],"Labels":{"a":"b"}}],"Ports":[[{"Id":"p"}]]},
    [{"Id":"not a row"}],
    {"Id":"d","Names":"/one-2","Labels":{"a":"b"},"Labels":null,
     "NetworkSettings":{"Networks":{"n1":{}}},"NetworkSettings":{"Networks":[]},"Created":"5"},
    {"Id":"e","Names":["/one-3"],"Names":[],"NetworkSettings":{"Networks":{"n1":{}},
     "Networks":{"n2":{"Gateway":"10.1.0.1"}}},"Created":-4}])");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 3);  // 7 and the array are no rows
  const ContainerSummary& a = list->at(0);
  CHECK(a.id == "b");
  CHECK(a.name == "one-1");  // the first string of Names
  CHECK(a.image.empty());    // an object, whose Id is not the row's
  CHECK(a.state == "running");
  CHECK(a.status_text.empty());
  CHECK(a.created == 1700000000);  // a float, truncated
  CHECK(a.labels == std::map<std::string, std::string>{{"Id", "z"}, {"one.vmid", "1"}});
  REQUIRE(a.networks.size() == 2);  // n2 is no object
  CHECK(a.networks.at("n1").ipv4 == "10.0.0.2");
  CHECK(a.networks.at("n1").prefix_length == 24);
  CHECK(a.networks.at("n3").ipv4.empty());  // the second n3 replaced the first
  CHECK(a.networks.at("n3").prefix_length == 16);
  CHECK(a.networks.at("n3").mac.empty());
  const ContainerSummary& d = list->at(1);
  CHECK(d.id == "d");
  CHECK(d.name.empty());  // Names is no array
  CHECK(d.labels.empty());
  CHECK(d.networks.empty());
  CHECK(d.created == 0);
  const ContainerSummary& e = list->at(2);
  CHECK(e.name.empty());
  REQUIRE(e.networks.size() == 1);
  CHECK(e.networks.at("n2").gateway == "10.1.0.1");
  CHECK(e.created == -4);
}

TEST_CASE("a listing that is not JSON is malformed, and one that is no array is refused") {
  for (const char* body : {"", "[", R"([{"Id":"a"}] trailing)", R"([{"Id":)", "[\"\xff\"]"}) {
    auto list = ParseContainerList(body);
    CHECK(list.status().code() == Status::Code::kInternal);
    CHECK(list.status().message() == "malformed container list reply from the engine");
  }
  for (const char* body : {"{}", "5", "null", R"({"Id":"a"})"}) {
    auto list = ParseContainerList(body);
    CHECK(list.status().code() == Status::Code::kInternal);
    CHECK(list.status().message() == "container list reply is not an array");
  }
  auto empty = ParseContainerList("[]");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("event lines carry labels as attributes") {
  auto e = ParseEvent(R"({"status":"die","id":"8491","Type":"container","Action":"die",
    "Actor":{"ID":"8491","Attributes":{"exitCode":"137","name":"one-77","one.vmid":"77"}},
    "scope":"local","time":1795838769,"timeNano":1795838769949706713})");
  REQUIRE(e.ok());
  CHECK(e->action == "die");
  CHECK(e->attributes.at("one.vmid") == "77");
  CHECK(e->time_nano == 1795838769949706713);
  EventFilter f{.types = {"container"}, .labels = {"one.vmid=77"}};
  CHECK(json::parse(EventFiltersJson(f)) ==
        json::parse(R"({"type":["container"],"label":["one.vmid=77"]})"));
}

// One frame of the multiplexed exec stream: stream byte, 3 zero bytes, big-endian length.
std::string Frame(char stream, const std::string& text) {
  const auto n = static_cast<uint32_t>(text.size());
  std::string raw{stream, 0, 0, 0};
  for (int shift : {24, 16, 8, 0}) raw += static_cast<char>((n >> shift) & 0xff);
  return raw + text;
}

TEST_CASE("exec stream frames are split into stdout and stderr, whatever the chunks") {
  const std::string raw = Frame(1, "out-42\n") + Frame(2, "err\n") + Frame(1, "one-42\n");
  for (size_t chunk : {raw.size(), size_t{1}, size_t{3}, size_t{9}}) {
    StreamDemuxer d;
    for (size_t at = 0; at < raw.size(); at += chunk) REQUIRE(d.Feed(raw.substr(at, chunk)).ok());
    REQUIRE(d.Finish().ok());
    CHECK(d.out().Tail() == "out-42\none-42\n");
    CHECK(d.err().Tail() == "err\n");
    CHECK(d.out().total() == 14);
  }
  StreamDemuxer cut;
  REQUIRE(cut.Feed(raw.substr(0, raw.size() - 2)).ok());
  CHECK_FALSE(cut.Finish().ok());
  StreamDemuxer header_only;
  REQUIRE(header_only.Feed(raw.substr(0, 5)).ok());
  CHECK_FALSE(header_only.Finish().ok());
  StreamDemuxer unknown;
  CHECK_FALSE(unknown.Feed(std::string("\x05\0\0\0\0\0\0\0", 8)).ok());
  CHECK_FALSE(unknown.Finish().ok());
}

TEST_CASE("an exec writing far more than the bound keeps only the tail of each stream") {
  // 64 MB of stdout and 8 MB of one stderr line, in frames of 32 KB as the engine sends them.
  StreamDemuxer d;
  const std::string block(32 * 1024, 'x');
  size_t peak = 0;
  for (int n = 0; n < 2048; ++n) {
    REQUIRE(d.Feed(Frame(1, block)).ok());
    if (n % 8 == 0) REQUIRE(d.Feed(Frame(2, std::string(32 * 1024, 'e'))).ok());
    peak = std::max(peak, d.out().Tail().size() + d.err().Tail().size());
  }
  REQUIRE(d.Feed(Frame(1, "the end\n")).ok());
  REQUIRE(d.Finish().ok());
  CHECK(d.out().total() == 2048LL * 32 * 1024 + 8);
  CHECK(d.err().total() == 256LL * 32 * 1024);
  CHECK(d.out().Tail().size() == kExecTailBytes);
  CHECK(d.err().Tail().size() == kExecTailBytes);
  CHECK(peak <= 2 * kExecTailBytes);
  CHECK(d.out().Tail().substr(kExecTailBytes - 8) == "the end\n");
}

TEST_CASE("the network list reads each network's subnet, as Debian 12's engine lists them") {
  // Two entries of GET /networks from engine h1 (API 1.41), trimmed of fields onedock ignores.
  auto list = ParseNetworkList(R"([
    {"Name":"host","Id":"af66","Driver":"host","IPAM":{"Driver":"default","Options":null,"Config":[]},
     "Containers":{},"Options":{},"Labels":{}},
    {"Name":"bridge","Id":"4771","Driver":"bridge",
     "IPAM":{"Driver":"default","Options":null,"Config":[{"Subnet":"10.211.1.0/24","Gateway":"10.211.1.1"}]},
     "Containers":{},"Options":{"com.docker.network.bridge.name":"odk-h1"},"Labels":{}}])");
  REQUIRE_MESSAGE(list.ok(), list.status().ToString());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].subnet.empty());
  CHECK((*list)[1].name == "bridge");
  CHECK((*list)[1].subnet == "10.211.1.0/24");
  CHECK((*list)[1].options.at("com.docker.network.bridge.name") == "odk-h1");
  CHECK_FALSE(ParseNetworkList(R"({"Name":"bridge"})").ok());
  CHECK_FALSE(ParseNetworkList(R"([{"Name":"no id"}])").ok());
}

}  // namespace onedock::docker
