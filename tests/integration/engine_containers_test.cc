// Container operations against a real engine over mTLS, including the 304/404/409 answers that
// onedock's idempotent steps rely on.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "bridge/output_tail.h"
#include "bridge/tar_writer.h"
#include "docker/engine_client.h"
#include "monitor/probes.h"
#include "tests/integration/bed.h"
#include "tests/support/engine_admin.h"

namespace onedock::docker {
namespace {

using Code = Status::Code;

ContainerSpec HttpdSpec(const std::string& name) {
  ContainerSpec spec;
  spec.name = name;
  spec.image = testbed::TestImage();
  spec.labels = {{"one.vmid", name}, {"onedock.test", "containers"}};
  spec.hostname = "vm-" + name.substr(name.size() - 4);
  spec.env = {"ONE_VMID=42"};
  spec.nano_cpus = 500000000;
  spec.memory_bytes = 64 << 20;
  spec.network_mode = "none";
  return spec;
}

EngineClient& H1() {
  static EngineClient client("h1", testbed::Engine("h1"));
  static const Status pulled = client.PullImage(testbed::TestImage());
  REQUIRE_MESSAGE(pulled.ok(), pulled.ToString());
  return client;
}

}  // namespace

TEST_CASE("create start stop restart and remove with their idempotent answers") {
  EngineClient& h1 = H1();
  const std::string name = testbed::UniqueName("lc");
  auto id = h1.CreateContainer(HttpdSpec(name));
  REQUIRE_MESSAGE(id.ok(), id.status().ToString());

  auto again = h1.CreateContainer(HttpdSpec(name));
  CHECK(again.status().code() == Code::kConflict);
  CHECK(again.status().message().find("already in use") != std::string::npos);

  CHECK(*h1.StartContainer(name) == Outcome::kDone);
  CHECK(*h1.StartContainer(name) == Outcome::kAlreadyDone);  // 304

  auto info = h1.InspectContainer(name);
  REQUIRE(info.ok());
  CHECK(info->id == *id);
  CHECK(info->running);
  CHECK(info->nano_cpus == 500000000);
  CHECK(info->memory_bytes == 64 << 20);
  CHECK(info->memory_swap_bytes == 64 << 20);
  CHECK(info->init);
  CHECK(info->labels.at("onedock.test") == "containers");
  CHECK(std::find(info->env.begin(), info->env.end(), "ONE_VMID=42") != info->env.end());

  auto listed = h1.ListContainers({"one.vmid=" + name});
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->at(0).name == name);
  CHECK(listed->at(0).state == "running");

  CHECK(h1.RemoveContainer(name, false, false).code() == Code::kConflict);  // running

  CHECK(*h1.StopContainer(name, 10) == Outcome::kDone);
  CHECK(*h1.StopContainer(name, 10) == Outcome::kAlreadyDone);  // 304
  CHECK(h1.KillContainer(name).code() == Code::kConflict);      // not running
  CHECK_FALSE(h1.InspectContainer(name)->running);

  CHECK(*h1.RestartContainer(name, 5) == Outcome::kDone);
  CHECK(h1.InspectContainer(name)->running);

  REQUIRE(h1.RemoveContainer(name, true, true).ok());
  CHECK(h1.RemoveContainer(name, true, true).code() == Code::kNotFound);
  CHECK(h1.InspectContainer(name).status().code() == Code::kNotFound);
  CHECK(h1.StartContainer(name).status().code() == Code::kNotFound);
  CHECK(h1.ListContainers({"one.vmid=" + name})->empty());
}

