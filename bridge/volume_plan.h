// Data disks as Docker volumes. A VM's DISK 0 is its Docker image; every other DISK is a named
// volume of the host engine's `local` driver, mounted into the container:
//
//   - a DATABLOCK image of an onedock datastore (SOURCE "onedock-volume://<image id>", printed
//     by the datastore's mkfs): persistent, the image's one volume "one-image-<image id>" keeps
//     the data from VM to VM; non-persistent, each VM gets its own volume "one-<vmid>-disk<n>",
//     a copy of the image's data (empty unless the image was used persistent before);
//   - a volatile disk (TYPE = fs, no image): "one-<vmid>-disk<n>", gone with the VM.
//
// The mount point is the DISK's DOCKER_MOUNT, or /mnt/disk<n>. SIZE is recorded as a label; the
// local driver does not enforce it. Swap disks have no container equivalent (MEMORY sets Memory
// and MemorySwap equal) and are refused. Pure functions; nothing here talks to a peer.
#ifndef ONEDOCK_BRIDGE_VOLUME_PLAN_H_
#define ONEDOCK_BRIDGE_VOLUME_PLAN_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bridge/one_types.h"
#include "bridge/status.h"

namespace onedock {

inline constexpr char kVolumeSourcePrefix[] = "onedock-volume://";
inline constexpr char kLabelDiskId[] = "one.disk_id";
inline constexpr char kLabelImageId[] = "one.image_id";
inline constexpr char kLabelSizeMb[] = "one.size_mb";

std::string VolumeSource(int image_id);                       // "onedock-volume://7"
std::optional<int> VolumeImageId(const std::string& source);  // 7; nullopt for anything else
std::string VmVolumeName(int vm_id, int disk_id);             // "one-42-disk1"
std::string ImageVolumeName(int image_id);                    // "one-image-7"

struct PlannedVolume {
  int disk_id = -1;
  std::string name;
  std::string mount;  // absolute path in the container
  int64_t size_mb = 0;
  int image_id = -1;    // a persistent image's volume; -1 for the VM's own
  int from_image = -1;  // the DATABLOCK image a VM's own volume is a copy of; -1 for volatile
  std::map<std::string, std::string> labels;
};

// The volumes of every DISK but DISK 0, in DISK_ID order, labelled with the VM (or the image),
// the disk, the size and `instance`. kInvalidArgument names the DISK that cannot be a volume or
// whose DOCKER_MOUNT is not usable.
Result<std::vector<PlannedVolume>> PlanVolumes(const Vm& vm, const std::string& instance);

// Where the data a new container's volume starts with is: the same volume in the VM's container
// left on another host, or a persistent image's volume there.
struct VolumeOrigin {
  size_t volume = 0;  // index in the planned volumes
  std::string host;
  std::string source;     // the volume holding the data on `host`
  int source_image = -1;  // its image, when it is an image's volume
  bool moves = false;     // the data moves: its old copy is removed after the deploy
  bool operator==(const VolumeOrigin&) const = default;
};

struct VolumeSources {
  std::vector<VolumeOrigin> origins;
  std::vector<int> homeless;  // persistent images whose volume is created for the first time
};

// The data a deploy on `host` gives each planned volume. `previous_host`: where the VM's container
// was (nullopt on its first deploy); `homes`: the host holding each image's volume, for the images
// that have one. The VM's own volumes follow the VM when it moved; on its first deploy they are
// copies of their image's volume when it has one; a persistent image's volume follows the image
// when its last VM ran elsewhere.
VolumeSources PlanVolumeSources(const std::vector<PlannedVolume>& volumes,
                                const std::optional<std::string>& previous_host,
                                const std::map<int, std::string>& homes, const std::string& host);

// The SOURCE the datastore's mkfs gives an empty DATABLOCK image; kInvalidArgument for another
// image type or a SIZE that is not above 0.
Result<std::string> EmptyVolumeSource(const Image& image);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_VOLUME_PLAN_H_
