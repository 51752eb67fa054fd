#include <algorithm>
#include <filesystem>

#include "bridge/log.h"
#include "bridge/spool.h"
#include "bridge/vm_actions.h"

namespace onedock {
namespace {

bool Is(const Status& s, Status::Code code) { return s.code() == code; }

// The directory an archive of `path` is extracted into so that it lands at `path`.
std::string ParentOf(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

}  // namespace

Result<VolumeSources> VmActions::VolumeSourcesOf(const std::vector<PlannedVolume>& volumes,
                                                 const std::optional<Placement>& previous,
                                                 const std::string& host) {
  std::map<int, std::string> homes;
  for (const auto& v : volumes) {
    const int image_id = v.image_id >= 0 ? v.image_id : v.from_image;
    if (image_id < 0 || homes.count(image_id) != 0) continue;
    auto home = journal_.VolumeHome(image_id);
    if (!home.ok()) return home.status();
    if (*home) homes[image_id] = **home;
  }
  return PlanVolumeSources(
      volumes, previous ? std::optional<std::string>(previous->host) : std::nullopt, homes, host);
}

Status VmActions::EnsureVolume(Engine& engine, const PlannedVolume& volume) {
  auto got = engine.CreateVolume(volume.name, volume.labels);
  if (!got.ok()) return got.status();
  // A name that was taken comes back as it was: it must carry this VM's (or image's) labels.
  for (const char* key : {kLabelInstance, kLabelVmId, kLabelImageId}) {
    auto want = volume.labels.find(key);
    if (want == volume.labels.end()) continue;
    auto have = got->labels.find(key);
    if (have == got->labels.end() || have->second != want->second) {
      return Conflict(
          "volume " + volume.name + " exists on the host and is not " +
          (volume.image_id >= 0 ? "image " + std::to_string(volume.image_id) + "'s" : "this VM's") +
          " (label " + key + "=" + (have == got->labels.end() ? "<none>" : have->second) + ")");
    }
  }
  return Status::Ok();
}

Result<std::optional<std::string>> VmActions::VolumeHolder(int vm_id, const PlannedVolume& volume,
                                                           const VolumeOrigin& origin,
                                                           Engine& source, const std::string& image,
                                                           bool* helper) {
  const std::string holder = ContainerName(vm_id);
  if (origin.source_image < 0) {
    // Someone else's container of that name holds nothing of this VM's.
    auto c = OurContainer(source, vm_id);
    if (c.ok()) return std::optional<std::string>(holder);
    if (!Is(c.status(), Status::Code::kNotFound) && !Is(c.status(), Status::Code::kConflict))
      return c.status();
    auto left = source.ListVolumes({std::string(kLabelVmId) + "=" + std::to_string(vm_id),
                                    std::string(kLabelInstance) + "=" + settings_.plan.instance});
    if (!left.ok()) return left.status();
    for (const auto& v : *left) {
      if (v.name == origin.source) {
        return FailedPrecondition("the VM's volume " + origin.source + " is on host " +
                                  origin.host + " without its container " + holder +
                                  "; onedock moves a VM's volumes through it");
      }
    }
    NamedLogger("actions")->info(
        "vm {}: nothing to copy for {}: host {} has neither the container nor the volume", vm_id,
        origin.source, origin.host);
    return std::optional<std::string>();
  }
  auto present =
      source.ListVolumes({std::string(kLabelImageId) + "=" + std::to_string(origin.source_image)});
  if (!present.ok()) return present.status();
  if (std::none_of(present->begin(), present->end(),
                   [&](const VolumeInfo& v) { return v.name == origin.source; })) {
    NamedLogger("actions")->warn(
        "vm {}: volume {} of image {} is no longer on host {}: {} starts empty", vm_id,
        origin.source, origin.source_image, origin.host, volume.name);
    return std::optional<std::string>();
  }
  auto have = source.InspectImage(image);
  if (!have.ok() && !Is(have.status(), Status::Code::kNotFound)) return have.status();
  if (!have.ok()) {
    if (Status p = source.PullImage(image, settings_.registry_auth, nullptr); !p.ok()) return p;
  }
  // One helper per VM: VMs made from the same image may be deployed at the same time.
  ContainerSpec spec;
  spec.name = origin.source + "-copy-" + std::to_string(vm_id);
  spec.image = image;
  spec.cmd = {"/bin/true"};  // never started: the engine only needs the volume mounted
  spec.network_mode = "none";
  spec.labels = {{kLabelInstance, settings_.plan.instance},
                 {kLabelImageId, std::to_string(origin.source_image)}};
  spec.volumes = {origin.source + ":" + volume.mount};
  source.RemoveContainer(spec.name, true, false);  // a helper a crash left behind
  auto made = source.CreateContainer(spec);
  if (!made.ok()) return made.status();
  *helper = true;
  return std::optional<std::string>(spec.name);
}

Status VmActions::CopyVolume(int vm_id, const PlannedVolume& volume, const VolumeOrigin& origin,
                             Engine& dest, const std::string& container, const std::string& image) {
  const std::string what = "copy volume " + origin.source + " from host " + origin.host;
  auto src = engines_.Acquire(origin.host);
  if (!src.ok()) return src.status().WithContext(what);
  Engine& source = **src;
  bool helper = false;
  auto holder = VolumeHolder(vm_id, volume, origin, source, image, &helper);
  if (!holder.ok()) return holder.status().WithContext(what);
  if (!*holder) return Status::Ok();
  const std::string file = SpoolFile(settings_.spool_dir, "volume", origin.source);
  Status s = source.GetArchiveToFile(**holder, volume.mount, file);
  if (helper) {
    if (Status r = source.RemoveContainer(**holder, true, false); !r.ok()) {
      NamedLogger("actions")->warn("host {}: helper container {} left: {}", origin.host, **holder,
                                   r.ToString());
    }
  }
  if (s.ok()) s = dest.PutArchiveFromFile(container, ParentOf(volume.mount), file);
  std::error_code size_error, remove_error;
  const auto bytes = std::filesystem::file_size(file, size_error);
  std::filesystem::remove(file, remove_error);
  if (s.ok()) {
    NamedLogger("actions")->info("vm {}: {} into {}: {} bytes of archive", vm_id, what, volume.name,
                                 size_error ? 0 : bytes);
  }
  return s.WithContext(what);
}

void VmActions::RemoveLeftBehind(int vm_id, const std::string& host,
                                 const std::optional<Placement>& previous,
                                 const std::vector<VolumeOrigin>& origins) {
  auto log = NamedLogger("actions");
  if (previous && previous->host != host) {
    // The VM moved: the container it left behind must not survive as a twin; its own volumes
    // were copied and go with it.
    if (Status r = RemoveLocked(vm_id, previous->host); !r.ok()) {
      log->error("vm {}: container left on host {}: {}", vm_id, previous->host, r.ToString());
    } else {
      journal_.Settled({previous->host, "container", ContainerName(vm_id), vm_id});
    }
  }
  for (const auto& origin : origins) {
    if (!origin.moves || origin.source_image < 0) continue;  // a VM's own went with its container
    auto old = engines_.Acquire(origin.host);
    Status r = old.ok() ? (*old)->RemoveVolume(origin.source) : old.status();
    if (!r.ok() && !Is(r, Status::Code::kNotFound)) {
      log->error("image {}: old copy of volume {} left on host {}: {}", origin.source_image,
                 origin.source, origin.host, r.ToString());
    } else {
      journal_.Settled({origin.host, "volume", origin.source, vm_id});
    }
  }
}

Status VmActions::RemoveLeftover(const Leftover& l) {
  Status s;
  if (l.kind == "container") {
    s = RemoveLocked(l.vm_id, l.host);
  } else {
    auto engine = engines_.Acquire(l.host);
    s = engine.ok() ? (*engine)->RemoveVolume(l.name) : engine.status();
    if (Is(s, Status::Code::kNotFound)) s = Status::Ok();
  }
  if (!s.ok())
    return s.WithContext("remove the stale " + l.kind + " " + l.name + " left on host " + l.host);
  NamedLogger("actions")->info("host {}: stale {} {} removed", l.host, l.kind, l.name);
  return journal_.Settled(l);
}

Status VmActions::SettleLeftovers(const std::string& host, int vm_id,
                                  const std::vector<std::string>& volumes) {
  auto leftovers = journal_.Leftovers(host);
  if (!leftovers.ok()) return leftovers.status();
  for (const Leftover& l : *leftovers) {
    const bool mine = l.kind == "container"
                          ? l.vm_id == vm_id
                          : std::find(volumes.begin(), volumes.end(), l.name) != volumes.end();
    if (!mine) continue;
    if (Status s = RemoveLeftover(l); !s.ok()) return s;
  }
  return Status::Ok();
}

Result<std::optional<std::string>> VmActions::ImageVolumeHome(int image_id) {
  return journal_.VolumeHome(image_id);
}

Status VmActions::RemoveImageVolume(int image_id) {
  const std::string name = ImageVolumeName(image_id);
  auto home = journal_.VolumeHome(image_id);
  if (!home.ok()) return home.status();
  if (!*home) return Status::Ok();  // never deployed: no volume was made
  const std::string what = "remove volume " + name + " on host " + **home;
  auto engine = engines_.Acquire(**home);
  if (!engine.ok()) return engine.status().WithContext(what);
  Status s = (*engine)->RemoveVolume(name);
  if (!s.ok() && !Is(s, Status::Code::kNotFound)) return s.WithContext(what);
  NamedLogger("actions")->info("{}: done", what);
  return journal_.ForgetVolumeHome(image_id);
}

}  // namespace onedock
