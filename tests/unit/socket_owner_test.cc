#include "rpc/socket_owner.h"

#include <doctest/doctest.h>

namespace onedock::rpc {
namespace {

// /proc/net/tcp as the kernel prints it: a listener on 127.0.0.1:2640 (uid 1001), the server's
// end of a connection from port 40000 (uid 1001), the client's end (uid 0), and one on 127.0.0.2.
constexpr char kTable[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 0100007F:0A50 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 "
    "111 1 0000000000000000 100 0 0 10 0\n"
    "   1: 0100007F:0A50 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1001        0 "
    "112 1 0000000000000000 20 4 30 10 -1\n"
    "   2: 0100007F:9C40 0100007F:0A50 01 00000000:00000000 00:00000000 00000000     0        0 "
    "113 1 0000000000000000 20 4 30 10 -1\n"
    "   3: 0200007F:0A50 0100007F:9C41 01 00000000:00000000 00:00000000 00000000    77        0 "
    "114 1 0000000000000000 20 4 30 10 -1\n";

TEST_CASE("the owner of each end of a loopback connection is read from the socket table") {
  CHECK(TcpSocketUid(kTable, {"127.0.0.1", 2640}, {"127.0.0.1", 40000}) == 1001u);
  CHECK(TcpSocketUid(kTable, {"127.0.0.1", 40000}, {"127.0.0.1", 2640}) == 0u);
  CHECK(TcpSocketUid(kTable, {"127.0.0.2", 2640}, {"127.0.0.1", 40001}) == 77u);
  CHECK(TcpSocketUid(kTable, {"127.0.0.1", 2640}, {"0.0.0.0", 0}) == std::nullopt);  // port 0
  CHECK(TcpSocketUid(kTable, {"127.0.0.1", 2640}, {"127.0.0.1", 40002}) == std::nullopt);
  CHECK(TcpSocketUid(kTable, {"::1", 2640}, {"127.0.0.1", 40000}) == std::nullopt);
  CHECK(TcpSocketUid("garbage\n\n   0: x y\n", {"127.0.0.1", 2640}, {"127.0.0.1", 40000}) ==
        std::nullopt);
  CHECK(TcpSocketUid("", {"127.0.0.1", 2640}, {"127.0.0.1", 40000}) == std::nullopt);
}

}  // namespace
}  // namespace onedock::rpc
