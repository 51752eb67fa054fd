#include "bridge/run_options.h"

#include <doctest/doctest.h>

#include "bridge/container_exit.h"
#include "bridge/output_tail.h"

namespace onedock {
namespace {

using Words = std::vector<std::string>;

Vm VmWith(Attributes user_template, Attributes disk0 = {}) {
  Vm vm;
  vm.id = 7;
  vm.memory_mb = 128;
  vm.user_template = std::move(user_template);
  Disk d;
  d.disk_id = 0;
  d.all = std::move(disk0);
  vm.disks.push_back(d);
  return vm;
}

std::string ErrorOf(const Vm& vm) {
  auto o = RunOptionsOf(vm);
  REQUIRE_FALSE(o.ok());
  return o.status().message();
}

TEST_CASE("words split as a shell splits them, and nothing in them is expanded or run") {
  CHECK(*SplitWords("sh -c 'echo $HOME; rm -rf /'") == Words{"sh", "-c", "echo $HOME; rm -rf /"});
  CHECK(*SplitWords("a;b c|d `id` $(id) > out &") ==
        Words{"a;b", "c|d", "`id`", "$(id)", ">", "out", "&"});
  CHECK(*SplitWords(R"(say "two words" "q\"uote" 'it''s' back\ slash)") ==
        Words{"say", "two words", "q\"uote", "its", "back slash"});
  CHECK(*SplitWords(R"("a\nb" "\$x")") == Words{R"(a\nb)", "$x"});
  CHECK(*SplitWords("  x\t\n y  ") == Words{"x", "y"});
  CHECK(*SplitWords("'' \"\"") == Words{"", ""});
  CHECK(SplitWords("").value().empty());
  CHECK_FALSE(SplitWords("'open").ok());
  CHECK_FALSE(SplitWords("\"open").ok());
  CHECK_FALSE(SplitWords("end\\").ok());
}

TEST_CASE("a command is a JSON array of strings or shell words, checked and named") {
  CHECK(*ParseCommand("DOCKER_CMD", R"( ["sh", "-c", "exit 3"] )") == Words{"sh", "-c", "exit 3"});
  CHECK(*ParseCommand("DOCKER_CMD", "sleep 1000") == Words{"sleep", "1000"});
  auto bad_json = ParseCommand("DOCKER_CMD", R"(["sh", )");
  CHECK(bad_json.status().message().find("DOCKER_CMD: ") == 0);
  CHECK(bad_json.status().message().find("not a JSON array") != std::string::npos);
  auto number = ParseCommand("DOCKER_ENTRYPOINT", R"(["sh", 3])");
  CHECK(number.status().message().find("DOCKER_ENTRYPOINT: every item") == 0);
  CHECK(*ParseCommand("DOCKER_CMD", R"({"a":"b"})") == Words{"{a:b}"});  // words, not JSON
  CHECK_FALSE(ParseCommand("DOCKER_CMD", "[]").ok());
  CHECK(ParseCommand("DOCKER_CMD", "'x").status().message().find("DOCKER_CMD: a ' is not closed") ==
        0);
  std::string many;
  for (int i = 0; i < 300; ++i) many += "w ";
  CHECK(ParseCommand("DOCKER_CMD", many).status().message().find("more than 256") !=
        std::string::npos);
  CHECK_FALSE(ParseCommand("DOCKER_CMD", std::string("[\"a\\u0000b\"]")).ok());
}

TEST_CASE("the VM's own attribute wins over its image's, and an empty one clears it") {
  Attributes image = {{"DOCKER_CMD", "sleep 1"}, {"DOCKER_WORKDIR", "/srv"}};
  auto inherited = RunOptionsOf(VmWith({}, image));
  REQUIRE(inherited.ok());
  CHECK(inherited->cmd == Words{"sleep", "1"});
  CHECK(inherited->working_dir == "/srv");
  CHECK(inherited->tty);
  auto own = RunOptionsOf(VmWith({{"DOCKER_CMD", "sleep 2"}, {"DOCKER_WORKDIR", ""}}, image));
  REQUIRE(own.ok());
  CHECK(own->cmd == Words{"sleep", "2"});
  CHECK(own->working_dir.empty());  // the Docker image's own WORKDIR
}

TEST_CASE("DOCKER_TTY, DOCKER_WORKDIR and DOCKER_USER take only what they can mean") {
  CHECK_FALSE(RunOptionsOf(VmWith({{"DOCKER_TTY", "no"}}))->tty);
  CHECK(RunOptionsOf(VmWith({{"DOCKER_TTY", "YES"}}))->tty);
  CHECK(ErrorOf(VmWith({{"DOCKER_TTY", "maybe"}})).find("DOCKER_TTY") == 0);
  CHECK(ErrorOf(VmWith({{"DOCKER_WORKDIR", "srv"}})).find("DOCKER_WORKDIR") == 0);
  CHECK(ErrorOf(VmWith({{"DOCKER_WORKDIR", "/a\nb"}})).find("DOCKER_WORKDIR") == 0);
  CHECK(RunOptionsOf(VmWith({{"DOCKER_USER", "1000:1000"}}))->user == "1000:1000");
  CHECK(RunOptionsOf(VmWith({{"DOCKER_USER", "nobody"}}))->user == "nobody");
  for (const char* bad : {"root;id", "a:b:c", "-x", "x y", ":grp", "$(id)"}) {
    CAPTURE(bad);
    CHECK(ErrorOf(VmWith({{"DOCKER_USER", bad}})).find("DOCKER_USER") == 0);
  }
}

TEST_CASE("DOCKER_ENV adds variables but never one CONTEXT sets, and keeps values literal") {
  auto o = RunOptionsOf(VmWith({{"DOCKER_ENV", R"(GREETING="hello world" EMPTY= X=$(id);y)"}}));
  REQUIRE(o.ok());
  CHECK(o->env == Words{"GREETING=hello world", "EMPTY=", "X=$(id);y"});
  auto json = RunOptionsOf(VmWith({{"DOCKER_ENV", R"({"A": "1", "B": "x y"})"}}));
  REQUIRE(json.ok());
  CHECK(json->env == Words{"A=1", "B=x y"});
  Vm clash = VmWith({{"DOCKER_ENV", "ETH0_IP=1.2.3.4"}});
  clash.context = {{"ETH0_IP", "10.0.0.2"}};
  CHECK(ErrorOf(clash).find("also a CONTEXT variable") != std::string::npos);
  CHECK(ErrorOf(VmWith({{"DOCKER_ENV", "1BAD=x"}})).find("DOCKER_ENV") == 0);
  CHECK(ErrorOf(VmWith({{"DOCKER_ENV", "NOVALUE"}})).find("NAME=VALUE") != std::string::npos);
  CHECK(ErrorOf(VmWith({{"DOCKER_ENV", "A=1 A=2"}})).find("set twice") != std::string::npos);
  CHECK(ErrorOf(VmWith({{"DOCKER_ENV", R"({"A": 1})"}})).find("JSON string") != std::string::npos);
  CHECK(ErrorOf(VmWith({{"DOCKER_ENV", R"({"A": )"}})).find("JSON object") != std::string::npos);
}

TEST_CASE("an oversized value is refused before it is parsed") {
  CHECK(ErrorOf(VmWith({{"DOCKER_ENV", "A=" + std::string(kMaxRunValue, 'x')}}))
            .find("DOCKER_ENV: 16386 bytes") == 0);
}

TEST_CASE("a value that is not UTF-8 is refused, named, before anything is built from it") {
  CHECK(ErrorOf(VmWith({{"DOCKER_CMD",
                         "echo a\xff"
                         "b"}})) == "DOCKER_CMD: not UTF-8 text");
  CHECK(ErrorOf(VmWith({}, {{"DOCKER_LABELS", "team=\xc0\xaf"}})) ==  // an overlong '/'
        "DOCKER_LABELS: not UTF-8 text");
  CHECK(ErrorOf(VmWith({{"DOCKER_ENV", "A=\xed\xa0\x80"}})) ==  // a surrogate
        "DOCKER_ENV: not UTF-8 text");
  auto fine =
      RunOptionsOf(VmWith({{"DOCKER_ENV", "GREETING=h\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb3"}}));
  REQUIRE_MESSAGE(fine.ok(), fine.status().ToString());
  CHECK(fine->env == Words{"GREETING=h\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb3"});
}

TEST_CASE("DOCKER_SHM_SIZE is a size no larger than the VM's memory") {
  CHECK(*ParseSize("S", "64m") == 64 << 20);
  CHECK(*ParseSize("S", "1GB") == int64_t{1} << 30);
  CHECK(*ParseSize("S", "512k") == 512 << 10);
  CHECK(*ParseSize("S", "4096") == 4096);
  for (const char* bad : {"", "m", "-1", "1.5g", "12t", "0x10", "999999999999999g"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseSize("S", bad).ok());
  }
  CHECK(RunOptionsOf(VmWith({{"DOCKER_SHM_SIZE", "32m"}}))->shm_size_bytes == 32 << 20);
  CHECK(ErrorOf(VmWith({{"DOCKER_SHM_SIZE", "256m"}})).find("MEMORY") != std::string::npos);
  CHECK(ErrorOf(VmWith({{"DOCKER_SHM_SIZE", "0"}})).find("above 0") != std::string::npos);
}

TEST_CASE("DOCKER_ULIMITS names a resource and a soft limit not above its hard one") {
  auto o = RunOptionsOf(VmWith({{"DOCKER_ULIMITS", "nofile=1024:2048 core=0 memlock=unlimited"}}));
  REQUIRE(o.ok());
  CHECK(o->ulimits ==
        std::vector<Ulimit>{{"nofile", 1024, 2048}, {"core", 0, 0}, {"memlock", -1, -1}});
  CHECK(ErrorOf(VmWith({{"DOCKER_ULIMITS", "files=10"}})).find("not a resource limit") !=
        std::string::npos);
  CHECK(ErrorOf(VmWith({{"DOCKER_ULIMITS", "nofile=20:10"}})).find("above the hard") !=
        std::string::npos);
  CHECK(ErrorOf(VmWith({{"DOCKER_ULIMITS", "nofile=1e3"}})).find("SOFT[:HARD]") !=
        std::string::npos);
  CHECK(ErrorOf(VmWith({{"DOCKER_ULIMITS", "nofile=1024,"}})).find("SOFT[:HARD]") !=
        std::string::npos);
}

TEST_CASE("DOCKER_ULIMITS never lets a container past its share of the host") {
  const int64_t memory = 128 << 20;
  const auto check = [&](const char* value, bool realtime) {
    auto o = RunOptionsOf(VmWith({{"DOCKER_ULIMITS", value}}));
    REQUIRE(o.ok());
    return CheckUlimits(o->ulimits, memory, realtime);
  };
  CHECK(check("nofile=1024:4096 rtprio=0 nice=20 memlock=65536 core=unlimited", false).ok());
  for (const char* realtime :
       {"rtprio=1", "rtprio=0:99", "rtprio=unlimited", "nice=21", "nice=40", "nice=-1"}) {
    CAPTURE(realtime);
    const Status refused = check(realtime, false);
    CHECK(refused.code() == Status::Code::kPermissionDenied);
    CHECK(refused.message().find("allow_realtime_ulimits = no") != std::string::npos);
    CHECK(check(realtime, true).ok());
  }
  for (const char* past :
       {"memlock=unlimited", "memlock=134217729", "nofile=1048577", "nofile=1024:unlimited"}) {
    CAPTURE(past);
    const Status refused = check(past, true);
    CHECK(refused.code() == Status::Code::kInvalidArgument);
    CHECK(refused.message().rfind("DOCKER_ULIMITS: ", 0) == 0);
  }
  CHECK(check("memlock=134217728", false).ok());
}

TEST_CASE("DOCKER_SYSCTLS takes only what the container's own namespaces keep") {
  auto o = RunOptionsOf(
      VmWith({{"DOCKER_SYSCTLS", "net.ipv4.ip_forward=1 kernel.sem='250 32000 100 128'"}}));
  REQUIRE(o.ok());
  CHECK(o->sysctls.at("kernel.sem") == "250 32000 100 128");
  CHECK(o->sysctls.at("net.ipv4.ip_forward") == "1");
  CHECK(IsNamespacedSysctl("fs.mqueue.msg_max"));
  CHECK_FALSE(IsNamespacedSysctl("vm.swappiness"));
  CHECK_FALSE(IsNamespacedSysctl("kernel.panic"));
  auto host_wide = RunOptionsOf(VmWith({{"DOCKER_SYSCTLS", "vm.swappiness=0"}}));
  CHECK(host_wide.status().code() == Status::Code::kPermissionDenied);
  CHECK(host_wide.status().message().find("would change the host") != std::string::npos);
  CHECK(ErrorOf(VmWith({{"DOCKER_SYSCTLS", "kernel.hostname=x"}})).find("SET_HOSTNAME") !=
        std::string::npos);
  CHECK(ErrorOf(VmWith({{"DOCKER_SYSCTLS", "../../x=1"}})).find("not a sysctl name") !=
        std::string::npos);
  CHECK(ErrorOf(VmWith({{"DOCKER_SYSCTLS", "net.x=\"a\nb\""}})).find("one line") !=
        std::string::npos);
}

TEST_CASE("DOCKER_LABELS never sets one of onedock's own one.* labels nor Docker's reserved ones") {
  auto o = RunOptionsOf(VmWith({{"DOCKER_LABELS", "team=web com.example/tier=front"}}));
  REQUIRE(o.ok());
  CHECK(o->labels.at("team") == "web");
  for (const char* bad : {"one.vmid=9", "ONE.instance=x", "one.anything=y"}) {
    CAPTURE(bad);
    CHECK(ErrorOf(VmWith({{"DOCKER_LABELS", bad}})).find("onedock's own") != std::string::npos);
  }
  CHECK(ErrorOf(VmWith({{"DOCKER_LABELS", "-x=1"}})).find("not a label name") != std::string::npos);
  for (const char* reserved : {"com.docker.compose.project=x", "io.docker.x=1",
                               "org.dockerproject.y=2", "COM.DOCKER.z=3"}) {
    CAPTURE(reserved);
    CHECK(ErrorOf(VmWith({{"DOCKER_LABELS", reserved}})).find("reserved by Docker") !=
          std::string::npos);
  }
}

TEST_CASE("a log's last lines are one printable UTF-8 line, bounded") {
  CHECK(LastLines("a\nb\n\nc\nd\n", 3, 100) == "b | c | d");
  CHECK(LastLines("\x1b[31mred\x1b[0m\r\n", 5, 100) == "red");
  CHECK(LastLines("bad \xff\xfe utf8 \x01 ok é\n", 1, 100) == "bad ?? utf8 ? ok é");
  const std::string cut = LastLines(std::string(1000, 'x'), 1, 50);
  CHECK(cut.size() <= 50);
  CHECK(cut.rfind("…", 0) == 0);
  CHECK(LastLines("", 5, 100).empty());
}

TEST_CASE("a start that fails says how, and a command that ends with 0 is no failure") {
  ContainerInfo info;
  info.status = "exited";
  info.exit_code = 3;
  const ContainerExit e = ExitOf(info, "starting\nno config file\n");
  CHECK(IsFailure(e));
  CHECK(StartFailureMessage(e, 500) ==
        "command exited 3 at its start: starting | no config file (the container ended within "
        "500 ms of its start)");
  info.exit_code = 137;
  info.oom_killed = true;
  CHECK(StartFailureMessage(ExitOf(info, ""), 500)
            .find("killed at its start for using more than MEMORY (exit 137)") !=
        std::string::npos);
  info.exit_code = 0;
  info.oom_killed = false;
  CHECK_FALSE(IsFailure(ExitOf(info, "done\n")));
}

}  // namespace
}  // namespace onedock
