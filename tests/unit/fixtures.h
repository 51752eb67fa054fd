// Test fixtures: files under tests/fixtures, and the stdin that a real oned 7.4 gave a driver, as
// recorded in tests/fixtures/captures (the raw base64 line of each capture).
#ifndef ONEDOCK_TESTS_UNIT_FIXTURES_H_
#define ONEDOCK_TESTS_UNIT_FIXTURES_H_

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "bridge/base64.h"

namespace onedock::fixtures {

inline std::string Read(const std::string& relative) {
  const std::string path = std::string(ONEDOCK_FIXTURES_DIR) + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The raw stdin line of the index-th capture in a capture file (as oned sent it).
inline std::string CapturedStdin(const std::string& capture_file, int index = 0) {
  std::istringstream in(Read("captures/" + capture_file));
  std::string line;
  int seen = 0;
  while (std::getline(in, line)) {
    if (line == "----- STDIN (raw) -----" && seen++ == index) {
      std::getline(in, line);
      return line;
    }
  }
  throw std::runtime_error("no stdin #" + std::to_string(index) + " in " + capture_file);
}

// The same, base64-decoded (local driver actions receive base64 stdin).
inline std::string CapturedDocument(const std::string& capture_file, int index = 0) {
  auto decoded = Base64Decode(CapturedStdin(capture_file, index));
  if (!decoded.ok()) throw std::runtime_error(decoded.status().ToString());
  return *decoded;
}

}  // namespace onedock::fixtures

#endif  // ONEDOCK_TESTS_UNIT_FIXTURES_H_
