#include "bridge/container_plan.h"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <optional>
#include <sstream>

#include "bridge/base64.h"
#include "bridge/image_reference.h"
#include "bridge/run_options.h"
#include "bridge/tar_writer.h"

namespace onedock {
namespace {

std::optional<uint32_t> ParseIpv4(const std::string& text) {
  in_addr addr{};
  if (text.empty() || inet_pton(AF_INET, text.c_str(), &addr) != 1) return std::nullopt;
  return ntohl(addr.s_addr);
}

std::string FormatIpv4(uint32_t ip) {
  in_addr addr{htonl(ip)};
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &addr, buf, sizeof buf);
  return buf;
}

// Prefix length of a dotted mask ("255.255.255.0" → 24), or of "24"; nullopt when not a mask.
std::optional<int> PrefixOf(const std::string& mask) {
  if (!mask.empty() && mask.size() <= 2 && std::all_of(mask.begin(), mask.end(), ::isdigit)) {
    const int n = std::stoi(mask);
    return n >= 1 && n <= 32 ? std::optional<int>(n) : std::nullopt;
  }
  const auto bits = ParseIpv4(mask);
  if (!bits) return std::nullopt;
  const int ones = std::popcount(*bits);
  if (ones == 0 || *bits != (0xffffffffu << (32 - ones))) return std::nullopt;
  return ones;
}

// "a.b.c.d/n" as its first address and prefix length.
std::optional<std::pair<uint32_t, int>> ParseCidr(const std::string& cidr) {
  const auto slash = cidr.find('/');
  if (slash == std::string::npos) return std::nullopt;
  const auto ip = ParseIpv4(cidr.substr(0, slash));
  const std::string bits = cidr.substr(slash + 1);
  if (!ip || bits.empty() || bits.size() > 2 || !std::all_of(bits.begin(), bits.end(), ::isdigit))
    return std::nullopt;
  const int prefix = std::stoi(bits);
  if (prefix > 32) return std::nullopt;
  const uint32_t mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
  return std::make_pair(*ip & mask, prefix);
}

// Decimal digits only (no sign, no spaces), with a value in [low, high].
bool NumberIn(const std::string& text, int low, int high) {
  if (text.empty() || text.size() > 9 || !std::all_of(text.begin(), text.end(), ::isdigit))
    return false;
  const int v = std::stoi(text);
  return v >= low && v <= high;
}

bool IsMac(const std::string& mac) {
  if (mac.size() != 17) return false;
  for (size_t i = 0; i < mac.size(); ++i) {
    if (i % 3 == 2 ? mac[i] != ':' : !std::isxdigit(static_cast<unsigned char>(mac[i])))
      return false;
  }
  return true;
}

// Items of a list written with commas and/or blanks.
std::vector<std::string> ListOf(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ',')) {
    std::istringstream words(item);
    std::string w;
    while (words >> w) out.push_back(w);
  }
  return out;
}

// An RFC 1123 label from the VM's wish; the container name when nothing usable is left.
std::string Hostname(const Vm& vm) {
  std::string want = Get(vm.context, "SET_HOSTNAME");
  if (want.empty()) want = vm.name;
  std::string out;
  for (char c : want) {
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '-';
    if (out.size() == 63) break;
  }
  while (!out.empty() && out.front() == '-') out.erase(out.begin());
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? ContainerName(vm.id) : out;
}

