#include "bridge/volume_plan.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "bridge/container_plan.h"

namespace onedock {
namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

bool Within(const std::string& path, const std::string& dir) {
  return path == dir || path.rfind(dir + "/", 0) == 0;
}

// An absolute path of plain components, outside what the engine or onedock owns in the container.
Status CheckMount(const std::string& mount) {
  const auto bad = [&mount](const std::string& why) {
    return InvalidArgument("DOCKER_MOUNT \"" + mount + "\" " + why);
  };
  if (mount.size() < 2 || mount.front() != '/' || mount.size() > 255) {
    return bad("must be an absolute path below / of at most 255 characters");
  }
  if (!std::all_of(mount.begin(), mount.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '_' ||
               c == '-';
      })) {
    return bad("may hold only letters, digits, '/', '.', '_' and '-'");
  }
  size_t start = 1;
  while (start <= mount.size()) {
    size_t end = mount.find('/', start);
    if (end == std::string::npos) end = mount.size();
    const std::string part = mount.substr(start, end - start);
    if (part.empty() || part == "." || part == "..")
      return bad("has an empty, '.' or '..' component");
    start = end + 1;
  }
  for (const char* owned : {"/context", "/proc", "/sys", "/dev"}) {
    if (Within(mount, owned))
      return bad(std::string("is inside ") + owned + ", which the container needs");
  }
  return Status::Ok();
}

}  // namespace

std::string VolumeSource(int image_id) { return kVolumeSourcePrefix + std::to_string(image_id); }

std::optional<int> VolumeImageId(const std::string& source) {
  const std::string prefix = kVolumeSourcePrefix;
  if (source.rfind(prefix, 0) != 0) return std::nullopt;
  const std::string id = source.substr(prefix.size());
  if (id.empty() || id.size() > 9 || !std::all_of(id.begin(), id.end(), ::isdigit))
    return std::nullopt;
  return std::stoi(id);
}

std::string VmVolumeName(int vm_id, int disk_id) {
  return ContainerName(vm_id) + "-disk" + std::to_string(disk_id);
}

std::string ImageVolumeName(int image_id) { return "one-image-" + std::to_string(image_id); }

Result<std::vector<PlannedVolume>> PlanVolumes(const Vm& vm, const std::string& instance) {
  std::vector<const Disk*> disks;
  for (const auto& d : vm.disks) {
    if (d.disk_id != 0) disks.push_back(&d);
  }
  std::sort(disks.begin(), disks.end(),
            [](const Disk* a, const Disk* b) { return a->disk_id < b->disk_id; });
  std::vector<PlannedVolume> out;
  std::set<std::string> mounts;
  for (const Disk* d : disks) {
    const std::string what = "DISK " + std::to_string(d->disk_id);
    if (d->disk_id < 0) return InvalidArgument("a DISK has no DISK_ID");
    PlannedVolume v;
    v.disk_id = d->disk_id;
    v.size_mb = d->size_mb;
    v.labels = {{kLabelInstance, instance},
                {kLabelDiskId, std::to_string(d->disk_id)},
                {kLabelSizeMb, std::to_string(d->size_mb)}};
    if (const auto image = VolumeImageId(d->source)) {
      v.from_image = *image;
      const bool persistent = d->persistent || Upper(Get(d->all, "CLONE")) == "NO";
      if (persistent) {
        v.image_id = *image;
        v.from_image = -1;
        v.name = ImageVolumeName(*image);
        v.labels[kLabelImageId] = std::to_string(*image);
        v.labels.erase(kLabelDiskId);  // the image's volume outlives this VM's disk numbering
      }
    } else if (d->image_id >= 0 || !d->source.empty()) {
      return InvalidArgument(
          what + " (image " + (d->image.empty() ? std::to_string(d->image_id) : d->image) +
          ", SOURCE \"" + d->source +
          "\") is not a data volume: a container runs one Docker "
          "image (DISK 0); its other disks must be empty DATABLOCK images of an onedock "
          "datastore or volatile fs disks");
    } else {
      const std::string type = Upper(d->type);
      if (type == "SWAP") {
        return InvalidArgument(
            what +
            ": swap disks are not supported: a container has no swap device, and "
            "MEMORY sets its memory and memory+swap limits equal");
      }
      if (!type.empty() && type != "FS") {
        return InvalidArgument(what + ": volatile disks of TYPE " + d->type +
                               " are not supported (fs only)");
      }
    }
    if (v.name.empty()) {
      v.name = VmVolumeName(vm.id, d->disk_id);
      v.labels[kLabelVmId] = std::to_string(vm.id);
    }
    v.mount = Get(d->all, "DOCKER_MOUNT");
    if (v.mount.empty()) v.mount = "/mnt/disk" + std::to_string(d->disk_id);
    while (v.mount.size() > 1 && v.mount.back() == '/') v.mount.pop_back();
    if (Status s = CheckMount(v.mount); !s.ok()) return s.WithContext(what);
    if (!mounts.insert(v.mount).second)
      return InvalidArgument(what + ": another DISK is mounted at " + v.mount);
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::string> EmptyVolumeSource(const Image& image) {
  const std::string what = "image " + std::to_string(image.id);
  if (image.type != kImageTypeDatablock) {
    return InvalidArgument(what + " has TYPE " + std::to_string(image.type) +
                           "; only an empty DATABLOCK image becomes a volume");
  }
  if (image.size_mb <= 0)
    return InvalidArgument(what + ": an empty DATABLOCK needs a SIZE above 0 MB");
  return VolumeSource(image.id);
}

VolumeSources PlanVolumeSources(const std::vector<PlannedVolume>& volumes,
                                const std::optional<std::string>& previous_host,
                                const std::map<int, std::string>& homes, const std::string& host) {
  VolumeSources out;
  const bool moved = previous_host && *previous_host != host;
  for (size_t i = 0; i < volumes.size(); ++i) {
    const PlannedVolume& v = volumes[i];
    const int image_id = v.image_id >= 0 ? v.image_id : v.from_image;
    const auto home = homes.find(image_id);
    const bool has_home = image_id >= 0 && home != homes.end();
    if (v.image_id < 0 && moved) {
      out.origins.push_back({i, *previous_host, v.name, -1, true});
    } else if (v.image_id < 0 && !previous_host && has_home) {
      out.origins.push_back({i, home->second, ImageVolumeName(image_id), image_id, false});
    } else if (v.image_id >= 0 && !has_home) {
      out.homeless.push_back(v.image_id);
    } else if (v.image_id >= 0 && home->second != host) {
      out.origins.push_back({i, home->second, v.name, v.image_id, true});
    }
  }
  return out;
}

}  // namespace onedock
