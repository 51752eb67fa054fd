// PrometheusProcess: Debian's real Prometheus server (/usr/bin/prometheus) for one test, scraping
// the given targets' /metrics every second, with its configuration, storage and log in a
// directory of its own; Query() asks its HTTP API (/api/v1/query). Stopped (SIGTERM) and its
// directory removed when destroyed.
#ifndef ONEDOCK_TESTS_SUPPORT_PROMETHEUS_PROCESS_H_
#define ONEDOCK_TESTS_SUPPORT_PROMETHEUS_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bridge/status.h"

namespace onedock::testing {

class PrometheusProcess {
 public:
  // One instant-vector sample of a query's answer.
  struct Sample {
    std::map<std::string, std::string> labels;  // __name__ included
    double value = 0;
  };

  // `targets`: "127.0.0.1:PORT" of each endpoint to scrape (job "onedock").
  explicit PrometheusProcess(std::vector<std::string> targets);
  ~PrometheusProcess();
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  // Writes the configuration, spawns the server on a free loopback port and waits (30 s at most)
  // until /-/ready answers 200; kUnavailable naming the log when it does not.
  Status Start();

  // The samples of PromQL `expr` now; kUnavailable when the server does not answer, kInternal when
  // its answer is not a successful vector.
  Result<std::vector<Sample>> Query(const std::string& expr) const;

  // Queries every 250 ms until `done` holds for the answer or `limit` passes; returns the last
  // answer either way (the caller checks it).
  Result<std::vector<Sample>> QueryUntil(
      const std::string& expr, const std::function<bool(const std::vector<Sample>&)>& done,
      std::chrono::seconds limit) const;

  int port() const { return port_; }
  const std::string& log() const { return log_; }

 private:
  // The body of GET `path` on the server, or why not.
  Result<std::string> Get(const std::string& path, long* http_code) const;

  const std::vector<std::string> targets_;
  std::string dir_, log_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_SUPPORT_PROMETHEUS_PROCESS_H_