TEST_CASE(
    "waiting for a stop tells a running container from an ended one and keeps the connection") {
  EngineClient h1("h1", testbed::Engine("h1"));
  const std::string running = testbed::UniqueName("wait");
  REQUIRE(h1.CreateContainer(HttpdSpec(running)).ok());
  REQUIRE(h1.StartContainer(running).ok());
  ContainerSpec ending = HttpdSpec(testbed::UniqueName("wait"));
  ending.cmd = {"/bin/sh", "-c", "echo first; echo 'last line'; exit 3"};
  REQUIRE(h1.CreateContainer(ending).ok());
  REQUIRE(h1.StartContainer(ending.name).ok());
  const long opened = h1.connections_opened();

  auto still = h1.WaitStopped(running, 300);
  REQUIRE(still.ok());
  CHECK_FALSE(*still);
  auto ended = h1.WaitStopped(ending.name, 10000);
  REQUIRE(ended.ok());
  CHECK(*ended);
  CHECK(h1.InspectContainer(ending.name)->exit_code == 3);
  auto tail = h1.LogTail(ending.name, 1, false);
  REQUIRE(tail.ok());
  CHECK(*tail == "last line\n");
  CHECK(h1.WaitStopped("no-such-" + running, 100).status().code() == Code::kNotFound);
  CHECK(h1.connections_opened() == opened);

  CHECK(h1.RemoveContainer(running, true, true).ok());
  CHECK(h1.RemoveContainer(ending.name, true, true).ok());
}

TEST_CASE("stop waits past its timeout for a process that ignores SIGTERM") {
  EngineClient& h1 = H1();
  ContainerSpec spec = HttpdSpec(testbed::UniqueName("stop"));
  spec.init = false;  // sleep as PID 1 ignores SIGTERM, so the engine kills after the timeout
  spec.cmd = {"/bin/sleep", "3600"};
  REQUIRE(h1.CreateContainer(spec).ok());
  REQUIRE(h1.StartContainer(spec.name).ok());
  auto stopped = h1.StopContainer(spec.name, 2);
  REQUIRE_MESSAGE(stopped.ok(), stopped.status().ToString());
  auto info = h1.InspectContainer(spec.name);
  REQUIRE(info.ok());
  CHECK_FALSE(info->running);
  CHECK(info->exit_code == 137);
  CHECK(h1.RemoveContainer(spec.name, true, true).ok());
}

TEST_CASE("kill pause and unpause") {
  EngineClient& h1 = H1();
  const std::string name = testbed::UniqueName("kp");
  REQUIRE(h1.CreateContainer(HttpdSpec(name)).ok());
  REQUIRE(h1.StartContainer(name).ok());
  testing::EngineAdmin admin("h1", testbed::Engine("h1"));
  CHECK(*admin.PauseContainer(name) == Outcome::kDone);
  CHECK(h1.InspectContainer(name)->paused);
  CHECK(admin.PauseContainer(name).status().code() == Code::kConflict);  // already paused
  CHECK(*admin.UnpauseContainer(name) == Outcome::kDone);
  CHECK(admin.UnpauseContainer(name).status().code() == Code::kInternal);  // engine answers 500
  CHECK(h1.KillContainer(name, "FOO").code() == Code::kInvalidArgument);
  REQUIRE(h1.KillContainer(name).ok());
  auto info = h1.InspectContainer(name);
  CHECK_FALSE(info->running);
  CHECK(info->exit_code == 137);
  CHECK(h1.RemoveContainer(name, true, true).ok());
}

TEST_CASE("live update of CPU and memory reaches the container's limits") {
  EngineClient& h1 = H1();
  const std::string name = testbed::UniqueName("upd");
  REQUIRE(h1.CreateContainer(HttpdSpec(name)).ok());
  REQUIRE(h1.StartContainer(name).ok());
  REQUIRE(h1.UpdateContainer(name, {.nano_cpus = 1500000000, .memory_bytes = 256 << 20}).ok());
  auto info = h1.InspectContainer(name);
  CHECK(info->nano_cpus == 1500000000);
  CHECK(info->memory_bytes == 256 << 20);
  CHECK(info->memory_swap_bytes == 256 << 20);
  // The cgroup inside sees the new memory limit.
  auto limit = h1.Exec(name, {"/bin/cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"});
  REQUIRE(limit.ok());
  CHECK(limit->out == std::to_string(256 << 20) + "\n");
  auto too_many = h1.UpdateContainer(name, {.nano_cpus = 64000000000});
  CHECK(too_many.code() == Code::kInvalidArgument);
  CHECK(h1.RemoveContainer(name, true, true).ok());
}

// Peak resident memory of this process (VmHWM), in KB.
int64_t PeakRssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

