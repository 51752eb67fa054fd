#include "bridge/daemon/metrics_endpoint.h"

#include <stdexcept>

namespace onedock::daemon {

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Listen(const std::string& address,
                                                                 int port) {
  const std::string where = address + ":" + std::to_string(port);
  // civetweb reports a port it cannot bind by throwing CivetException, a std::runtime_error; it is
  // turned into a status here, once.
  try {
    auto exposer = std::make_unique<prometheus::Exposer>(where, 2);
    return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint(std::move(exposer)));
  } catch (const std::runtime_error& e) {
    return Unavailable("[metrics] listen " + where + ": cannot listen: " + e.what());
  }
}

void MetricsEndpoint::Serve(const std::weak_ptr<prometheus::Collectable>& collectable) {
  exposer_->RegisterCollectable(collectable);
}

int MetricsEndpoint::port() const {
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? -1 : ports.front();
}

}  // namespace onedock::daemon
