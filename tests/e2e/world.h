// The end-to-end world: a real OpenNebula 7.4 front-end (oned, monitord, scheduler, drivers, the
// stock CLI) with the onedock driver scripts installed in its remotes as operators install them,
// a real onedockd process behind them, and two real engines of the test bed (its slot's, below).
// Each world has its own oned, journal, stub port and one.instance label, and the set-up the
// README describes: a cluster "onedock" holding the hosts h1, h2 and "dead" (an engine nobody
// answers for), the onedock system and image datastores and two vnets with VN_MAD onedock. Its
// destructor removes every container and volume carrying its label, so worlds do not see each
// other's VMs.
#ifndef ONEDOCK_TESTS_E2E_WORLD_H_
#define ONEDOCK_TESTS_E2E_WORLD_H_

#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "docker/curl_transport.h"
#include "docker/engine_client.h"
#include "rpc/one_client.h"
#include "tests/support/onedockd_process.h"
#include "tests/support/opennebula_process.h"

namespace onedock::e2e {

// The two vnets a world defines: BRIDGE, subnet and gateway. Their Docker networks are shared by
// both engines through one Linux bridge, which is what makes a host's containers reachable from
// the front-end and from each other.
struct VnetDef {
  const char* bridge;
  const char* address;
  const char* gateway;
};

// Two e2e cases run at once (`ctest -L e2e -j 2`), each in a process of its own, and each process
// takes one of the bed's two slots for its whole life (a lock file per slot; a third process waits
// for one). Slot 0 plays the hosts h1 and h2 with the bed's engines h1 and h2 and its registry
// "private", slot 1 with h3, h4 and "private2", each with vnets and loopback ports of its own.
// What one OpenNebula installation names by its own ids (containers one-<vm id>, the private
// registry's httpd:<image id> and onedock-snapshot/one-<vm id>) and the vnets' Linux bridges on
// the front-end would collide between two worlds otherwise.
struct Slot {
  int index = 0;
  std::string engines[2];        // the bed's engines playing the hosts "h1" and "h2"
  std::string private_registry;  // the bed's registry the slot's onedockd publishes to
  VnetDef vnets[2];

  // The bed's engine playing the world's host "h1" or "h2"; throws for any other name.
  const std::string& EngineOf(const std::string& host) const;
  docker::Endpoint Engine(const std::string& host) const;
  std::string EngineAddress(const std::string& host) const;  // "127.0.0.2:2376"
  std::string RegistryHost() const;                          // "127.0.0.1:5000"
  docker::Endpoint Registry() const;
};

// This process's slot, taken at the first call.
const Slot& ThisSlot();

class World {
 public:
  // `onedockd_extra` is appended to onedockd.conf (e.g. a [policy] section).
  explicit World(const std::string& onedockd_extra = "");
  ~World();

  // OpenNebula ids of what the world registered.
  int host(const std::string& name) const { return hosts_.at(name); }  // "h1", "h2", "dead"
  int vnet(int index) const { return vnets_.at(index); }
  const VnetDef& vnet_def(int index) const { return ThisSlot().vnets[index]; }
  const std::string& image_reference() const { return image_; }

  // one.vm.allocate of a web VM on vnet 0, on hold (placed by Deploy, not by the scheduler);
  // `extra` is appended to the template, `context` to its CONTEXT vector (", KEY = \"value\"").
  int CreateVm(const std::string& name, double cpu, int memory_mb, const std::string& extra = "",
               const std::string& context = "", int image = -1);
  // The template text CreateVm allocates (without hold), for the CLI or another user.
  std::string VmTemplate(const std::string& name, double cpu, int memory_mb,
                         const std::string& extra = "", const std::string& context = "",
                         int image = -1) const;
  // one.image.allocate in the world's onedock image datastore (runs the datastore's stat and cp).
  int CreateImage(const std::string& template_text);
  // The same, for an image oned may refuse: its id, or -1 and oned's message (oned runs the
  // datastore's stat inside one.image.allocate, so what stat refuses is never allocated).
  std::pair<int, std::string> TryCreateImage(const std::string& template_text);
  // Polls (bounded by `seconds`) until the image is in `state` (1 READY, 5 ERROR); FAILs with its
  // state and ERROR otherwise.
  Image WaitForImage(int image, int state, double seconds = 60);
  void Deploy(int vm, const std::string& host_name);
  void Action(const std::string& action, int vm);
  // A raw call to oned; REQUIREs success and returns the reply's second item.
  xmlrpc_c::value Call(const std::string& method, const std::vector<xmlrpc_c::value>& params);
  // The same call; the failure text when oned refuses it, "" when it succeeds.
  std::string CallError(const std::string& method, const std::vector<xmlrpc_c::value>& params);
  // The stock CLI, as a user types it (see OpenNebulaProcess::Cli).
  testing::OpenNebulaProcess::CliResult Cli(const std::string& command, const std::string& cwd = "",
                                            const std::string& auth_file = "");
  testing::OpenNebulaProcess& one() { return *one_; }
  int cluster() const { return cluster_; }
  int system_datastore() const { return system_ds_; }
  int image_datastore() const { return image_ds_; }

