#include "monitor/host_monitor.h"

#include <algorithm>
#include <type_traits>

#include "bridge/container_exit.h"
#include "bridge/container_plan.h"
#include "bridge/log.h"

namespace onedock::monitor {
namespace {

// About 350 bytes of template text per running VM (figures and DOCKER_* state), 470 once in
// base64: 80 of them stay well inside a 64 KB datagram. A stopped VM's record, with its log tail,
// takes up to 2 KB; at most 20 of them are sent per round.
constexpr size_t kVmsPerMessage = 80;

// While the event stream tells every change, a state round still lists the host's containers at
// least this often (or every state period, if longer).
constexpr std::chrono::seconds kRelist{30};

int VmIdOf(const std::map<std::string, std::string>& labels) {
  auto it = labels.find(kLabelVmId);
  if (it == labels.end() || it->second.empty() || it->second.size() > 9 ||
      !std::all_of(it->second.begin(), it->second.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  return std::stoi(it->second);
}

std::vector<std::string> OwnLabels(const std::string& instance, const std::string& host) {
  return {std::string(kLabelInstance) + "=" + instance, std::string(kLabelHost) + "=" + host};
}

std::chrono::seconds Seconds(int n) { return std::chrono::seconds(n); }

// What the engine lists without `all`: containers whose process runs, paused and restarting
// ones included.
bool ListedAsRunning(const ContainerSummary& c) {
  return c.state == "running" || c.state == "paused" || c.state == "restarting";
}

}  // namespace

HostMonitor::HostMonitor(HostTarget target, MonitorContext context, MonitorSettings settings,
                         RoundHooks hooks)
    : target_(std::move(target)),
      context_(context),
      settings_(std::move(settings)),
      engine_url_(context_.engines.Describe(target_.name)),
      hooks_(std::move(hooks)),
      stats_in_flight_(settings_.stats_in_flight),
      tracker_(std::max(1, 40 / std::max(1, target_.periods.state_vm)), 3),
      listing_(std::max<Clock::Duration>(kRelist, Seconds(target_.periods.state_vm))) {
  const auto now = context_.clock.Now();
  const Periods& p = target_.periods;
  next_ = {now,
           now,
           now,
           now + Seconds(p.system_host),
           now + Seconds(p.beacon_host),
           now + Seconds(p.sync_state_vm)};
}

bool HostMonitor::Busy(int vm_id) const {
  return context_.activity.Busy(vm_id, Seconds(settings_.grace_seconds));
}

bool HostMonitor::Send(const std::string& type, bool success, const std::string& payload) {
  const MonitordMessage m{type, success, target_.id, context_.clock.UnixSeconds(), payload};
  if (Status s = context_.monitord.Send(target_.monitord, m); !s.ok()) {
    NamedLogger("monitor")->warn("host {}: {}", target_.name, s.message());
    return false;
  }
  return true;
}

HostSnapshot HostMonitor::Snapshot() {
  std::lock_guard lock(mu_);
  HostSnapshot copy = snapshot_;
  copy.host_id = target_.id;
  copy.name = target_.name;
  copy.engine_up = up_;
  copy.stats_in_flight = stats_in_flight_;
  return copy;
}

template <typename F>
void HostMonitor::Timed(HostSnapshot::Round HostSnapshot::*slot, F round) {
  const auto began = context_.clock.Now();
  bool costed = true;
  if constexpr (std::is_same_v<std::invoke_result_t<F>, bool>) {
    costed = round();
  } else {
    round();
  }
  const auto ended = context_.clock.Now();
  std::lock_guard lock(mu_);
  (snapshot_.*slot).ended = ended;
  if (costed) (snapshot_.*slot).took = ended - began;
}

void HostMonitor::CountState(const StateReport& report) {
  if (report.sync) {
    ++snapshot_.state_vm_syncs;
  } else {
    snapshot_.state_vm_changes += report.vms.size();
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
  if (Send("STATE_VM", true, StateVmText(report.vms, report.sync))) {
    std::lock_guard lock(mu_);
    CountState(report);
  }
  auto log = NamedLogger("monitor");
  for (const auto& v : report.vms) {
    log->debug("host {}: vm {} {}{}", target_.name, v.vm_id, v.state, report.sync ? " (sync)" : "");
  }
}

Capacity HostMonitor::Disk(Engine& engine) {
  // The engine runs one disk usage computation at a time and refuses a second one; the figures
  // of the last one that worked stand in (they change slowly).
  auto usage = engine.SystemDiskUsage();
  std::lock_guard lock(mu_);
  if (usage.ok()) {
    disk_ = Capacity{settings_.disk_total_mb, usage->total() / (1024 * 1024), std::nullopt};
  } else {
    NamedLogger("monitor")->warn("host {}: disk usage: {}", target_.name, usage.status().message());
  }
  return disk_;
}

std::vector<VmState> HostMonitor::StatesOf(const std::vector<ContainerSummary>& listed) const {
  std::vector<VmState> seen;
  for (const auto& c : listed) {
    const int vm = VmIdOf(c.labels);
    if (vm >= 0) seen.push_back({vm, c.name, VmStateOf(c.state)});
  }
  return seen;
}

Result<std::string> HostMonitor::FirstReport() {
  const std::string what = "engine of host " + target_.name + " at " + engine_url_;
  // A failed reply puts the host in ERROR; the loop then reports the host again as soon as the
  // engine answers.
  auto failed = [&](const Status& s) {
    std::lock_guard lock(mu_);
    up_ = false;
    down_reported_ = true;
    return s.WithContext(what);
  };
  auto engine = context_.engines.Acquire(target_.name);
  if (!engine.ok()) return failed(engine.status());
  auto info = (*engine)->Info();
  if (!info.ok()) return failed(info.status());
  const Capacity disk = Disk(**engine);
  auto listed = (*engine)->ListContainers(OwnLabels(settings_.instance, target_.name), true);
  if (!listed.ok()) return failed(listed.status());
  const std::vector<VmState> seen = StatesOf(*listed);
  ProbeTexts texts;
  texts.system_host = SystemHostText(*info, disk);
  {
    std::lock_guard lock(mu_);
    info_ = *info;
    up_ = true;
    down_reported_ = false;
    snapshot_.containers = static_cast<int>(listed->size());
    texts.monitor_host = MonitorHostText(info_, figures_);
    // The reply carries the round the loop would otherwise send next.
    const StateReport report = TrackerRound(seen);
    if (!report.empty()) {
      texts.state_vm = StateVmText(report.vms, report.sync);
      CountState(report);
    }
  }
  return MonitorMessagesDocument(texts, context_.clock.UnixSeconds());
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
    const std::string message = "engine of host " + target_.name + " at " + engine_url_ +
                                " does not answer: " + why.message();
    NamedLogger("monitor")->error("{}", message);
    Send("MONITOR_HOST", false, message);
  }
}

bool HostMonitor::SystemRound(Engine& engine) {
  auto info = engine.Info();
  if (!info.ok()) {
    EngineDown(info.status());
    return false;
  }
  const Capacity disk = Disk(engine);
  {
    std::lock_guard lock(mu_);
    info_ = *info;
  }
  Send("SYSTEM_HOST", true, SystemHostText(*info, disk));
  return true;
}

StateFacts HostMonitor::FactsAt(TimePoint now) const {
  StateFacts facts{now, hooks_.events_live ? hooks_.events_live() : 0};
  facts.quiet = context_.activity.AnyBusyOn(target_.name, Seconds(settings_.grace_seconds));
  return facts;
}

StateReport HostMonitor::TrackerRound(const std::vector<VmState>& seen) {
  return tracker_.Round(
      seen, [this](int vm) { return Busy(vm); },
      context_.activity.AnyBusyOn(target_.name, Seconds(settings_.grace_seconds)));
}

bool HostMonitor::StateRound(Engine& engine, TimePoint now, bool asked) {
  StateFacts facts = FactsAt(now);
  facts.asked = asked;
  {
    std::lock_guard lock(mu_);
    facts.events = events_;
    facts.settled = up_ && !exits_left_ && tracker_.Settled();
    if (!listing_.Round(facts)) {
      ++snapshot_.state_rounds_unlisted;
      return false;
    }
    listed_.reset();  // until this listing's reply, which StateListing now judges
  }
  auto listed = engine.ListContainers(OwnLabels(settings_.instance, target_.name), true);
  if (!listed.ok()) {
    EngineDown(listed.status());
    return true;
  }
  bool came_back, was_reported_down;
  {
    std::lock_guard lock(mu_);
    snapshot_.containers = static_cast<int>(listed->size());
    came_back = !up_;
    was_reported_down = down_reported_;
  }
  if (came_back) {
    if (was_reported_down) {
      NamedLogger("monitor")->info("engine of host {} at {} answers again", target_.name,
                                   engine_url_);
    }
    if (!SystemRound(engine)) return true;
    std::lock_guard lock(mu_);
    up_ = true;
    down_reported_ = false;
    tracker_.RequestSync();
  }
  const std::vector<VmState> seen = StatesOf(*listed);
  StateReport report;
  {
    std::lock_guard lock(mu_);
    report = TrackerRound(seen);
  }
  SendState(report);
  ReportExits(engine, *listed);
  std::lock_guard lock(mu_);
  listed_ = std::move(*listed);
  return true;
}

void HostMonitor::ReportExits(Engine& engine, const std::vector<ContainerSummary>& listed) {
  // Bounded per round: after a restart of onedockd every stopped container is due once.
  constexpr size_t kExitsPerRound = 20;
  ExitWatch::Round due;
  {
    std::lock_guard lock(mu_);
    due = exits_.Due(listed, kExitsPerRound);
    exits_left_ = due.more;
  }
  std::vector<VmFigures> records;
  std::vector<std::string> reported;
  for (const auto& id : due.ids) {
    auto info = engine.InspectContainer(id);
    if (!info.ok()) continue;  // removed since the listing, or the next listing tries again
    const int vm = VmIdOf(info->labels);
    if (vm < 0 || info->running) continue;
    auto log = engine.LogTail(id, static_cast<int>(kExitLogLines), info->tty);
    records.push_back(StoppedFigures(vm, info->name, ExitOf(*info, log.ok() ? *log : "")));
    reported.push_back(id);
  }
  if (records.empty()) return;
  SendVmFigures(records);
  std::lock_guard lock(mu_);
  for (const auto& id : reported) exits_.Reported(due, id);
}

Result<std::vector<VmFigures>> HostMonitor::VmRound() {
  // A client of the rounds' own: the connections of a round's stats, a share of the fleet's
  // bound, stay with it for the next round and are not multiplied by the pool's idle clients.
  if (!rounds_engine_) {
    auto own = context_.engines.AcquireOwn(target_.name);
    if (!own.ok()) return own.status();
    rounds_engine_ = std::move(*own);
  }
  Engine& engine = *rounds_engine_;
  std::vector<std::pair<std::string, Running>> items;
  // A listing without `all` holds only running containers; the state round's holds all of them.
  const auto take = [&items](const std::vector<ContainerSummary>& listed) {
    for (const auto& c : listed) {
      const int vm = VmIdOf(c.labels);
      if (vm < 0 || !ListedAsRunning(c)) continue;
      items.push_back({c.id, {vm, c.name, c.state, HealthOfStatus(c.status_text)}});
    }
  };
  bool kept = false;
  {
    StateFacts facts = FactsAt(context_.clock.Now());
    std::lock_guard lock(mu_);
    facts.events = events_;
    if (listed_ && listing_.Shows(facts)) {
      take(*listed_);
      kept = true;
    }
  }
  if (!kept) {
    auto listed = engine.ListContainers(OwnLabels(settings_.instance, target_.name), false);
    if (!listed.ok()) return listed.status();
    take(*listed);
  }
  // All asked together from this thread, over connections the engine keeps between rounds.
  std::vector<std::string> ids;
  ids.reserve(items.size());
  for (const auto& item : items) ids.push_back(item.first);
  const std::vector<Result<StatsSample>> samples =
      engine.StatsOfMany(ids, static_cast<size_t>(std::max(1, stats_in_flight_.load())));
  std::vector<VmFigures> figures;
  size_t failed = 0;
  Status last_error;
  std::unique_lock lock(mu_);
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
    figures.back().docker_state = vm.state;
    figures.back().health = vm.health;
  }
  if (failed > 0 && failed == items.size()) return last_error;
  previous_ = std::move(previous);  // containers gone since the last round drop out
  figures_ = figures;
  lock.unlock();
  if (failed > 0) {  // those VMs go without figures this round
    NamedLogger("monitor")->warn("host {}: stats of {} of {} containers failed, the last: {}",
                                 target_.name, failed, items.size(), last_error.message());
  }
  return figures;
}

HostMonitor::TimePoint HostMonitor::Tick() {
  const auto now = context_.clock.Now();
  const Periods& p = target_.periods;
  bool wanted;
  {
    std::lock_guard lock(mu_);
    wanted = state_round_wanted_;
    state_round_wanted_ = false;
    if (now >= next_.sync) {
      tracker_.RequestSync();
      next_.sync = now + Seconds(p.sync_state_vm);
    }
  }
  auto engine = context_.engines.Acquire(target_.name);
  if (wanted || now >= next_.state) {
    if (now >= next_.state) next_.state = now + Seconds(p.state_vm);
    Timed(&HostSnapshot::state, [&] {
      if (engine.ok()) return StateRound(**engine, now, wanted);
      EngineDown(engine.status());
      return true;
    });
  }
  bool up;
  TimePoint held;
  {
    std::lock_guard lock(mu_);
    held = vm_round_begun_ ? TimePoint{} : held_until_;
    up = up_ && engine.ok();
    if (!up) {
      // Nothing else to ask an engine that does not answer: the state rounds watch for its
      // return, and every beacon period the failure is sent again so the host stays in ERROR.
      if (now >= next_.beacon) {
        down_reported_ = false;
        next_.beacon = now + Seconds(p.beacon_host);
      }
      next_.vm = std::max(next_.vm, next_.state);
      next_.host = std::max(next_.host, next_.state);
      next_.system = std::max(next_.system, next_.state);
    }
  }
  if (up) UpRounds(**engine, now, held);
  // `held` is past once the first VM round ran (and zero from the next Tick on).
  return std::min({next_.state, std::max(next_.vm, held), std::max(next_.host, held), next_.system,
                   next_.beacon, next_.sync});
}

void HostMonitor::HoldFirstVmRound(TimePoint until) {
  std::lock_guard lock(mu_);
  if (!vm_round_begun_) held_until_ = until;
}

void HostMonitor::UpRounds(Engine& engine, TimePoint now, TimePoint held) {
  const Periods& p = target_.periods;
  if (now >= next_.system) {
    next_.system = now + Seconds(p.system_host);
    bool answered = false;
    Timed(&HostSnapshot::system, [&] { answered = SystemRound(engine); });
    if (!answered) return;
  }
  // The first VM round, and MONITOR_HOST with its figures, wait for the hold.
  if (now >= held && now >= next_.vm) {
    {
      std::lock_guard lock(mu_);
      vm_round_begun_ = true;
    }
    next_.vm = now + Seconds(p.monitor_vm);
    Timed(&HostSnapshot::vm, [&] {
      auto figures = VmRound();
      if (!figures.ok()) {
        NamedLogger("monitor")->warn("host {}: VM figures: {}", target_.name,
                                     figures.status().message());
      } else {
        SendVmFigures(*figures);
      }
    });
  }
  if (now >= held && now >= next_.host) {
    next_.host = now + Seconds(p.monitor_host);
    std::string text;
    {
      std::lock_guard lock(mu_);  // up_: info_ is the engine's, from FirstReport or a SystemRound
      text = MonitorHostText(info_, figures_);
    }
    Send("MONITOR_HOST", true, text);
  }
  if (now >= next_.beacon) {
    next_.beacon = now + Seconds(p.beacon_host);
    Send("BEACON_HOST", true, std::to_string(context_.clock.UnixSeconds()));
  }
}

EventFilter HostMonitor::Events() const {
  return {.types = {"container"}, .labels = OwnLabels(settings_.instance, target_.name)};
}

void HostMonitor::OnEvent(const Event& e) {
  if (ChangesListing(e.action)) {
    std::lock_guard lock(mu_);
    ++events_;
  }
  const auto& labels = e.attributes;
  const int vm = VmIdOf(labels);
  if (vm < 0) return;
  const std::string state = VmStateOfEvent(e.action);
  if (e.action == "start" || e.action == "restart") {
    std::lock_guard lock(mu_);
    exits_.Started(e.id);
  }
  if (e.action == "die") {  // the next state round says why
    {
      std::lock_guard lock(mu_);
      exits_.Died(e.id);
      state_round_wanted_ = true;
    }
    if (hooks_.want_round) hooks_.want_round();
  }
  if (state.empty()) {
    // A container that went, came or was renamed is judged from a listing (a missing VM by the
    // rounds). onedock's own creates and renames need none: the listing after its action comes.
    const bool made = e.action == "create" || e.action == "rename";
    if (e.action == "destroy" || (made && !Busy(vm))) {
      {
        std::lock_guard lock(mu_);
        state_round_wanted_ = true;
      }
      if (hooks_.want_round) hooks_.want_round();
    }
    return;
  }
  auto name = labels.find("name");
  StateReport report;
  {
    std::lock_guard lock(mu_);
    report = tracker_.Event({vm, name == labels.end() ? "" : name->second, state}, Busy(vm));
  }
  SendState(report);
}

}  // namespace onedock::monitor