TEST_CASE("an exec writing hundreds of megabytes costs a bounded tail, not its output's size") {
  EngineClient& h1 = H1();
  const std::string name = testbed::UniqueName("exbig");
  REQUIRE(h1.CreateContainer(HttpdSpec(name)).ok());
  REQUIRE(h1.StartContainer(name).ok());
  const int64_t before_kb = PeakRssKb();
  // 256 MB of stdout, then 32 MB of stderr on one line, then a last word on each.
  auto r = h1.Exec(name,
                   {"/bin/sh", "-c",
                    "head -c 268435456 /dev/zero; head -c 33554432 /dev/zero | tr '\\0' e >&2; "
                    "echo out-end; echo err-end >&2; exit 7"},
                   {}, 300000);
  const int64_t after_kb = PeakRssKb();
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  MESSAGE("exec of 288 MB of output: VmHWM " << before_kb << " KB before, " << after_kb
                                             << " KB after");
  CHECK(r->exit_code == 7);
  CHECK(r->out_bytes == 268435456 + 8);
  CHECK(r->err_bytes == 33554432 + 8);
  CHECK(r->out.size() == kExecTailBytes);
  CHECK(r->err.size() == kExecTailBytes);
  CHECK(r->out.substr(r->out.size() - 8) == "out-end\n");
  CHECK(r->err.substr(r->err.size() - 8) == "err-end\n");
  CHECK(after_kb - before_kb < 32 * 1024);  // far below the 288 MB written
  // The connection is still good for the next call.
  auto next = h1.Exec(name, {"/bin/sh", "-c", "echo still"});
  REQUIRE(next.ok());
  CHECK(next->out == "still\n");
  CHECK(h1.RemoveContainer(name, true, true).ok());
}

TEST_CASE("exec returns output and exit code and archive upload lands in the filesystem") {
  EngineClient& h1 = H1();
  const std::string name = testbed::UniqueName("ex");
  REQUIRE(h1.CreateContainer(HttpdSpec(name)).ok());

  // Before start, as the context files will be.
  TarWriter tar;
  REQUIRE(tar.AddDirectory("etc/one-context").ok());
  REQUIRE(tar.AddFile("etc/one-context/context.sh", "ETH0_IP='10.42.0.42'\n", 0600).ok());
  REQUIRE(h1.PutArchive(name, "/", tar.Finish()).ok());
  REQUIRE(h1.StartContainer(name).ok());

  auto r = h1.Exec(name, {"/bin/sh", "-c", "echo out-$ONE_VMID-$EXTRA; echo err >&2; exit 3"},
                   {"EXTRA=1"});
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->exit_code == 3);
  CHECK(r->out == "out-42-1\n");
  CHECK(r->err == "err\n");

  auto cat = h1.Exec(
      name,
      {"/bin/sh", "-c", "cat /etc/one-context/context.sh; stat -c %a /etc/one-context/context.sh"});
  REQUIRE(cat.ok());
  CHECK(cat->exit_code == 0);
  CHECK(cat->out == "ETH0_IP='10.42.0.42'\n600\n");

  auto missing = h1.Exec(name, {"/no/such/binary"});
  REQUIRE(missing.ok());
  CHECK(missing->exit_code != 0);

  REQUIRE(h1.StopContainer(name, 5).ok());
  CHECK(h1.Exec(name, {"/bin/true"}).status().code() == Code::kConflict);
  CHECK(h1.PutArchive("no-such-container", "/", tar.Finish()).code() == Code::kNotFound);
  CHECK(h1.RemoveContainer(name, true, true).ok());
}

TEST_CASE("one-shot stats of running and stopped containers") {
  EngineClient& h1 = H1();
  const std::string name = testbed::UniqueName("st");
  REQUIRE(h1.CreateContainer(HttpdSpec(name)).ok());
  REQUIRE(h1.StartContainer(name).ok());
  auto s = h1.Stats(name);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  CHECK(s->cpu_total_ns > 0);
  CHECK(s->memory_usage > 0);
  CHECK(s->memory_limit == 64u << 20);
  CHECK(s->online_cpus > 0);
  CHECK(s->pids >= 1);
  REQUIRE(h1.StopContainer(name, 5).ok());
  auto stopped = h1.Stats(name);
  REQUIRE(stopped.ok());
  CHECK(stopped->cpu_total_ns == 0);
  CHECK(stopped->read.rfind("0001-01-01", 0) == 0);
  CHECK(h1.Stats("no-such-container").status().code() == Code::kNotFound);
  CHECK(h1.RemoveContainer(name, true, true).ok());
}