bool IsNetworkName(const std::string& name) {
  if (name.empty() || name.size() > 15 || !std::isalnum(static_cast<unsigned char>(name[0])))
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

Status ApplyPolicy(const Vm& vm, const Policy& policy, ContainerSpec& spec) {
  if (IsYes(Get(vm.user_template, "DOCKER_PRIVILEGED"))) {
    if (!policy.allow_privileged) {
      return PermissionDenied(
          "privileged container refused by policy (DOCKER_PRIVILEGED; "
          "[policy] allow_privileged = no)");
    }
    spec.privileged = true;
  }
  for (const auto& cap : ListOf(Get(vm.user_template, "DOCKER_CAP_ADD"))) {
    if (!policy.allow_cap_add) {
      return PermissionDenied("capability " + cap +
                              " refused by policy (DOCKER_CAP_ADD; [policy] allow_cap_add = no)");
    }
    if (!std::all_of(cap.begin(), cap.end(), [](char c) { return std::isupper(c) || c == '_'; })) {
      return InvalidArgument("DOCKER_CAP_ADD: \"" + cap + "\" is not a capability name");
    }
    spec.cap_add.push_back(cap);
  }
  for (const auto& bind : ListOf(Get(vm.user_template, "DOCKER_BINDS"))) {
    if (!policy.allow_host_binds) {
      return PermissionDenied("host bind " + bind +
                              " refused by policy (DOCKER_BINDS; [policy] allow_host_binds = no)");
    }
    const auto colon = bind.find(':');
    if (bind.front() != '/' || colon == std::string::npos || bind.find("..") != std::string::npos ||
        bind.size() <= colon + 1 || bind[colon + 1] != '/') {
      return InvalidArgument("DOCKER_BINDS: \"" + bind +
                             "\" is not /host/path:/container/path[:ro]");
    }
    spec.binds.push_back(bind);
  }
  return Status::Ok();
}

Result<std::string> ContextArchive(const Vm& vm, std::vector<std::string>& start_command) {
  TarWriter tar;
  Status s = tar.AddDirectory("context", 0755);
  if (s.ok()) s = tar.AddFile("context/context.sh", ContextScript(vm.context), 0644);
  const std::string key = Get(vm.context, "SSH_PUBLIC_KEY");
  if (s.ok() && !key.empty()) {
    s = tar.AddDirectory("root", 0700);
    if (s.ok()) s = tar.AddDirectory("root/.ssh", 0700);
    if (s.ok()) s = tar.AddFile("root/.ssh/authorized_keys", key + "\n", 0600);
  }
  std::string script = Get(vm.context, "START_SCRIPT");
  if (const std::string b64 = Get(vm.context, "START_SCRIPT_BASE64"); !b64.empty()) {
    auto decoded = Base64Decode(b64);
    if (!decoded.ok()) return decoded.status().WithContext("CONTEXT START_SCRIPT_BASE64");
    script = *decoded;
  }
  if (s.ok() && !script.empty()) {
    s = tar.AddFile("context/start_script", script, 0755);
    start_command = script.rfind("#!", 0) == 0
                        ? std::vector<std::string>{"/context/start_script"}
                        : std::vector<std::string>{"/bin/sh", "/context/start_script"};
  }
  if (!s.ok()) return s.WithContext("context archive");
  return tar.Finish();
}

}  // namespace

std::string ContainerName(int vm_id) { return "one-" + std::to_string(vm_id); }

std::string NetworkNameOf(const Nic& nic, const std::string& vnet_bridge) {
  if (!nic.bridge.empty()) return nic.bridge;
  return vnet_bridge.empty() ? "onebr" + std::to_string(nic.network_id) : vnet_bridge;
}

std::string VnetSubnet(const Vnet& vnet) {
  const auto net = ParseIpv4(Get(vnet.template_attributes, "NETWORK_ADDRESS"));
  const auto prefix = PrefixOf(Get(vnet.template_attributes, "NETWORK_MASK"));
  if (!net || !prefix) return "";
  const uint32_t netmask = *prefix == 0 ? 0 : 0xffffffffu << (32 - *prefix);
  return FormatIpv4(*net & netmask) + "/" + std::to_string(*prefix);
}

Result<ResourceUpdate> LimitsOf(const Vm& vm) {
  // NaN compares false with everything, so it is refused by name before any comparison.
  if (!std::isfinite(vm.cpu) || vm.cpu <= 0 || vm.memory_mb <= 0) {
    return InvalidArgument("the VM template needs CPU and MEMORY above 0");
  }
  // The engine's own bounds: below 0.01 CPU it refuses, and a NanoCpus of 0 means no limit at all.
  if (vm.cpu < kMinCpu || vm.cpu > kMaxCpu) {
    return InvalidArgument("CPU " + std::to_string(vm.cpu) + " is outside 0.01 to " +
                           std::to_string(static_cast<int64_t>(kMaxCpu)));
  }
  if (vm.memory_mb < kMinMemoryMb || vm.memory_mb > kMaxMemoryMb) {
    return InvalidArgument("MEMORY " + std::to_string(vm.memory_mb) + " MB is outside " +
                           std::to_string(kMinMemoryMb) + " MB to " + std::to_string(kMaxMemoryMb) +
                           " MB");
  }
  ResourceUpdate limits;
  limits.nano_cpus = static_cast<int64_t>(std::llround(vm.cpu * 1e9));
  limits.memory_bytes = vm.memory_mb * 1024 * 1024;
  return limits;
}

Result<std::string> ImageOf(const Vm& vm, const std::string& registry) {
  const Disk* disk0 = nullptr;
  for (const auto& d : vm.disks) {
    if (d.disk_id == 0) disk0 = &d;
  }
  if (disk0 == nullptr || disk0->source.empty()) {
    return InvalidArgument("the VM has no DISK 0 with an image SOURCE to run");
  }
  const std::string& source = disk0->source;
  if (VolumeImageId(source)) {
    return InvalidArgument("DISK 0 is the data volume of image " + std::to_string(disk0->image_id) +
                           "; DISK 0 must be the Docker image the container runs");
  }
  auto ref = PrivateRegistryReference(source, registry);
  if (!ref.ok()) return ref.status().WithContext("DISK 0 SOURCE");
  return ref->ToString();
}

