#include "bridge/first_line.h"

#include <fstream>

namespace onedock {

Result<std::string> ReadFirstLine(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return NotFound(what + " " + path + " cannot be read");
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

}  // namespace onedock
