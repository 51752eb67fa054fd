// Sends monitord messages (reference §4.5) to monitord's address: STATE_VM over TCP (one
// connection per message, as the stock client does), the others as UDP datagrams. Thread-safe.
#ifndef ONEDOCK_MONITOR_MONITORD_SENDER_H_
#define ONEDOCK_MONITOR_MONITORD_SENDER_H_

#include <string>

#include "bridge/status.h"
#include "rpc/monitord_message.h"

namespace onedock::monitor {

struct MonitordAddress {
  std::string ip = "127.0.0.1";  // IPv4 or IPv6 literal
  int port = 4124;
  std::string ToString() const { return ip + ":" + std::to_string(port); }
};

// kInvalidArgument for an address that is not an IP literal, kUnavailable when the message could
// not be delivered (TCP) or sent (UDP); kInvalidArgument also for a datagram over 64 KB.
Status SendToMonitord(const MonitordAddress& to, const rpc::MonitordMessage& message);

}  // namespace onedock::monitor

#endif  // ONEDOCK_MONITOR_MONITORD_SENDER_H_
