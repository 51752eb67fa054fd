#include "monitor/host_monitor.h"

#include <algorithm>
#include <ctime>

#include "bridge/container_plan.h"
#include "bridge/log.h"

namespace onedock::monitor {
namespace {

using Clock = std::chrono::steady_clock;

// About 250 bytes of template text per VM before compression.
constexpr size_t kVmsPerMessage = 100;

int VmIdOf(const std::map<std::string, std::string>& labels) {
  auto it = labels.find(bridge::kLabelVmId);
  if (it == labels.end() || it->second.empty() || it->second.size() > 9 ||
      !std::all_of(it->second.begin(), it->second.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  return std::stoi(it->second);
}

std::vector<std::string> OwnLabels(const std::string& instance, const std::string& host) {
  return {std::string(bridge::kLabelInstance) + "=" + instance, std::string(bridge::kLabelHost) + "=" + host};
}

// The VM state an engine event announces; "" for events that say nothing about it.
std::string StateOfEvent(const std::string& action) {
  if (action == "start" || action == "unpause" || action == "restart") return "RUNNING";
  if (action == "die") return "POWEROFF";
  if (action == "pause") return "SUSPENDED";
  return "";
}

}  // namespace

HostMonitor::HostMonitor(HostTarget target, docker::Endpoint endpoint, std::string engine_url,
                         const bridge::VmActivity& activity, MonitorSettings settings)
    : target_(std::move(target)),
      endpoint_(std::move(endpoint)),
      engine_url_(std::move(engine_url)),
      activity_(activity),
      settings_(std::move(settings)),
      client_(std::make_unique<docker::EngineClient>(target_.name, endpoint_)),
      tracker_(std::max(1, 40 / std::max(1, target_.periods.state_vm)), 3) {
  for (int i = 0; i < std::max(1, settings_.stats_workers); ++i) {
    stats_clients_.push_back(std::make_unique<docker::EngineClient>(target_.name, endpoint_));
  }
}

HostMonitor::~HostMonitor() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (loop_.joinable()) loop_.join();
  if (events_.joinable()) events_.join();
}

void HostMonitor::Start() {
  if (loop_.joinable()) return;
  loop_ = std::thread([this] { Loop(); });
  events_ = std::thread([this] { FollowEvents(); });
}

bool HostMonitor::Quiet(int vm_id) const {
  return activity_.Quiet(vm_id, std::chrono::seconds(settings_.grace_seconds));
}

void HostMonitor::Send(const std::string& type, bool success, const std::string& payload) {
  rpc::MonitordMessage m{type, success, target_.id, static_cast<int64_t>(std::time(nullptr)), payload};
  if (Status s = SendToMonitord(target_.monitord, m); !s.ok()) {
    NamedLogger("monitor")->warn("host {}: {}", target_.name, s.message());
  }
}

void HostMonitor::SendVmFigures(const std::vector<VmFigures>& figures) {
  // A datagram holds at most 64 KB: VMs go in groups, which monitord merges per VM.
  for (size_t i = 0; i < figures.size(); i += kVmsPerMessage) {
    const auto last = std::min(figures.size(), i + kVmsPerMessage);
    Send("MONITOR_VM", true, MonitorVmText({figures.begin() + i, figures.begin() + last}));
  }
}

void HostMonitor::SendState(const StateReport& report) {
  if (report.empty()) return;
  Send("STATE_VM", true, StateVmText(report.vms, report.sync));
  auto log = NamedLogger("monitor");
  for (const auto& v : report.vms) log->debug("host {}: vm {} {}{}", target_.name, v.vm_id, v.state, report.sync ? " (sync)" : "");
}

DiskFigures HostMonitor::Disk(docker::EngineClient& engine) {
  // The engine runs one disk usage computation at a time and refuses a second one; the figures
  // of the last one that worked stand in (they change slowly).
  auto usage = engine.SystemDiskUsage();
  std::lock_guard lock(mu_);
  if (usage.ok()) {
    disk_ = DiskFigures{settings_.disk_total_mb, usage->total() / (1024 * 1024)};
  } else {
    NamedLogger("monitor")->warn("host {}: disk usage: {}", target_.name, usage.status().message());
  }
  return disk_;
}

Result<std::string> HostMonitor::FirstReport() {
  const std::string what = "engine of host " + target_.name + " at " + engine_url_;
  docker::EngineClient engine(target_.name, endpoint_);
  // A failed reply puts the host in ERROR; the loop then reports the host again as soon as the
  // engine answers.
  auto failed = [&](const Status& s) {
    std::lock_guard lock(mu_);
    up_ = false;
    down_reported_ = true;
    return s.WithContext(what);
  };
  auto info = engine.Info();
  if (!info.ok()) return failed(info.status());
  const DiskFigures disk = Disk(engine);
  auto listed = engine.ListContainers(OwnLabels(settings_.instance, target_.name), true);
  if (!listed.ok()) return failed(listed.status());
  std::vector<VmState> seen;
  for (const auto& c : *listed) {
    const int vm = VmIdOf(c.labels);
    if (vm >= 0) seen.push_back({vm, c.name, VmStateOf(c.state)});
  }
  ProbeTexts texts;
  texts.system_host = SystemHostText(*info, disk);
  {
    std::lock_guard lock(mu_);
    info_ = *info;
    up_ = true;
    down_reported_ = false;
    texts.monitor_host = MonitorHostText(info_, figures_);
    // The reply carries the round the loop would otherwise send next.
    const StateReport report = TrackerRound(seen);
    if (!report.empty()) texts.state_vm = StateVmText(report.vms, report.sync);
  }
  return MonitorMessagesDocument(texts, std::time(nullptr));
}

bool HostMonitor::WaitUntil(Clock::time_point t) {
  std::unique_lock lock(mu_);
  wake_.wait_until(lock, t, [&] { return stopping_ || state_round_wanted_; });
  return !stopping_;
}

void HostMonitor::EngineDown(const Status& why) {
  bool report;
  {
    std::lock_guard lock(mu_);
    report = up_ || !down_reported_;
    up_ = false;
    down_reported_ = true;
  }
  if (report) {
    const std::string message = "engine of host " + target_.name + " at " + engine_url_ + " does not answer: " + why.message();
    NamedLogger("monitor")->error("{}", message);
    Send("MONITOR_HOST", false, message);
  }
}

bool HostMonitor::SystemRound() {
  auto info = client_->Info();
  if (!info.ok()) {
    EngineDown(info.status());
    return false;
  }
  const DiskFigures disk = Disk(*client_);
  {
    std::lock_guard lock(mu_);
    info_ = *info;
  }
  Send("SYSTEM_HOST", true, SystemHostText(*info, disk));
  return true;
}

StateReport HostMonitor::TrackerRound(const std::vector<VmState>& seen) {
  return tracker_.Round(seen, [this](int vm) { return Quiet(vm); },
                        activity_.AnyQuietOn(target_.name, std::chrono::seconds(settings_.grace_seconds)));
}

void HostMonitor::StateRound() {
  auto listed = client_->ListContainers(OwnLabels(settings_.instance, target_.name), true);
  if (!listed.ok()) {
    EngineDown(listed.status());
    return;
  }
  bool came_back, was_reported_down;
  {
    std::lock_guard lock(mu_);
    came_back = !up_;
    was_reported_down = down_reported_;
  }
  if (came_back) {
    if (was_reported_down) NamedLogger("monitor")->info("engine of host {} at {} answers again", target_.name, engine_url_);
    if (!SystemRound()) return;
    std::lock_guard lock(mu_);
    up_ = true;
    down_reported_ = false;
    tracker_.RequestSync();
  }
  std::vector<VmState> seen;
  for (const auto& c : *listed) {
    const int vm = VmIdOf(c.labels);
    if (vm >= 0) seen.push_back({vm, c.name, VmStateOf(c.state)});
  }
  StateReport report;
  {
    std::lock_guard lock(mu_);
    report = TrackerRound(seen);
  }
  SendState(report);
}

Result<std::vector<VmFigures>> HostMonitor::VmRound() {
  std::vector<std::pair<std::string, Running>> items;
  auto listed = stats_clients_[0]->ListContainers(OwnLabels(settings_.instance, target_.name), false);
  if (!listed.ok()) return listed.status();
  for (const auto& c : *listed) {
    const int vm = VmIdOf(c.labels);
    if (vm >= 0) items.push_back({c.id, {vm, c.name}});
  }
  std::vector<Result<StatsSample>> samples(items.size(), Result<StatsSample>(Unavailable("not fetched")));
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  const size_t n = std::min(items.size(), stats_clients_.size());
  for (size_t w = 0; w < n; ++w) {
    workers.emplace_back([&, w] {
      for (size_t i; (i = next++) < items.size();) samples[i] = stats_clients_[w]->Stats(items[i].first);
    });
  }
  for (auto& t : workers) t.join();
  std::vector<VmFigures> figures;
  size_t failed = 0;
  Status last_error;
  std::lock_guard lock(mu_);
  std::map<std::string, StatsSample> previous;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!samples[i].ok()) {
      // A container removed between the listing and its stats is not an error of the host.
      if (samples[i].status().code() != Status::Code::kNotFound) {
        ++failed;
        last_error = samples[i].status();
      }
      continue;
    }
    const auto& [id, vm] = items[i];
    std::optional<double> cpu;
    if (auto p = previous_.find(id); p != previous_.end()) cpu = CpuPercent(p->second, *samples[i]);
    previous[id] = *samples[i];
    figures.push_back(FiguresOf(vm.vm_id, vm.name, *samples[i], cpu));
  }
  if (failed > 0 && failed == items.size()) return last_error;
  previous_ = std::move(previous);  // containers gone since the last round drop out
  figures_ = figures;
  return figures;
}

