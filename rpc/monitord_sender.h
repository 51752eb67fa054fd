// MonitordSender: delivers monitord messages (reference §4.5) to monitord's address: STATE_VM over
// TCP (one connection per message, as the stock client does), the others as UDP datagrams.
// Thread-safe.
#ifndef ONEDOCK_RPC_MONITORD_SENDER_H_
#define ONEDOCK_RPC_MONITORD_SENDER_H_

#include <string>

#include "bridge/monitord.h"
#include "bridge/status.h"
#include "rpc/monitord_message.h"

namespace onedock::rpc {

class MonitordSender : public MonitordSink {
 public:
  // kInvalidArgument for an address that is not an IP literal or a datagram over 64 KB,
  // kUnavailable when the message could not be delivered (TCP) or sent (UDP).
  Status Send(const MonitordAddress& to, const MonitordMessage& message) override;
};

}  // namespace onedock::rpc

#endif  // ONEDOCK_RPC_MONITORD_SENDER_H_
