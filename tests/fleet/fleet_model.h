// FleetModel: the state the fake fleet plays (N hosts of M containers each, their counters and
// their recent events) and the Engine API replies rendered from it, shaped like those of the
// test bed's dockerd 20.10 (API 1.41). Pure: no I/O, no clock of its own (times are passed in).
// Not thread-safe; the fake's one thread owns it.
#ifndef ONEDOCK_TESTS_FLEET_FLEET_MODEL_H_
#define ONEDOCK_TESTS_FLEET_FLEET_MODEL_H_

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace onedock::fleet {

struct Container {
  int host = 0;
  int vm_id = 0;
  std::string id;    // 64 hex digits
  std::string name;  // "one-<vmid>", without the engine's leading '/'
  std::string ip;
  bool running = true;
  int exit_code = 0;
  int64_t created_s = 0;
  int64_t started_ns = 0;
  int64_t finished_ns = 0;  // 0 while it never stopped
  // Counters, advanced by each tick while running.
  uint64_t cpu_ns = 0;
  uint64_t memory = 0;
  uint64_t rx = 0, tx = 0, read = 0, written = 0;
};

struct FleetEvent {
  int64_t time_ns = 0;
  const Container* container = nullptr;
  std::string action;  // "kill", "die", "start"
  int signal = 0;      // kill
};

// What a /containers/json or /events query asks for, from its filters JSON.
struct Filters {
  std::vector<std::string> labels;  // "key" or "key=value"
  std::vector<std::string> types;   // events: "container", …
  std::vector<std::string> events;  // events: "die", …
  bool bad = false;                 // not a filters object: answered 400
};

// Parses a filters query value (already URL-decoded), in both the list form ({"label":["a=b"]})
// and the old map form ({"label":{"a=b":true}}).
Filters ParseFilters(std::string_view json);

class FleetModel {
 public:
  // `hosts` hosts named "fleet<i>", each holding `containers` running containers labelled
  // one.host=fleet<i>, one.instance=`instance`, one.vmid=<i*containers+j>; created at `now_ns`.
  FleetModel(int hosts, int containers, std::string instance, int64_t now_ns);

  int hosts() const { return static_cast<int>(hosts_.size()); }
  static std::string HostName(int host) { return "fleet" + std::to_string(host); }

  // A container of `host` by full id, unique id prefix (12 digits at least) or name ("/" allowed);
  // nullptr when none. `host` < 0 looks across the fleet (the kill control).
  Container* Find(int host, std::string_view id_or_name);

  // One collector tick: counters of running containers advance by one second's worth.
  void Tick(int64_t now_ns);

  // Makes `c` exited (137) and records its kill and die events; false when it was not running.
  bool Kill(Container& c, int64_t now_ns);
  // Makes `c` running again and records a start event; false when it was running.
  bool Start(Container& c, int64_t now_ns);

  // Events of `host` at or after `since_ns`, oldest first (the last kEventsKept are kept).
  std::vector<FleetEvent> EventsSince(int host, int64_t since_ns) const;
  // The events that Kill or Start recorded since the last call, for the open streams.
  std::vector<FleetEvent> TakeNewEvents();

  // --- replies, JSON bodies ---
  std::string Version() const;
  std::string Info(int host, int64_t now_ns) const;
  std::string DiskUsage(int host) const;
  std::string List(int host, bool all, const Filters& filters, int64_t now_ns) const;
  std::string Inspect(const Container& c) const;
  std::string Stats(const Container& c, int64_t now_ns) const;
  // One event line (no newline); empty when `filters` leave it out.
  std::string EventLine(const FleetEvent& e, const Filters& filters) const;

  static constexpr size_t kEventsKept = 4096;

 private:
  struct Host {
    std::vector<Container> containers;
    std::unordered_map<std::string, Container*> by_key;  // id, 12-digit id and name
    std::deque<FleetEvent> events;
  };

  bool Matches(const Container& c, const std::vector<std::string>& labels) const;
  void Record(Container& c, std::string action, int signal, int64_t now_ns);
  void AppendLabels(std::string& out, const Container& c) const;

  std::vector<Host> hosts_;
  std::string instance_;
  int64_t ticks_ = 0;
  std::vector<FleetEvent> new_events_;
};

// JSON string escaping of `text` (quotes not added).
std::string JsonEscape(std::string_view text);
// RFC 3339 with nanoseconds, UTC: "2026-12-03T13:58:30.993118807Z"; "0001-01-01T00:00:00Z" for 0.
std::string Rfc3339(int64_t time_ns);

}  // namespace onedock::fleet

#endif  // ONEDOCK_TESTS_FLEET_FLEET_MODEL_H_
