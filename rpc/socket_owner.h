// Who owns the other end of a loopback TCP connection, read from the kernel's socket table
// (/proc/net/tcp). onedock-stub uses it before it sends the token: a local user who holds the
// stub port while onedockd is down must not collect it.
#ifndef ONEDOCK_RPC_SOCKET_OWNER_H_
#define ONEDOCK_RPC_SOCKET_OWNER_H_

#include <optional>
#include <string>
#include <string_view>

namespace onedock::rpc {

struct TcpEnd {
  std::string ipv4;  // dotted quad
  int port = 0;
};

// The uid of the IPv4 socket whose local end is `local` and whose remote end is `remote`, in the
// text of /proc/net/tcp; nullopt when no line matches (or the text is not that table).
std::optional<unsigned> TcpSocketUid(std::string_view proc_net_tcp, const TcpEnd& local,
                                     const TcpEnd& remote);

}  // namespace onedock::rpc

#endif  // ONEDOCK_RPC_SOCKET_OWNER_H_
