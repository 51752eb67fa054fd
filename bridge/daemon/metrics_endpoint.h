// MetricsEndpoint: serves GET /metrics in Prometheus' text format at [metrics] listen, with
// prometheus-cpp's Exposer (civetweb); what the registered collectables hold is read at each
// scrape, on the endpoint's own two threads. Thread-safe.
#ifndef ONEDOCK_BRIDGE_DAEMON_METRICS_ENDPOINT_H_
#define ONEDOCK_BRIDGE_DAEMON_METRICS_ENDPOINT_H_

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>

#include <memory>
#include <string>

#include "bridge/status.h"

namespace onedock::daemon {

class MetricsEndpoint {
 public:
  // Listens on address:port (port 0: any free port). kUnavailable naming the address when it
  // cannot be bound.
  static Result<std::unique_ptr<MetricsEndpoint>> Listen(const std::string& address, int port);

  // Serves what `collectable` holds for as long as it lives.
  void Serve(const std::weak_ptr<prometheus::Collectable>& collectable);

  int port() const;

 private:
  explicit MetricsEndpoint(std::unique_ptr<prometheus::Exposer> exposer)
      : exposer_(std::move(exposer)) {}

  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace onedock::daemon

#endif  // ONEDOCK_BRIDGE_DAEMON_METRICS_ENDPOINT_H_
