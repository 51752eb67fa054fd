#include "bridge/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>
#include <vector>

namespace onedock {
namespace {

std::mutex g_mu;
std::vector<spdlog::sink_ptr> g_sinks;
spdlog::level::level_enum g_level = spdlog::level::info;

}  // namespace

Status ConfigureLogging(const std::string& level, const std::string& file) {
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    return InvalidArgument("log level \"" + level +
                           "\" is not one of trace, debug, info, warn, error");
  }
  std::vector<spdlog::sink_ptr> sinks;
  try {
    if (file.empty()) {
      sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
    } else {
      sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file));
    }
  } catch (const spdlog::spdlog_ex& e) {
    return InvalidArgument("log file " + file + ": " + e.what());
  }
  std::lock_guard lock(g_mu);
  g_sinks = std::move(sinks);
  g_level = parsed;
  spdlog::drop_all();
  return Status::Ok();
}

std::shared_ptr<spdlog::logger> NamedLogger(const std::string& component) {
  std::lock_guard lock(g_mu);
  if (auto existing = spdlog::get(component)) return existing;
  if (g_sinks.empty()) g_sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  auto logger = std::make_shared<spdlog::logger>(component, g_sinks.begin(), g_sinks.end());
  logger->set_level(g_level);
  logger->flush_on(spdlog::level::info);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace onedock
