// What onedockd and OpenNebula's monitord say to each other, as bridge's types: where monitord
// listens and how often oned wants each probe (the <MONITOR_CONFIGURATION> of START_MONITOR), the
// messages pushed to it (reference §4.5), and the sink they go through. rpc/ parses the
// configuration and puts messages on the wire; monitor/ decides what to send.
#ifndef ONEDOCK_BRIDGE_MONITORD_H_
#define ONEDOCK_BRIDGE_MONITORD_H_

#include <cstdint>
#include <string>

#include "bridge/status.h"

namespace onedock {

struct MonitordAddress {
  std::string ip = "127.0.0.1";  // IPv4 or IPv6 literal
  int port = 4124;
  std::string ToString() const { return ip + ":" + std::to_string(port); }
};

// PROBES_PERIOD of monitord.conf, in seconds (defaults as shipped by OpenNebula 7.4).
struct Periods {
  int beacon_host = 30;
  int system_host = 600;
  int monitor_host = 120;
  int monitor_vm = 30;
  int state_vm = 5;
  int sync_state_vm = 180;
};

struct MonitorConfiguration {
  MonitordAddress monitord;
  Periods periods;
};

struct MonitordMessage {
  std::string type;  // MONITOR_VM, BEACON_HOST, MONITOR_HOST, SYSTEM_HOST, STATE_VM, EXEC_VM
  bool success = true;
  int host_id = -1;
  int64_t timestamp = 0;
  std::string payload;  // plain template text (on FAILURE: the error text)
};

// Delivers monitord messages. Thread-safe.
class MonitordSink {
 public:
  virtual ~MonitordSink() = default;
  // kInvalidArgument for an address that is not an IP literal or a message too large to send,
  // kUnavailable when it could not be delivered.
  virtual Status Send(const MonitordAddress& to, const MonitordMessage& message) = 0;
};

// The hosts oned asked onedockd to monitor (the IM driver's START_MONITOR and STOP_MONITOR).
class HostMonitoring {
 public:
  virtual ~HostMonitoring() = default;
  // Starts (or keeps) monitoring host `host_id` named `name` with oned's <MONITOR_CONFIGURATION>
  // text; returns the <MONITOR_MESSAGES> document of the first report.
  virtual Result<std::string> StartMonitoring(int host_id, const std::string& name,
                                              const std::string& configuration) = 0;
  virtual Status StopMonitoring(int host_id, const std::string& name) = 0;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_MONITORD_H_
