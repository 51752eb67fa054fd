#include "bridge/volume_plan.h"

#include <doctest/doctest.h>

#include "rpc/one_parse.h"
#include "rpc/xml_node.h"
#include "tests/unit/fixtures.h"

namespace onedock {
namespace {

Vm WithDisks(std::vector<Disk> disks) {
  Vm vm;
  vm.id = 42;
  Disk image;
  image.disk_id = 0;
  image.image_id = 3;
  image.source = "127.0.0.1:5000/httpd:3";
  vm.disks.push_back(image);
  vm.disks.insert(vm.disks.end(), disks.begin(), disks.end());
  return vm;
}

Disk Volatile(int id, const std::string& type = "fs", const std::string& mount = "") {
  Disk d;
  d.disk_id = id;
  d.type = type;
  d.size_mb = 100;
  if (!mount.empty()) d.all["DOCKER_MOUNT"] = mount;
  return d;
}

TEST_CASE("volume sources name the image and nothing else parses as one") {
  CHECK(VolumeSource(7) == "onedock-volume://7");
  CHECK(*VolumeImageId("onedock-volume://7") == 7);
  for (const char* other :
       {"onedock-volume://", "onedock-volume://7a", "onedock-volume://-1",
        "onedock-volume://1234567890", "127.0.0.1:5000/httpd:3", "docker://busybox"}) {
    CHECK_MESSAGE(!VolumeImageId(other), other);
  }
  CHECK(VmVolumeName(42, 1) == "one-42-disk1");
  CHECK(ImageVolumeName(7) == "one-image-7");
}

TEST_CASE("every DISK but DISK 0 is planned as a volume in DISK_ID order") {
  Disk persistent;
  persistent.disk_id = 1;
  persistent.image_id = 9;
  persistent.source = "onedock-volume://9";
  persistent.persistent = true;
  auto planned = PlanVolumes(WithDisks({Volatile(2, "FS", "/var/lib/data/"), persistent}), "od");
  REQUIRE_MESSAGE(planned.ok(), planned.status().ToString());
  REQUIRE(planned->size() == 2);
  CHECK((*planned)[0].name == "one-image-9");
  CHECK((*planned)[0].mount == "/mnt/disk1");
  CHECK((*planned)[0].image_id == 9);
  CHECK((*planned)[0].labels == std::map<std::string, std::string>{{"one.instance", "od"},
                                                                   {"one.image_id", "9"},
                                                                   {"one.size_mb", "0"}});
  CHECK((*planned)[1].name == "one-42-disk2");
  CHECK((*planned)[1].mount == "/var/lib/data");
  CHECK((*planned)[1].image_id == -1);
  CHECK((*planned)[1].labels.at("one.vmid") == "42");
  CHECK((*planned)[1].labels.at("one.disk_id") == "2");
  CHECK((*planned)[1].labels.at("one.size_mb") == "100");
}

TEST_CASE("disks that cannot be volumes and unusable mount points are refused with the DISK") {
  Disk os;
  os.disk_id = 1;
  os.image_id = 4;
  os.image = "debian";
  os.source = "127.0.0.1:5000/debian:4";
  const std::vector<std::pair<Vm, std::string>> cases = {
      {WithDisks({Volatile(1, "swap")}), "DISK 1: swap disks are not supported"},
      {WithDisks({Volatile(1, "block")}), "DISK 1: volatile disks of TYPE block are not supported"},
      {WithDisks({os}),
       "DISK 1 (image debian, SOURCE \"127.0.0.1:5000/debian:4\") is not a data volume"},
      {WithDisks({Volatile(1, "fs", "relative/path")}),
       "DISK 1: DOCKER_MOUNT \"relative/path\" must be an absolute"},
      {WithDisks({Volatile(1, "fs", "/data/../etc")}), "has an empty, '.' or '..' component"},
      {WithDisks({Volatile(1, "fs", "/data//x")}), "has an empty, '.' or '..' component"},
      {WithDisks({Volatile(1, "fs", "/data;rm -rf")}), "may hold only letters"},
      {WithDisks({Volatile(1, "fs", "/context/x")}), "is inside /context"},
      {WithDisks({Volatile(1, "fs", "/proc")}), "is inside /proc"},
      {WithDisks({Volatile(1, "fs", "/")}), "must be an absolute path below /"},
      {WithDisks({Volatile(1, "fs", "/data"), Volatile(2, "fs", "/data/")}),
       "DISK 2: another DISK is mounted at /data"},
  };
  for (const auto& [vm, want] : cases) {
    auto planned = PlanVolumes(vm, "od");
    REQUIRE_FALSE(planned.ok());
    CHECK(planned.status().code() == Status::Code::kInvalidArgument);
    CHECK_MESSAGE(planned.status().message().find(want) != std::string::npos,
                  planned.status().message());
  }
}

TEST_CASE("a DOCKER_MOUNT written in the VM's DISK reaches the plan through the parser") {
  const std::string xml =
      "<VM><ID>5</ID><NAME>v</NAME><TEMPLATE><DISK><DISK_ID>0</DISK_ID><SOURCE>r/x:1</SOURCE></"
      "DISK>"
      "<DISK><DISK_ID>1</DISK_ID><TYPE>fs</TYPE><SIZE>64</SIZE><DOCKER_MOUNT><![CDATA[/srv/www]]></"
      "DOCKER_MOUNT>"
      "<FORMAT>raw</FORMAT><TARGET>sdb</TARGET></DISK></TEMPLATE></VM>";
  auto vm = rpc::ParseVmXml(xml);
  REQUIRE_MESSAGE(vm.ok(), vm.status().ToString());
  auto planned = PlanVolumes(*vm, "od");
  REQUIRE_MESSAGE(planned.ok(), planned.status().ToString());
  REQUIRE(planned->size() == 1);
  CHECK((*planned)[0].name == "one-5-disk1");
  CHECK((*planned)[0].mount == "/srv/www");
  CHECK((*planned)[0].size_mb == 64);
}

TEST_CASE("the mkfs a real oned sent for an empty DATABLOCK gets a volume source") {
  auto doc = rpc::ParseXml(fixtures::CapturedDocument("ds-mkfs.txt"));
  REQUIRE(doc.ok());
  auto image = rpc::ParseImage(*doc->Child("IMAGE"));
  REQUIRE(image.ok());
  CHECK(image->type == 2);
  CHECK(image->size_mb == 10);
  CHECK(*EmptyVolumeSource(*image) == "onedock-volume://3");
}

TEST_CASE("mkfs gives an empty DATABLOCK its volume source and refuses other images") {
  Image image;
  image.id = 3;
  image.type = 2;
  image.size_mb = 10;
  CHECK(*EmptyVolumeSource(image) == "onedock-volume://3");
  image.size_mb = 0;
  CHECK(EmptyVolumeSource(image).status().message().find("needs a SIZE above 0 MB") !=
        std::string::npos);
  image.size_mb = 10;
  image.type = 0;
  CHECK(EmptyVolumeSource(image).status().message().find(
            "only an empty DATABLOCK image becomes a volume") != std::string::npos);
}

// Volumes of one VM: its own copy of image 7 (disk 1), a volatile disk (2), persistent image 8 (3).
std::vector<PlannedVolume> ThreeVolumes() {
  PlannedVolume copy{1, "one-42-disk1", "/data", 10, -1, 7, {}};
  PlannedVolume scratch{2, "one-42-disk2", "/mnt/disk2", 64, -1, -1, {}};
  PlannedVolume kept{3, "one-image-8", "/mnt/disk3", 0, 8, -1, {}};
  return {copy, scratch, kept};
}

TEST_CASE(
    "volume sources: a first deploy copies an image's data once, and makes a persistent image's "
    "volume") {
  const auto volumes = ThreeVolumes();
  auto fresh = PlanVolumeSources(volumes, std::nullopt, {}, "h1");
  CHECK(fresh.origins.empty());
  CHECK(fresh.homeless == std::vector<int>{8});
  auto seeded = PlanVolumeSources(volumes, std::nullopt, {{7, "h2"}, {8, "h1"}}, "h1");
  REQUIRE(seeded.origins.size() == 1);
  CHECK(seeded.origins[0] == VolumeOrigin{0, "h2", "one-image-7", 7, false});
  CHECK(seeded.homeless.empty());
}

TEST_CASE(
    "volume sources: a VM that moved takes its own volumes along, and its persistent image's "
    "follows") {
  const auto volumes = ThreeVolumes();
  auto moved = PlanVolumeSources(volumes, std::string("h2"), {{7, "h2"}, {8, "h2"}}, "h1");
  REQUIRE(moved.origins.size() == 3);
  CHECK(moved.origins[0] == VolumeOrigin{0, "h2", "one-42-disk1", -1, true});
  CHECK(moved.origins[1] == VolumeOrigin{1, "h2", "one-42-disk2", -1, true});
  CHECK(moved.origins[2] == VolumeOrigin{2, "h2", "one-image-8", 8, true});
  // Deployed again where it was: nothing to copy, the own copy of image 7 is not made again.
  auto stayed = PlanVolumeSources(volumes, std::string("h1"), {{7, "h2"}, {8, "h1"}}, "h1");
  CHECK(stayed.origins.empty());
  CHECK(stayed.homeless.empty());
}

}  // namespace
}  // namespace onedock
