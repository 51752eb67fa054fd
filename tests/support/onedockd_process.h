// OnedockdProcess: a real onedockd for one e2e world or one benchmark run, started with a given
// configuration file and stopped (SIGTERM, or SIGKILL for a crash) when asked or when destroyed.
// Its stderr goes to a log file beside the configuration.
#ifndef ONEDOCK_TESTS_SUPPORT_ONEDOCKD_PROCESS_H_
#define ONEDOCK_TESTS_SUPPORT_ONEDOCKD_PROCESS_H_

#include <sys/types.h>

#include <string>

#include "bridge/status.h"

namespace onedock::testing {

class OnedockdProcess {
 public:
  // `config`: the onedockd.conf to run with; `stub_port`: the port its [stub] listen names.
  OnedockdProcess(std::string binary, std::string config, std::string log, int stub_port);
  ~OnedockdProcess();  // Stop()
  OnedockdProcess(const OnedockdProcess&) = delete;
  OnedockdProcess& operator=(const OnedockdProcess&) = delete;

  // Spawns onedockd and waits (5 s at most) until its stub endpoint accepts connections;
  // kUnavailable naming the log when it does not.
  Status Start();
  void Stop();  // SIGTERM, and waits for it to exit
  void Kill();  // SIGKILL, and waits
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // True while the process has not exited (it may have crashed since Start).
  bool Alive() const;
  const std::string& log() const { return log_; }

 private:
  void Signal(int sig);

  const std::string binary_, config_, log_;
  const int stub_port_;
  pid_t pid_ = -1;
};

// True when something accepts TCP connections on 127.0.0.1:`port`.
bool Answers(int port);

// A field of /proc/`pid`/status in kB ("VmHWM": the peak resident set), -1 when absent.
long ProcStatusKb(pid_t pid, const std::string& field);

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_SUPPORT_ONEDOCKD_PROCESS_H_
