#include "bridge/admin/doctor_oned_checks.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>

#include "bridge/run_options.h"
#include "rpc/xml_node.h"

namespace onedock::admin {

const std::vector<std::string_view> kLocalActions = {"deploy",         "shutdown",
                                                     "reboot",         "reset",
                                                     "cancel",         "save",
                                                     "restore",        "migrate",
                                                     "attach_nic",     "detach_nic",
                                                     "resize",         "snapshotcreate",
                                                     "snapshotrevert", "snapshotdelete",
                                                     "prereconfigure", "reconfigure",
                                                     "attach_disk",    "detach_disk",
                                                     "resize_disk",    "exec",
                                                     "exec_cancel",    "pre",
                                                     "post",           "clean",
                                                     "update_sg",      "update_nic"};

namespace {

constexpr const char* kSnippet = "/usr/share/onedock/oned-onedock.conf";

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::vector<std::string> Words(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// The first section named `name` whose NAME is `driver` (case-insensitive), or nullptr.
const rpc::XmlNode* Named(const rpc::XmlNode& root, std::string_view name,
                          std::string_view driver) {
  for (const rpc::XmlNode* n : root.Children(name)) {
    if (Upper(Trim(n->Get("NAME"))) == Upper(driver)) return n;
  }
  return nullptr;
}

Finding CheckVmMad(const rpc::XmlNode& config) {
  const std::string check = "oned.conf VM_MAD onedock";
  const rpc::XmlNode* mad = Named(config, "VM_MAD", "onedock");
  if (mad == nullptr) {
    return Fail(check, "oned has no VM_MAD named onedock",
                std::string("append ") + kSnippet + " to oned.conf and restart oned");
  }
  const std::string arguments = mad->Get("ARGUMENTS");
  if (Trim(mad->Get("EXECUTABLE")) != "one_vmm_exec") {
    return Fail(check, "EXECUTABLE is \"" + mad->Get("EXECUTABLE") + "\", not one_vmm_exec",
                std::string("use the VM_MAD section of ") + kSnippet + " and restart oned");
  }
  const auto words = Words(arguments);
  if (words.empty() || words.back() != "onedock") {
    return Fail(check, "ARGUMENTS do not end with the hypervisor name onedock",
                std::string("use the ARGUMENTS of ") + kSnippet + " and restart oned");
  }
  const auto listed = OptionList(arguments, "-l");
  std::vector<std::string> missing;
  bool network_step_missing = false;
  for (std::string_view action : kLocalActions) {
    if (std::find(listed.begin(), listed.end(), Upper(action)) != listed.end()) continue;
    missing.emplace_back(action);
    network_step_missing |= action == "pre" || action == "post" || action == "clean";
  }
  if (missing.empty()) return Ok(check, "one_vmm_exec runs every onedock action on the front-end");
  std::string fix =
      "add " + Join(missing) + " to the -l list (spelt as in " + kSnippet + ") and restart oned";
  if (network_step_missing) {
    fix += "; without pre, post and clean oned runs the network steps over ssh on the host";
  } else {
    fix += "; an action not listed is run over ssh on the host";
  }
  return Fail(check, "-l does not list " + Join(missing), fix);
}

Finding CheckDriverList(const rpc::XmlNode& config, std::string_view section) {
  const std::string check = "oned.conf " + std::string(section);
  const rpc::XmlNode* mad = config.Child(section);
  const std::string fix = "add onedock to the -d list of " + std::string(section) +
                          "'s ARGUMENTS in oned.conf and restart oned";
  if (mad == nullptr) return Fail(check, "oned.conf has no " + std::string(section), fix);
  const auto drivers = OptionList(mad->Get("ARGUMENTS"), "-d");
  if (std::find(drivers.begin(), drivers.end(), "ONEDOCK") == drivers.end()) {
    return Fail(check, "onedock is not in its -d list", fix);
  }
  return Ok(check, "onedock is in its -d list");
}

// `section` NAME=onedock with each of `expected`'s attributes (values compared case-insensitively).
Finding CheckDriverConf(const rpc::XmlNode& config, std::string_view section,
                        const std::map<std::string, std::string>& expected) {
  const std::string check = "oned.conf " + std::string(section) + " onedock";
  const std::string fix =
      "use the " + std::string(section) + " of " + kSnippet + " in oned.conf and restart oned";
  const rpc::XmlNode* conf = Named(config, section, "onedock");
  if (conf == nullptr) return Fail(check, "no entry for onedock", fix);
  std::vector<std::string> wrong;
  for (const auto& [key, value] : expected) {
    const rpc::XmlNode* attribute = conf->Child(key);
    const std::string seen = attribute ? Trim(attribute->text) : "(absent)";
    if (attribute == nullptr || Upper(seen) != Upper(value)) {
      wrong.push_back(key + " is " + seen + ", not \"" + value + "\"");
    }
  }
  if (!wrong.empty()) return Fail(check, Join(wrong), fix);
  return Ok(check, "as shipped");
}

// DOCKER_MOUNT and the run attributes (bridge/run_options.h) reach a VM from its image only
// through INHERIT_IMAGE_ATTR; without it an image's value is silently ignored.
Finding CheckInherited(const rpc::XmlNode& config) {
  const std::string check = "oned.conf INHERIT_IMAGE_ATTR";
  std::set<std::string> inherited;
  for (const rpc::XmlNode* n : config.Children("INHERIT_IMAGE_ATTR"))
    inherited.insert(Trim(n->text));
  std::vector<std::string> expected = {"DOCKER_MOUNT"};
  expected.insert(expected.end(), std::begin(kRunAttributes), std::end(kRunAttributes));
  std::vector<std::string> missing;
  for (const auto& name : expected) {
    if (inherited.count(name) == 0) missing.push_back(name);
  }
  if (missing.empty())
    return Ok(check, "DOCKER_MOUNT and every DOCKER_* run attribute are inherited");
  std::string fix = "add";
  for (const auto& name : missing) fix += " INHERIT_IMAGE_ATTR = \"" + name + "\"";
  return Warn(
      check,
      Join(missing) + " not inherited: an image's own value is ignored, only the VM's counts",
      fix + " to oned.conf (as " + kSnippet + " has them) and restart oned");
}

}  // namespace

std::vector<std::string> OptionList(std::string_view arguments, std::string_view option) {
  const auto words = Words(arguments);
  std::string list;
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] == option && i + 1 < words.size()) {
      list = words[i + 1];
    } else if (words[i].size() > option.size() && words[i].rfind(option, 0) == 0) {
      list = words[i].substr(option.size());  // getopt also takes "-lDEPLOY,…"
    }
  }
  std::vector<std::string> items;
  std::istringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    item = Trim(item.substr(0, item.find('=')));
    if (!item.empty()) items.push_back(Upper(item));
  }
  return items;
}

std::vector<Finding> CheckOnedConfig(std::string_view system_config_xml) {
  auto config = rpc::ParseXml(system_config_xml);
  if (!config.ok() || config->name != "OPENNEBULA_CONFIGURATION") {
    return {Fail("oned.conf", "one.system.config did not return oned's configuration",
                 "run the doctor as oneadmin (only the oneadmin group may read oned.conf)")};
  }
  return {CheckVmMad(*config),
          CheckDriverList(*config, "TM_MAD"),
          CheckDriverList(*config, "DATASTORE_MAD"),
          CheckDriverConf(*config, "TM_MAD_CONF",
                          {{"LN_TARGET", "NONE"}, {"CLONE_TARGET", "NONE"}, {"SHARED", "NO"}}),
          CheckDriverConf(*config, "DS_MAD_CONF", {{"PERSISTENT_ONLY", "NO"}}),
          CheckDriverConf(*config, "VN_MAD_CONF", {{"BRIDGE_TYPE", "linux"}}),
          CheckInherited(*config)};
}

}  // namespace onedock::admin
