#include "rpc/socket_owner.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>
#include <vector>

namespace onedock::rpc {
namespace {

// "0100007F:0A50": the address as the kernel stores it (network order, printed as one native
// 32-bit number) and the port in hex.
std::optional<std::string> Encode(const TcpEnd& end) {
  in_addr addr{};
  if (inet_pton(AF_INET, end.ipv4.c_str(), &addr) != 1 || end.port <= 0 || end.port > 65535)
    return std::nullopt;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08X:%04X", static_cast<unsigned>(addr.s_addr),
                static_cast<unsigned>(end.port));
  return std::string(buf);
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

std::optional<unsigned> TcpSocketUid(std::string_view table, const TcpEnd& local,
                                     const TcpEnd& remote) {
  const auto want_local = Encode(local);
  const auto want_remote = Encode(remote);
  if (!want_local || !want_remote) return std::nullopt;
  while (!table.empty()) {
    const size_t eol = table.find('\n');
    const std::string_view line = table.substr(0, eol);
    table = eol == std::string_view::npos ? std::string_view() : table.substr(eol + 1);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid ...
    const auto f = Fields(line);
    if (f.size() < 8 || f[1] != *want_local || f[2] != *want_remote) continue;
    unsigned uid = 0;
    auto [ptr, ec] = std::from_chars(f[7].data(), f[7].data() + f[7].size(), uid);
    if (ec != std::errc() || ptr != f[7].data() + f[7].size()) return std::nullopt;
    return uid;
  }
  return std::nullopt;
}

}  // namespace onedock::rpc