TEST_CASE(
    "stats of many containers asked together answer in order on connections kept for the next "
    "round, until a bound of half or less closes them") {
  EngineClient h1("h1", testbed::Engine("h1"));
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) {
    ContainerSpec spec = HttpdSpec(testbed::UniqueName("many"));
    spec.memory_bytes = (64 + i) << 20;  // tells each answer's container apart
    REQUIRE(h1.CreateContainer(spec).ok());
    REQUIRE(h1.StartContainer(spec.name).ok());
    names.push_back(spec.name);
  }
  std::vector<std::string> asked = names;
  asked.insert(asked.begin() + 5, "no-such-" + names[0]);
  REQUIRE(h1.Negotiate().ok());
  const long before = h1.connections_opened();
  auto first = h1.StatsOfMany(asked, 8);
  REQUIRE(first.size() == asked.size());
  const long opened = h1.connections_opened() - before;
  CHECK(opened >= 1);
  CHECK(opened <= 8);
  for (size_t i = 0, n = 0; i < asked.size(); ++i) {
    CAPTURE(asked[i]);
    if (i == 5) {
      CHECK(first[i].status().code() == Code::kNotFound);
      continue;
    }
    REQUIRE_MESSAGE(first[i].ok(), first[i].status().ToString());
    CHECK(first[i]->memory_limit == static_cast<uint64_t>(64 + n) << 20);
    CHECK(first[i]->pids >= 1);
    ++n;
  }
  auto second = h1.StatsOfMany(names, 8);
  for (const auto& s : second) CHECK(s.ok());
  CHECK(h1.connections_opened() - before == opened);  // the same connections, kept
  // A bound lowered by less than half (a host more in the fleet) keeps using the kept ones.
  auto lower = h1.StatsOfMany(names, 6);
  for (const auto& s : lower) CHECK(s.ok());
  CHECK(h1.connections_opened() - before == opened);
  // One of half or less closes them: the next call opens its own, and keeps them in turn.
  const long lowered = h1.connections_opened();
  auto third = h1.StatsOfMany(names, 2);
  for (const auto& s : third) CHECK(s.ok());
  CHECK(h1.connections_opened() - lowered >= 1);
  CHECK(h1.connections_opened() - lowered <= 2);
  const long kept = h1.connections_opened();
  auto fourth = h1.StatsOfMany(names, 2);
  for (const auto& s : fourth) CHECK(s.ok());
  CHECK(h1.connections_opened() == kept);
  for (const auto& name : names) CHECK(h1.RemoveContainer(name, true, true).ok());
}

