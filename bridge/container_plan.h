// The container a VM document asks for: image, limits, labels, networks with the leased
// addresses, context files and start script, after the operator's policy has been applied. Pure
// functions of their inputs; nothing here talks to a peer.
#ifndef ONEDOCK_BRIDGE_CONTAINER_PLAN_H_
#define ONEDOCK_BRIDGE_CONTAINER_PLAN_H_

#include <map>
#include <string>
#include <vector>

#include "bridge/engine_types.h"
#include "bridge/one_types.h"
#include "bridge/status.h"
#include "bridge/volume_plan.h"

namespace onedock {

// What the operator allows a VM template to ask for (etc/onedockd.conf [policy]).
struct Policy {
  bool allow_privileged = false;
  bool allow_host_binds = false;
  bool allow_cap_add = false;
  bool allow_realtime_ulimits = false;  // DOCKER_ULIMITS rtprio above 0, nice above 20
};

struct PlanSettings {
  std::string instance = "onedock";  // value of the one.instance label
  std::string registry;              // "127.0.0.1:5000": the only registry images come from
  int stop_timeout_s = 30;
  Policy policy;
};

// One NIC of the VM: the Docker network that carries its vnet on the host, and the attachment.
struct PlannedNic {
  int nic_id = -1;
  NetworkSpec network;
  NetworkAttachment attachment;
};

struct ContainerPlan {
  ContainerSpec spec;                      // the primary NIC (nics[0]) is in spec.primary
  std::vector<PlannedNic> nics;            // in NIC_ID order
  std::vector<PlannedVolume> volumes;      // every DISK but DISK 0, in spec.volumes too
  std::string context_tar;                 // extracted at "/" before every start
  std::vector<std::string> start_command;  // empty = no START_SCRIPT
};

// Labels on every container onedock creates.
inline constexpr char kLabelVmId[] = "one.vmid";
inline constexpr char kLabelHost[] = "one.host";
inline constexpr char kLabelInstance[] = "one.instance";

std::string ContainerName(int vm_id);  // "one-42", the deploy id

// The plan for `vm` on `host`. `vnets` holds the virtual network of every NIC by id. Errors:
// kInvalidArgument for a document that cannot be a container (no image disk, a malformed
// address, an image outside the private registry, a DISK that cannot be a volume),
// kPermissionDenied for what policy refuses.
Result<ContainerPlan> PlanContainer(const Vm& vm, const std::string& host,
                                    const std::map<int, Vnet>& vnets, const PlanSettings& settings);

// The Docker network for `nic` (the index-th NIC of the VM): named after the vnet's BRIDGE, with
// the vnet's subnet and gateway; macvlan on PHYDEV when the vnet sets DOCKER_NETWORK_DRIVER.
Result<PlannedNic> PlanNic(const Nic& nic, size_t index, const Vnet& vnet,
                           const Attributes& context);

// The Docker network carrying `nic`: the NIC's BRIDGE, else the vnet's, else "onebr<vnet id>".
std::string NetworkNameOf(const Nic& nic, const std::string& vnet_bridge);

// The networks among `networks` whose IPv4 subnet overlaps `subnet` ("10.42.0.0/24"), as
// "name (subnet)": the engine refuses a new network that overlaps one it has, without naming it.
std::vector<std::string> OverlappingNetworks(const std::string& subnet,
                                             const std::vector<NetworkInfo>& networks);

// The limits a container can be given. dockerd refuses less than 0.01 CPU and less than 6 MB of
// memory; the upper bounds keep the byte and nanosecond counts far from overflowing.
inline constexpr double kMinCpu = 0.01;
inline constexpr double kMaxCpu = 1e6;
inline constexpr int64_t kMinMemoryMb = 6;
inline constexpr int64_t kMaxMemoryMb = int64_t{1} << 40;

// Limits from the template: CPU → NanoCpus, MEMORY (MB) → bytes; kInvalidArgument for values
// outside the bounds above (NaN and infinities too), so that no VM gets a container without a
// CPU limit by asking for a CPU that rounds to 0 NanoCpus.
Result<ResourceUpdate> LimitsOf(const Vm& vm);

// The subnet ("10.42.0.0/24") the vnet's template gives its Docker network (NETWORK_ADDRESS and
// NETWORK_MASK); "" when the template does not say.
std::string VnetSubnet(const Vnet& vnet);

// The image reference of the VM's DISK 0, checked to name the private registry.
Result<std::string> ImageOf(const Vm& vm, const std::string& registry);

// `KEY='value'` lines, the format of OpenNebula's context.sh.
std::string ContextScript(const Attributes& context);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_CONTAINER_PLAN_H_