std::string ContextScript(const Attributes& context) {
  std::string out = "# Context variables generated by OpenNebula\n";
  for (const auto& [k, v] : context) {
    std::string quoted;
    for (char c : v) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += k + "='" + quoted + "'\n";
  }
  return out;
}

Result<PlannedNic> PlanNic(const Nic& nic, size_t index, const Vnet& vnet,
                           const Attributes& context) {
  const std::string what =
      "NIC " + std::to_string(nic.nic_id) + " (vnet " + std::to_string(vnet.id) + ")";
  const std::string eth = "ETH" + std::to_string(index) + "_";
  auto first = [&](std::initializer_list<std::string> values) {
    for (const auto& v : values) {
      if (!v.empty()) return v;
    }
    return std::string();
  };
  const Attributes& vt = vnet.template_attributes;
  const std::string address =
      first({Get(vt, "NETWORK_ADDRESS"), nic.network_address, Get(context, eth + "NETWORK")});
  const std::string mask =
      first({Get(vt, "NETWORK_MASK"), nic.network_mask, Get(context, eth + "MASK")});
  const std::string gateway =
      first({Get(vt, "GATEWAY"), nic.gateway, Get(context, eth + "GATEWAY")});

  const auto ip = ParseIpv4(nic.ip);
  if (!ip) return InvalidArgument(what + ": IP \"" + nic.ip + "\" is not an IPv4 address");
  if (!IsMac(nic.mac)) return InvalidArgument(what + ": MAC \"" + nic.mac + "\" is malformed");
  const auto net = ParseIpv4(address);
  const auto prefix = PrefixOf(mask);
  if (!net || !prefix) {
    return InvalidArgument(what + ": the vnet needs NETWORK_ADDRESS and NETWORK_MASK (have \"" +
                           address + "\" and \"" + mask + "\")");
  }
  const uint32_t netmask = 0xffffffffu << (32 - *prefix);
  if ((*ip & netmask) != (*net & netmask)) {
    return InvalidArgument(what + ": IP " + nic.ip + " is outside " + address + "/" +
                           std::to_string(*prefix));
  }

  PlannedNic out;
  out.nic_id = nic.nic_id;
  const std::string bridge = NetworkNameOf(nic, vnet.bridge);
  if (!IsNetworkName(bridge))
    return InvalidArgument(what + ": BRIDGE \"" + bridge + "\" is not an interface name");
  out.network.name = bridge;
  out.network.subnet = FormatIpv4(*net & netmask) + "/" + std::to_string(*prefix);
  if (!gateway.empty()) {
    const auto gw = ParseIpv4(gateway);
    if (!gw || (*gw & netmask) != (*net & netmask)) {
      return InvalidArgument(what + ": GATEWAY \"" + gateway + "\" is not inside " +
                             out.network.subnet);
    }
    if (*gw == *ip) return InvalidArgument(what + ": IP " + nic.ip + " is the vnet's gateway");
    out.network.gateway = gateway;
  }
  out.network.labels = {{"one.vnet_id", std::to_string(vnet.id)}};
  if (Get(vt, "DOCKER_NETWORK_DRIVER") == "macvlan") {
    const std::string phydev = first({nic.phydev, vnet.phydev});
    if (!IsNetworkName(phydev))
      return InvalidArgument(what + ": macvlan needs a PHYDEV, have \"" + phydev + "\"");
    out.network.driver = "macvlan";
    const std::string vlan = first({nic.vlan_id, vnet.vlan_id});
    if (!vlan.empty() && !NumberIn(vlan, 1, 4094))
      return InvalidArgument(what + ": VLAN_ID \"" + vlan.substr(0, 32) + "\" is not 1 to 4094");
    out.network.options["parent"] = vlan.empty() ? phydev : phydev + "." + vlan;
  } else {
    out.network.options["com.docker.network.bridge.name"] = bridge;
  }
  const std::string mtu = first({nic.mtu, Get(vt, "MTU")});
  if (!mtu.empty()) {
    // 68 is the smallest MTU IPv4 allows; 65535 the largest a Linux bridge takes.
    if (!NumberIn(mtu, 68, 65535))
      return InvalidArgument(what + ": MTU \"" + mtu.substr(0, 32) + "\" is not 68 to 65535");
    out.network.options["com.docker.network.driver.mtu"] = mtu;
  }
  out.attachment.network = bridge;
  out.attachment.ipv4 = nic.ip;
  out.attachment.mac = nic.mac;
  return out;
}