  // Polls (bounded by `seconds`) until the VM is in state/lcm; FAILs with the VM's ERROR otherwise.
  // oned acts after its call has returned: an action that ends in the state the VM is in already
  // (a migration, a snapshot, a NIC hotplug: RUNNING again) needs WaitUntil.
  Vm WaitFor(int vm, int state, int lcm, double seconds = 60);
  // Polls (bounded by `seconds`) until `done` holds for the VM's record and the VM is RUNNING
  // again; FAILs naming `what` and the VM's state and ERROR otherwise.
  Vm WaitUntil(int vm, const std::function<bool(const Vm&)>& done, const std::string& what,
               double seconds = 60);
  // WaitUntil the VM's current history record is on `host` and has started running there (RSTIME).
  Vm WaitUntilRunningOn(int vm, const std::string& host, double seconds = 120);
  Vm Info(int vm);
  Host HostInfo(const std::string& name);
  // Polls (bounded by `seconds`) until the host is in `state`; FAILs with its state otherwise.
  Host WaitForHost(const std::string& name, int state, double seconds = 20);

  // The engine client of the host "h1" or "h2" (the slot's engine playing it).
  docker::EngineClient& Engine(const std::string& name);
  // Containers of this world carrying one.vmid=<vm> on the engine.
  std::vector<ContainerSummary> ContainersOf(const std::string& engine, int vm);
  // GET http://<ip><path> from the front-end; the body, or "" after `seconds` without a 200.
  static std::string HttpGet(const std::string& ip, double seconds = 10,
                             const std::string& path = "/");
  // stdout of `sh -c command` in the container.
  std::string ExecOut(const std::string& engine, const std::string& container,
                      const std::string& command);

  // `testbed.sh engine-stop|engine-start` of the slot's engine playing the host "h1" or "h2": its
  // dockerd goes away (its containers keep running) or comes back. An engine the world stopped is
  // started again when the world ends, so a failed test does not take it from the next.
  void StopEngine(const std::string& engine);
  void StartEngine(const std::string& engine);

  // onedockd process control (for the crash test).
  void KillOnedockd();  // SIGKILL
  void StartOnedockd();
  const std::string& instance() const { return instance_; }
  const std::string& root() const { return root_; }

 private:
  void SetUp(const std::string& onedockd_extra);
  void TearDown();
  // Polls the VM until `done` holds; FAILs naming `expected`, its state and ERROR after `seconds`.
  Vm Poll(int vm, const std::function<bool(const Vm&)>& done, const std::string& expected,
          double seconds);

  std::string root_;
  std::string instance_;
  int stub_port_ = 0;
  std::unique_ptr<testing::OpenNebulaProcess> one_;
  std::unique_ptr<rpc::XmlRpcOneClient> client_;
  std::unique_ptr<testing::OnedockdProcess> onedockd_;
  std::map<std::string, int> hosts_;
  std::vector<int> vnets_;
  std::string image_;
  int image_id_ = -1;
  int cluster_ = -1;
  int system_ds_ = -1;
  int image_ds_ = -1;
  std::map<std::string, std::unique_ptr<docker::EngineClient>> engines_;
  std::set<std::string> stopped_engines_;
};

}  // namespace onedock::e2e

#endif  // ONEDOCK_TESTS_E2E_WORLD_H_
