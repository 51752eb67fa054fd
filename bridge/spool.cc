#include "bridge/spool.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>

namespace onedock {

std::string SpoolFile(const std::string& dir, const std::string& kind, const std::string& name) {
  static std::atomic<int> sequence{0};
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return dir + "/" + kind + "-" + name + "-" + std::to_string(getpid()) + "-" +
         std::to_string(sequence++) + ".tar";
}

int ClearSpool(const std::string& dir) {
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const bool ours = (name.rfind("image-", 0) == 0 || name.rfind("volume-", 0) == 0) &&
                      name.size() > 4 && name.compare(name.size() - 4, 4, ".tar") == 0;
    std::error_code rm;
    if (ours && entry.is_regular_file(rm) && std::filesystem::remove(entry.path(), rm)) ++removed;
  }
  return removed;
}

}  // namespace onedock
