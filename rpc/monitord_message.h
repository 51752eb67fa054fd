// The monitord wire format (reference §4.5): one message per UDP datagram or TCP connection,
//   <TYPE> <SUCCESS|FAILURE> <HOST_ID> <EPOCH_TS> <base64(zlib(payload))>
// Encoder for onedockd's pushes and decoder for the emulator's listener. Pure functions.
#ifndef ONEDOCK_RPC_MONITORD_MESSAGE_H_
#define ONEDOCK_RPC_MONITORD_MESSAGE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "bridge/monitord.h"
#include "bridge/status.h"

namespace onedock::rpc {

// The payload is deflated with a zlib header (RFC 1950) and base64-encoded without line breaks.
std::string EncodeMonitordMessage(const MonitordMessage& message);

// Refuses with kInvalidArgument: an unknown type, a status other than SUCCESS/FAILURE, a
// non-numeric host id or timestamp, bad base64, a payload that does not inflate, or one that
// inflates past kMaxMonitordPayload.
Result<MonitordMessage> DecodeMonitordMessage(std::string_view wire);

inline constexpr size_t kMaxMonitordPayload = 16u << 20;

}  // namespace onedock::rpc

#endif  // ONEDOCK_RPC_MONITORD_MESSAGE_H_