void HostMonitor::Loop() {
  auto log = NamedLogger("monitor");
  const auto& p = target_.periods;
  auto now = Clock::now();
  auto next_state = now, next_vm = now, next_host = now;
  auto next_system = now + std::chrono::seconds(p.system_host);
  auto next_beacon = now + std::chrono::seconds(p.beacon_host);
  auto next_sync = now + std::chrono::seconds(p.sync_state_vm);
  for (;;) {
    const auto due = std::min({next_state, next_vm, next_host, next_system, next_beacon, next_sync});
    if (!WaitUntil(due)) return;
    now = Clock::now();
    bool wanted;
    {
      std::lock_guard lock(mu_);
      wanted = state_round_wanted_;
      state_round_wanted_ = false;
      if (now >= next_sync) {
        tracker_.RequestSync();
        next_sync = now + std::chrono::seconds(p.sync_state_vm);
      }
    }
    if (wanted || now >= next_state) {
      if (now >= next_state) next_state = now + std::chrono::seconds(p.state_vm);
      StateRound();
    }
    {
      std::lock_guard lock(mu_);
      if (!up_) {
        // Nothing else to ask an engine that does not answer: the state rounds watch for its
        // return, and every beacon period the failure is sent again so the host stays in ERROR.
        if (now >= next_beacon) {
          down_reported_ = false;
          next_beacon = now + std::chrono::seconds(p.beacon_host);
        }
        next_vm = std::max(next_vm, next_state);
        next_host = std::max(next_host, next_state);
        next_system = std::max(next_system, next_state);
        continue;
      }
    }
    if (now >= next_system) {
      next_system = now + std::chrono::seconds(p.system_host);
      if (!SystemRound()) continue;
    }
    if (now >= next_vm) {
      next_vm = now + std::chrono::seconds(p.monitor_vm);
      auto figures = VmRound();
      if (!figures.ok()) {
        log->warn("host {}: VM figures: {}", target_.name, figures.status().message());
      } else {
        SendVmFigures(*figures);
      }
    }
    if (now >= next_host) {
      next_host = now + std::chrono::seconds(p.monitor_host);
      std::string text;
      {
        std::lock_guard lock(mu_);  // up_: info_ is the engine's, from FirstReport or a SystemRound
        text = MonitorHostText(info_, figures_);
      }
      Send("MONITOR_HOST", true, text);
    }
    if (now >= next_beacon) {
      next_beacon = now + std::chrono::seconds(p.beacon_host);
      Send("BEACON_HOST", true, std::to_string(std::time(nullptr)));
    }
  }
}