Result<ContainerPlan> PlanContainer(const Vm& vm, const std::string& host,
                                    const std::map<int, Vnet>& vnets,
                                    const PlanSettings& settings) {
  ContainerPlan plan;
  ContainerSpec& spec = plan.spec;
  spec.name = ContainerName(vm.id);
  auto image = ImageOf(vm, settings.registry);
  if (!image.ok()) return image.status();
  spec.image = *image;
  spec.labels = {
      {kLabelVmId, std::to_string(vm.id)}, {kLabelHost, host}, {kLabelInstance, settings.instance}};
  spec.hostname = Hostname(vm);
  const auto limits = LimitsOf(vm);
  if (!limits.ok()) return limits.status();
  spec.nano_cpus = limits->nano_cpus;
  spec.memory_bytes = limits->memory_bytes;
  spec.init = true;
  spec.stop_timeout_s = settings.stop_timeout_s;
  for (const auto& [k, v] : vm.context) spec.env.push_back(k + "=" + v);
  if (Status s = ApplyPolicy(vm, settings.policy, spec); !s.ok()) return s;
  auto run = RunOptionsOf(vm);
  if (!run.ok()) return run.status();
  if (Status u =
          CheckUlimits(run->ulimits, spec.memory_bytes, settings.policy.allow_realtime_ulimits);
      !u.ok())
    return u;
  spec.tty = spec.open_stdin = run->tty;
  spec.cmd = std::move(run->cmd);
  spec.entrypoint = std::move(run->entrypoint);
  spec.working_dir = std::move(run->working_dir);
  spec.user = std::move(run->user);
  spec.env.insert(spec.env.end(), run->env.begin(), run->env.end());
  spec.shm_size_bytes = run->shm_size_bytes;
  spec.ulimits = std::move(run->ulimits);
  spec.sysctls = std::move(run->sysctls);
  // onedock's own labels are set last; RunOptionsOf refuses one.* already.
  for (auto& [k, v] : run->labels) spec.labels.try_emplace(k, std::move(v));

  std::vector<const Nic*> nics;
  for (const auto& n : vm.nics) nics.push_back(&n);
  std::sort(nics.begin(), nics.end(),
            [](const Nic* a, const Nic* b) { return a->nic_id < b->nic_id; });
  for (size_t i = 0; i < nics.size(); ++i) {
    auto vnet = vnets.find(nics[i]->network_id);
    if (vnet == vnets.end())
      return InvalidArgument("NIC " + std::to_string(nics[i]->nic_id) + ": vnet unknown");
    auto planned = PlanNic(*nics[i], i, vnet->second, vm.context);
    if (!planned.ok()) return planned.status();
    for (const auto& other : plan.nics) {
      if (other.network.name == planned->network.name) {
        return InvalidArgument("NICs " + std::to_string(other.nic_id) + " and " +
                               std::to_string(planned->nic_id) + " are both on network " +
                               other.network.name +
                               "; Docker allows one NIC per network in a container");
      }
    }
    // The instance that made a network may remove it once its vnet is gone (the reconcile pass).
    planned->network.labels[kLabelInstance] = settings.instance;
    plan.nics.push_back(std::move(*planned));
  }
  if (plan.nics.empty()) {
    spec.network_mode = "none";
  } else {
    spec.network_mode = plan.nics[0].network.name;
    spec.primary = plan.nics[0].attachment;
  }
  std::vector<std::string> dns = ListOf(Get(vm.context, "DNS"));
  for (size_t i = 0; i < plan.nics.size(); ++i) {
    for (const auto& d : ListOf(Get(vm.context, "ETH" + std::to_string(i) + "_DNS")))
      dns.push_back(d);
  }
  for (const auto& d : dns) {
    if (!ParseIpv4(d)) return InvalidArgument("CONTEXT DNS: \"" + d + "\" is not an IPv4 address");
    if (std::find(spec.dns.begin(), spec.dns.end(), d) == spec.dns.end()) spec.dns.push_back(d);
  }
  auto volumes = PlanVolumes(vm, settings.instance);
  if (!volumes.ok()) return volumes.status();
  plan.volumes = std::move(*volumes);
  for (const auto& v : plan.volumes) spec.volumes.push_back(v.name + ":" + v.mount);
  auto tar = ContextArchive(vm, plan.start_command);
  if (!tar.ok()) return tar.status();
  plan.context_tar = std::move(*tar);
  return plan;
}

std::vector<std::string> OverlappingNetworks(const std::string& subnet,
                                             const std::vector<NetworkInfo>& networks) {
  std::vector<std::string> out;
  const auto want = ParseCidr(subnet);
  if (!want) return out;
  for (const auto& n : networks) {
    const auto have = ParseCidr(n.subnet);
    if (!have) continue;
    // Two prefixes overlap when the shorter one contains the other's first address.
    const int shorter = std::min(want->second, have->second);
    const uint32_t mask = shorter == 0 ? 0 : 0xffffffffu << (32 - shorter);
    if ((want->first & mask) == (have->first & mask)) out.push_back(n.name + " (" + n.subnet + ")");
  }
  return out;
}

}  // namespace onedock
