// Named spdlog loggers for onedock's components ("stubs", "actions", "journal", …). main calls
// ConfigureLogging once before any component logs; NamedLogger is thread-safe afterwards.
#ifndef ONEDOCK_BRIDGE_LOG_H_
#define ONEDOCK_BRIDGE_LOG_H_

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "bridge/status.h"

namespace onedock {

// level: trace, debug, info, warn, error; file empty = stderr. kInvalidArgument for an unknown
// level or a file that cannot be opened.
Status ConfigureLogging(const std::string& level, const std::string& file);

// The logger of `component`, created on first use with the configured sinks and level.
std::shared_ptr<spdlog::logger> NamedLogger(const std::string& component);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_LOG_H_
