// The emulator's datastore (DS_MAD) and information (IM_MAD) driver runs, and host status.
//
// Datastore actions run locally as oned 7.x runs them (reference §5.1, captures): argv[1] is the
// image id, stdin the base64 <DS_DRIVER_ACTION_DATA>; STAT (run inside one.image.allocate, see
// ImageAllocate) prints the size in MB, CP prints "SOURCE FORMAT" (both required). Information
// drivers follow one_im_sh (§4.4): every executable in remotes/im/<im_mad>.d runs with "<im_mad>
// <host id> <host name>" (stop: "stop" first) and the base64 <MONITOR_CONFIGURATION> on stdin; the
// start reply must be a <MONITOR_MESSAGES> document.
//
// The configuration holds DATASTORE_LOCATION, MONITORING_INTERVAL_HOST, NETWORK and, when the
// emulator's config has one, PROBES_PERIOD.
// Simplifications: monitoring is started when a host is created or enabled from OFFLINE and not
// re-sent after MONITORING_INTERVAL_HOST of silence; datastores are not monitored periodically.
#include <algorithm>
#include <filesystem>
#include <sstream>

#include "bridge/base64.h"
#include "rpc/xml_node.h"
#include "tests/emulator/driver_runner.h"
#include "tests/emulator/one_state.h"