void HostMonitor::FollowEvents() {
  auto log = NamedLogger("monitor");
  docker::EngineClient events(target_.name, endpoint_);
  int64_t since = 0;  // after a broken stream: replay from the last event seen
  const bridge::VmActivity::Clock::duration grace = std::chrono::seconds(settings_.grace_seconds);
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    Status s = events.StreamEvents(
        {.since = since, .types = {"container"}, .labels = OwnLabels(settings_.instance, target_.name)},
        [&](const Event& e) {
          since = std::max<int64_t>(since, e.time_nano / 1000000000);
          const auto labels = e.attributes;
          const int vm = VmIdOf(labels);
          if (vm < 0) return true;
          const std::string state = StateOfEvent(e.action);
          if (state.empty()) {
            if (e.action == "destroy") {  // a missing VM is judged by the rounds
              std::lock_guard lock(mu_);
              state_round_wanted_ = true;
              wake_.notify_all();
            }
            return true;
          }
          auto name = labels.find("name");
          StateReport report;
          {
            std::lock_guard lock(mu_);
            report = tracker_.Event({vm, name == labels.end() ? "" : name->second, state}, activity_.Quiet(vm, grace));
          }
          SendState(report);
          return true;
        },
        [this] {
          std::lock_guard lock(mu_);
          return !stopping_;
        });
    std::unique_lock lock(mu_);
    if (stopping_) return;
    if (!s.ok()) log->debug("host {}: event stream: {}", target_.name, s.message());
    wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
  }
}

}  // namespace onedock::monitor
