// How a Docker image runs as a VM, on real oned and real engines: a shell image stays up with its
// terminal, DOCKER_* attributes of the image and of the VM decide what runs, and a container that
// stops says why in the VM's monitoring, or in its error when it fails right at its start.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "tests/e2e/world.h"
#include "tests/integration/bed.h"

namespace onedock::e2e {
namespace {

std::string ShellImage() { return testbed::RegistryHost("upstream") + "/onedock/shell:1.0"; }

int ReadyShellImage(World& w, const std::string& name, const std::string& attributes = "") {
  const int image =
      w.CreateImage("NAME = " + name + "\nPATH = docker://" + ShellImage() + "\n" + attributes);
  w.WaitForImage(image, kImageReady);
  return image;
}

// Polls the VM until `done` holds for its record; FAILs naming `what` with its state, ERROR and
// MONITORING otherwise.
Vm WaitVm(World& w, int vm, const std::function<bool(const Vm&)>& done, const std::string& what,
          double seconds = 90) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  Vm info;
  while (std::chrono::steady_clock::now() < deadline) {
    info = w.Info(vm);
    if (done(info)) return info;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  std::string monitoring;
  for (const auto& [k, v] : info.monitoring) monitoring += k + "=" + v + " ";
  FAIL("VM " << vm << " (" << info.state << "/" << info.lcm_state << ") never " << what
             << "; ERROR: " << Get(info.user_template, "ERROR") << "; MONITORING: " << monitoring);
  return info;
}

Vm WaitPoweroffWith(World& w, int vm, const std::string& key, const std::string& value) {
  return WaitVm(
      w, vm, [&](const Vm& v) { return v.state == kVmPoweroff && Get(v.monitoring, key) == value; },
      "POWEROFF with " + key + " = " + value);
}

TEST_CASE(
    "a VM of an image whose command is a shell stays RUNNING and answers exec, and without a TTY "
    "it powers off with DOCKER_EXIT_CODE 0") {
  World w;
  const int image = ReadyShellImage(w, "shell");
  const int tty = w.CreateVm("shell-tty", 0.1, 64, "", "", image);
  const int plain = w.CreateVm("shell-plain", 0.1, 64, "DOCKER_TTY = \"NO\"\n", "", image);
  w.Deploy(tty, "h1");
  w.Deploy(plain, "h2");
  const Vm running = w.WaitFor(tty, kVmActive, kLcmRunning);
  WaitPoweroffWith(w, plain, "DOCKER_EXIT_CODE", "0");
  CHECK(Get(w.Info(plain).monitoring, "DOCKER_STATE") == "exited");

  for (int s = 0; s < 30; ++s) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const Vm v = w.Info(tty);
    REQUIRE_MESSAGE(v.lcm_state == kLcmRunning,
                    "after " << s + 1 << " s it is " << v.state << "/" << v.lcm_state);
  }
  CHECK(w.ExecOut("h1", running.deploy_id, "echo alive") == "alive\n");
  const Vm monitored = WaitVm(
      w, tty, [](const Vm& v) { return Get(v.monitoring, "DOCKER_STATE") == "running"; },
      "monitored as running");
  CHECK(Get(monitored.monitoring, "DOCKER_EXIT_CODE").empty());
}

TEST_CASE(
    "DOCKER_CMD, DOCKER_ENTRYPOINT, DOCKER_WORKDIR, DOCKER_USER and DOCKER_ENV of the image decide "
    "what runs, and the VM's own values win, with its ulimits, shm size, sysctls and labels") {
  World w;
  // The command writes what it sees where any user may write (/dev/shm), whole or not at all,
  // then keeps running; each entrypoint sets ENTRY through env before the shell.
  const int image = ReadyShellImage(
      w, "shell-configured",
      "DOCKER_ENTRYPOINT = \"env ENTRY=image /bin/sh -c\"\n"
      "DOCKER_CMD = \"'{ pwd; id -u; echo $WHO; echo $ENTRY; } > /dev/shm/f.tmp; "
      "mv /dev/shm/f.tmp /dev/shm/facts; exec sleep 1000'\"\n"
      "DOCKER_WORKDIR = \"/www\"\nDOCKER_USER = \"65534\"\nDOCKER_ENV = \"WHO=image\"\n");
  const int inherited = w.CreateVm("as-image", 0.1, 64, "", "", image);
  const int own = w.CreateVm(
      "as-vm", 0.1, 64,
      "DOCKER_ENTRYPOINT = \"[\\\"/bin/env\\\", \\\"ENTRY=vm\\\", \\\"/bin/sh\\\", \\\"-c\\\"]\"\n"
      "DOCKER_CMD = \"'{ pwd; id -u; echo $WHO-own; echo $ENTRY; ulimit -n; "
      "df -k /dev/shm | tail -n 1 | { read f size rest; echo $size; }; "
      "cat /proc/sys/net/ipv4/ip_local_port_range | { read low high; echo $low-$high; }; "
      "} > /dev/shm/f.tmp; mv /dev/shm/f.tmp /dev/shm/facts; exec sleep 1000'\"\n"
      "DOCKER_WORKDIR = \"/tmp\"\nDOCKER_USER = \"0\"\nDOCKER_ENV = \"WHO=vm\"\n"
      "DOCKER_ULIMITS = \"nofile=1000:2000\"\nDOCKER_SHM_SIZE = \"48m\"\n"
      "DOCKER_SYSCTLS = \"net.ipv4.ip_local_port_range='40000 50000'\"\n"
      "DOCKER_LABELS = \"team=web\"\n",
      "", image);
  w.Deploy(inherited, "h1");
  w.Deploy(own, "h2");
  const Vm a = w.WaitFor(inherited, kVmActive, kLcmRunning);
  const Vm b = w.WaitFor(own, kVmActive, kLcmRunning);
  auto facts = [&](const std::string& engine, const std::string& container) {
    std::string out;
    for (int i = 0; i < 40 && out.empty(); ++i) {
      out = w.ExecOut(engine, container, "cat /dev/shm/facts 2>/dev/null");
      if (out.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return out;
  };
  CHECK(facts("h1", a.deploy_id) == "/www\n65534\nimage\nimage\n");
  // The VM's ulimit, /dev/shm size (KB) and sysctl, as its processes see them.
  CHECK(facts("h2", b.deploy_id) == "/tmp\n0\nvm-own\nvm\n1000\n49152\n40000-50000\n");
  const auto containers = w.ContainersOf("h2", own);
  REQUIRE(containers.size() == 1);
  CHECK(containers[0].labels.at("team") == "web");
  CHECK(containers[0].labels.at("one.vmid") == std::to_string(own));
}

TEST_CASE(
    "a container stopped by its memory limit or its command says why in the VM's monitoring, and "
    "one that fails at its start is BOOT_FAILURE with its exit code and output") {
  World w;
  const int image = ReadyShellImage(w, "shell-exits");
  // dd's 64 MB buffer does not fit in 32 MB of MEMORY (without swap).
  const int oom = w.CreateVm(
      "oom", 0.1, 32,
      "DOCKER_CMD = \"sh -c 'sleep 3; dd if=/dev/zero of=/dev/null bs=64M count=1'\"\n", "", image);
  // Its last line has quotes, brackets, backslashes (one at its end) and a CDATA end, which the
  // script assembles: oned refuses a template that holds one.
  const int three = w.CreateVm(
      "three", 0.1, 64,
      R"(DOCKER_CMD = "sh -c 'sleep 3; echo first words; echo \"say \\"hi\\" [x] a\b ]]\"\">\"\" end\\\"; exit 3'")"
      "\n",
      "", image);
  const int plain = w.CreateVm("plain", 0.1, 64,
                               "DOCKER_TTY = \"NO\"\nDOCKER_CMD = \"sh -c 'sleep 3; echo out; "
                               "sleep 1; echo err >&2; exit 4'\"\n",
                               "", image);
  const int broken = w.CreateVm(
      "broken", 0.1, 64, "DOCKER_CMD = \"sh -c 'echo no config file >&2; exit 3'\"\n", "", image);
  w.Deploy(oom, "h1");
  w.Deploy(three, "h2");
  w.Deploy(broken, "h1");
  w.Deploy(plain, "h2");

  const Vm failed = w.WaitFor(broken, kVmActive, kLcmBootFailure);
  const std::string error = Get(failed.user_template, "ERROR");
  CHECK_MESSAGE(error.find("command exited 3 at its start") != std::string::npos, error);
  CHECK_MESSAGE(error.find("no config file") != std::string::npos, error);
  CHECK(w.ContainersOf("h1", broken).empty());

  const Vm killed = WaitPoweroffWith(w, oom, "DOCKER_OOM_KILLED", "YES");
  CHECK(Get(killed.monitoring, "DOCKER_EXIT_CODE") == "137");  // SIGKILL
  const Vm exited = WaitPoweroffWith(w, three, "DOCKER_EXIT_CODE", "3");
  // As oned keeps it: "]]>" broken by a space, a space after the final backslash.
  CHECK(Get(exited.monitoring, "DOCKER_LOG_TAIL") ==
        R"(first words | say "hi" [x] a\b ]] > end\ )");
  CHECK(Get(exited.monitoring, "DOCKER_OOM_KILLED") == "NO");
  CHECK(Get(exited.monitoring, "DOCKER_ERROR").empty());
  // Without a TTY the log's two streams are told apart by the engine and merged in order.
  const Vm piped = WaitPoweroffWith(w, plain, "DOCKER_EXIT_CODE", "4");
  CHECK(Get(piped.monitoring, "DOCKER_LOG_TAIL") == "out | err");
}

}  // namespace
}  // namespace onedock::e2e