TEST_CASE("a container's health check reads as starting, healthy and unhealthy in the listing") {
  EngineClient& h1 = H1();
  const std::string name = testbed::UniqueName("health");
  const nlohmann::json body = {{"Image", testbed::TestImage()},
                               {"Entrypoint", {"/bin/sh", "-c"}},
                               {"Cmd", {"sleep 2; touch /tmp/ok; exec sleep 1000"}},
                               {"Labels", {{"onedock.test", "health"}}},
                               {"Healthcheck",
                                {{"Test", {"CMD-SHELL", "test -e /tmp/ok"}},
                                 {"Interval", 300'000'000},
                                 {"Timeout", 1'000'000'000},
                                 {"Retries", 1}}},
                               {"HostConfig", {{"NetworkMode", "none"}}}};
  testing::EngineAdmin admin("h1", testbed::Engine("h1"));
  REQUIRE(admin.CreateContainerFrom(name, body.dump()).ok());
  REQUIRE(h1.StartContainer(name).ok());
  // What the monitor reads: the health the listing's status text carries.
  auto health = [&] {
    auto listed = h1.ListContainers({"onedock.test=health"}, false);
    REQUIRE(listed.ok());
    for (const auto& c : *listed) {
      if (c.name == name) return monitor::HealthOfStatus(c.status_text);
    }
    return std::string("not listed");
  };
  auto wait_for = [&](const std::string& wanted) {
    std::string seen;
    for (int i = 0; i < 100 && (seen = health()) != wanted; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return seen;
  };
  CHECK(health() == "starting");
  CHECK(wait_for("healthy") == "healthy");
  REQUIRE(h1.Exec(name, {"rm", "/tmp/ok"}).ok());
  CHECK(wait_for("unhealthy") == "unhealthy");
  CHECK(h1.RemoveContainer(name, true, true).ok());
}

TEST_CASE("with a TTY a shell ignores the stop signal and its log lines end in CR LF") {
  EngineClient& h1 = H1();
  ContainerSpec shell = HttpdSpec(testbed::UniqueName("tty"));
  shell.cmd = {"/bin/sh"};
  shell.tty = shell.open_stdin = true;
  ContainerSpec talker = HttpdSpec(testbed::UniqueName("tty"));
  talker.cmd = {"/bin/sh", "-c", "echo a; echo b >&2; exec sleep 1000"};
  talker.tty = talker.open_stdin = true;
  for (const auto* spec : {&shell, &talker}) {
    REQUIRE(h1.CreateContainer(*spec).ok());
    REQUIRE(h1.StartContainer(spec->name).ok());
  }
  // The interactive shell waits out the stop timeout and is killed.
  const auto asked = std::chrono::steady_clock::now();
  REQUIRE(h1.StopContainer(shell.name, 2).ok());
  CHECK(std::chrono::steady_clock::now() - asked >= std::chrono::milliseconds(1900));
  CHECK(h1.InspectContainer(shell.name)->exit_code == 137);
  // One terminal: both streams mixed, lines ending in CR LF.
  std::string log;
  for (int i = 0; i < 50 && log.find("b\r\n") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto tail = h1.LogTail(talker.name, 10, true);
    REQUIRE(tail.ok());
    log = *tail;
  }
  CHECK(log == "a\r\nb\r\n");
  for (const auto* spec : {&shell, &talker}) CHECK(h1.RemoveContainer(spec->name, true, true).ok());
}

TEST_CASE("commit captures the root filesystem for a new container") {
  EngineClient& h1 = H1();
  const std::string name = testbed::UniqueName("cm");
  REQUIRE(h1.CreateContainer(HttpdSpec(name)).ok());
  REQUIRE(h1.StartContainer(name).ok());
  REQUIRE(h1.Exec(name, {"/bin/sh", "-c", "echo kept > /marker"})->exit_code == 0);
  const std::string repo = "onedock-test/snap";
  const std::string tag = testbed::UniqueName("s");
  auto image = h1.Commit({.container = name,
                          .repo = repo,
                          .tag = tag,
                          .comment = "snapshot 1",
                          .labels = {{"one.snapshot", "1"}}});
  REQUIRE_MESSAGE(image.ok(), image.status().ToString());
  auto inspected = h1.InspectImage(repo + ":" + tag);
  REQUIRE(inspected.ok());
  CHECK(inspected->id == *image);
  CHECK(inspected->labels.at("one.snapshot") == "1");

  ContainerSpec clone = HttpdSpec(testbed::UniqueName("cm2"));
  clone.image = repo + ":" + tag;
  REQUIRE(h1.CreateContainer(clone).ok());
  REQUIRE(h1.StartContainer(clone.name).ok());
  auto read = h1.Exec(clone.name, {"/bin/cat", "/marker"});
  REQUIRE(read.ok());
  CHECK(read->out == "kept\n");

  CHECK(h1.RemoveImage(repo + ":" + tag, false).code() == Code::kConflict);  // in use
  CHECK(h1.RemoveContainer(clone.name, true, true).ok());
  CHECK(h1.RemoveContainer(name, true, true).ok());
  CHECK(h1.RemoveImage(repo + ":" + tag, false).ok());
  CHECK(h1.Commit({.container = "no-such-container", .repo = repo, .tag = "x"}).status().code() ==
        Code::kNotFound);
}

TEST_CASE("create refuses a missing image and a malformed name") {
  EngineClient& h1 = H1();
  ContainerSpec spec = HttpdSpec(testbed::UniqueName("bad"));
  spec.image = testbed::RegistryHost("upstream") + "/onedock/httpd:77";
  CHECK(h1.CreateContainer(spec).status().code() == Code::kNotFound);  // create never pulls
  spec = HttpdSpec("one/42");
  CHECK(h1.CreateContainer(spec).status().code() == Code::kInvalidArgument);
}

}  // namespace onedock::docker