namespace onedock::emulator {
namespace {

namespace fs = std::filesystem;

}  // namespace

OneState::Step OneState::DatastoreStep(const std::string& action, int object_id,
                                       const std::string& stdin_xml, int ds_id) const {
  Step step;
  const Datastore& ds = datastores_.at(ds_id);
  const TemplateAttribute* mad = nullptr;
  for (const auto* a : config_.All("DATASTORE_MAD")) mad = a;
  if (mad == nullptr || !DriverOptionLists(mad->Get("ARGUMENTS"), "-d", ds.ds_mad)) {
    step.error = "Datastore driver '" + ds.ds_mad + "' not available";
    return step;
  }
  step.executable = config_.Get("REMOTES_DIR") + "/datastore/" + ds.ds_mad + "/" + action;
  step.args = {std::to_string(object_id)};
  step.stdin_text = Base64Encode(stdin_xml);
  return step;
}

void OneState::ImageCopyFlow(int image_id) {
  Step cp;
  {
    std::lock_guard lock(mu_);
    const Image& image = images_.at(image_id);
    const std::string data = "<DS_DRIVER_ACTION_DATA>" + ImageXml(image) +
                             DatastoreXml(datastores_.at(image.ds_id)) + "</DS_DRIVER_ACTION_DATA>";
    cp = DatastoreStep("cp", image_id, data, image.ds_id);
  }
  auto fail = [&](const std::string& message) {
    std::lock_guard lock(mu_);
    auto it = images_.find(image_id);
    if (it == images_.end()) return;
    it->second.state = 5;  // ERROR
    it->second.templ.Set("ERROR", message);
  };
  if (!cp.error.empty()) return fail(cp.error);
  DriverRun copy = RunStep(cp);
  const std::vector<std::string> out = SplitWords(copy.out);
  if (!copy.ok()) return fail("Error copying image in the datastore: " + FailureMessage(copy.err));
  if (out.size() < 2)
    return fail("Error copying image in the datastore: missing SOURCE or FORMAT in \"" + copy.out +
                "\"");
  std::lock_guard lock(mu_);
  Image& image = images_.at(image_id);
  image.source = out[0];
  image.format = out[1];
  image.state = 1;  // READY
}

// MKFS: oned takes the driver's whole reply as the SOURCE (ImageManager::_mkfs), without
// splitting off a format.
void OneState::ImageMkfsFlow(int image_id) {
  Step mkfs;
  {
    std::lock_guard lock(mu_);
    const Image& image = images_.at(image_id);
    mkfs = DatastoreStep("mkfs", image_id,
                         "<DS_DRIVER_ACTION_DATA>" + ImageXml(image) +
                             DatastoreXml(datastores_.at(image.ds_id)) + "</DS_DRIVER_ACTION_DATA>",
                         image.ds_id);
  }
  DriverRun run = mkfs.error.empty() ? RunStep(mkfs) : DriverRun{};
  std::lock_guard lock(mu_);
  auto it = images_.find(image_id);
  if (it == images_.end()) return;
  Image& image = it->second;
  if (!mkfs.error.empty() || !run.ok()) {
    image.state = 5;
    image.templ.Set("ERROR", "Error creating datablock: " +
                                 (mkfs.error.empty() ? FailureMessage(run.err) : mkfs.error));
    return;
  }
  std::string source = run.out;
  while (!source.empty() && std::isspace(static_cast<unsigned char>(source.back())))
    source.pop_back();
  image.source = source;
  image.state = 1;  // READY
}

// CLONE: the reply is "SOURCE [FORMAT]" (ImageManager::_clone reads both words).
void OneState::ImageCloneFlow(int image_id) {
  Step clone;
  int original = -1;
  {
    std::lock_guard lock(mu_);
    const Image& image = images_.at(image_id);
    original = image.cloning_id;
    clone =
        DatastoreStep("clone", image_id,
                      "<DS_DRIVER_ACTION_DATA>" + ImageXml(image) +
                          DatastoreXml(datastores_.at(image.ds_id)) + "</DS_DRIVER_ACTION_DATA>",
                      image.ds_id);
  }
  DriverRun run = clone.error.empty() ? RunStep(clone) : DriverRun{};
  const std::vector<std::string> words = SplitWords(run.out);
  std::lock_guard lock(mu_);
  auto it = images_.find(image_id);
  if (it == images_.end()) return;
  Image& image = it->second;
  image.cloning_id = -1;
  if (!clone.error.empty() || !run.ok() || words.empty()) {
    image.state = 5;
    const std::string why = !clone.error.empty() ? clone.error
                            : run.ok()           ? "empty reply"
                                                 : FailureMessage(run.err);
    image.templ.Set("ERROR", "Error cloning from Image " + std::to_string(original) + ": " + why);
    return;
  }
  image.source = words[0];
  if (words.size() > 1) image.format = words[1];
  image.state = 1;  // READY
}

void OneState::ImageRemoveFlow(int image_id) {
  Step rm;
  {
    std::lock_guard lock(mu_);
    const Image& image = images_.at(image_id);
    rm = DatastoreStep("rm", image_id,
                       "<DS_DRIVER_ACTION_DATA>" + ImageXml(image) +
                           DatastoreXml(datastores_.at(image.ds_id)) + "</DS_DRIVER_ACTION_DATA>",
                       image.ds_id);
  }
  DriverRun run = RunStep(rm);
  std::lock_guard lock(mu_);
  if (run.ok()) {
    images_.erase(image_id);
    return;
  }
  Image& image = images_.at(image_id);
  image.state = 5;
  image.templ.Set("ERROR", "Error deleting image: " + StepFailure(rm, run));
}

std::string OneState::MonitorConfigurationXml(int host_id) const {
  Template conf;
  conf.Set("DATASTORE_LOCATION", config_.Get("DATASTORE_LOCATION", "/var/lib/one/datastores"));
  conf.Set("MONITORING_INTERVAL_HOST", "180");
  TemplateAttribute network{"NETWORK",
                            "",
                            {{"ADDRESS", "127.0.0.1"},
                             {"MONITOR_ADDRESS", "127.0.0.1"},
                             {"PORT", std::to_string(monitord_port_)}},
                            true};
  conf.attributes.push_back(network);
  // monitord.conf's PROBES_PERIOD travels with the configuration, as monitord sends it.
  for (const TemplateAttribute* periods : config_.All("PROBES_PERIOD"))
    conf.attributes.push_back(*periods);
  std::string xml = conf.ToXml("MONITOR_CONFIGURATION");
  xml.insert(xml.size() - std::string("</MONITOR_CONFIGURATION>").size(),
             "<HOST_ID>" + std::to_string(host_id) + "</HOST_ID>");
  return xml;
}

void OneState::StartMonitorFlow(int host_id) {
  std::vector<std::string> scripts;
  std::string im_mad, name, stdin_text, dir;
  {
    std::lock_guard lock(mu_);
    auto it = hosts_.find(host_id);
    if (it == hosts_.end()) return;
    im_mad = it->second.im_mad;
    name = it->second.name;
    bool configured = false;
    for (const auto* a : config_.All("IM_MAD")) configured = configured || a->Get("NAME") == im_mad;
    dir = config_.Get("REMOTES_DIR") + "/im/" + im_mad + ".d";
    if (configured && fs::is_directory(dir)) {
      for (const auto& e : fs::directory_iterator(dir)) {
        if (e.is_regular_file() &&
            (fs::status(e.path()).permissions() & fs::perms::owner_exec) != fs::perms::none) {
          scripts.push_back(e.path().string());
        }
      }
    }
    std::sort(scripts.begin(), scripts.end());
    stdin_text = Base64Encode(MonitorConfigurationXml(host_id));
    if (scripts.empty()) {
      SetHostStateLocked(it->second, 3);
      it->second.templ.Set("ERROR", "Cannot start monitoring: no IM driver " + im_mad);
      return;
    }
  }
  std::string reply;
  for (const auto& script : scripts) {
    DriverRun run = RunDriver(script, {im_mad, std::to_string(host_id), name}, stdin_text);
    if (!run.ok()) {
      std::lock_guard lock(mu_);
      auto it = hosts_.find(host_id);
      if (it == hosts_.end()) return;
      SetHostStateLocked(it->second, 3);
      it->second.templ.Set("ERROR", "Error starting monitoring: " + FailureMessage(run.err));
      return;
    }
    reply += run.out;
  }
  // The reply is a <MONITOR_MESSAGES> document; anything else (an empty reply included) is a
  // failure and puts the host in ERROR.
  auto doc = rpc::ParseXml(reply);
  if (!doc.ok() || doc->name != "MONITOR_MESSAGES") {
    std::lock_guard lock(mu_);
    auto it = hosts_.find(host_id);
    if (it == hosts_.end()) return;
    SetHostStateLocked(it->second, 3);
    it->second.templ.Set("ERROR",
                         "Error starting monitoring: reply is not a MONITOR_MESSAGES document");
    return;
  }
  const int64_t ts = std::atoll(doc->Get("TIMESTAMP", "0").c_str());
  for (const auto& child : doc->children) {
    if (child.name == "TIMESTAMP" || child.text.empty()) continue;
    auto payload = Base64Decode(child.text);
    if (!payload.ok()) continue;
    ApplyMonitord({child.name, true, host_id, ts, *payload});
  }
}

void OneState::StopMonitorFlow(int host_id, const std::string& name, const std::string& im_mad) {
  const std::string dir = config_.Get("REMOTES_DIR") + "/im/" + im_mad + ".d";
  if (!fs::is_directory(dir)) return;
  std::string stdin_text;
  {
    std::lock_guard lock(mu_);
    stdin_text = Base64Encode(MonitorConfigurationXml(host_id));
  }
  std::vector<std::string> scripts;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string file = e.path().filename().string();
    if (file.size() > 11 && file.substr(file.size() - 11) == "_control.sh")
      scripts.push_back(e.path().string());
  }
  std::sort(scripts.begin(), scripts.end());
  for (const auto& script : scripts)
    RunDriver(script, {"stop", im_mad, std::to_string(host_id), name}, stdin_text);
}

Answer OneState::HostStatus(int id, int status) {
  std::lock_guard lock(mu_);
  auto it = hosts_.find(id);
  if (it == hosts_.end()) return Answer::Missing("host", id);
  Host& host = it->second;
  if (status == 2) {
    if (host.state != 8) {
      SetHostStateLocked(host, 8);
      Background([this, id, name = host.name, im = host.im_mad] { StopMonitorFlow(id, name, im); });
    }
  } else if (status == 1) {
    SetHostStateLocked(host, 4);
  } else if (status == 0) {
    const bool was_offline = host.state == 8;
    SetHostStateLocked(host, host.total_cpu > 0 && !was_offline ? 2 : 0);
    if (was_offline) Background([this, id] { StartMonitorFlow(id); });
  } else {
    return Answer::Error(kRpcApi, "Wrong status code " + std::to_string(status));
  }
  return Answer::Id(id);
}

}  // namespace onedock::emulator
