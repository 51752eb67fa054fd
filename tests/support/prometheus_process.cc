#include "tests/support/prometheus_process.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/free_port.h"

extern char** environ;

namespace onedock::testing {
namespace {

constexpr char kBinary[] = "/usr/bin/prometheus";

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

PrometheusProcess::PrometheusProcess(std::vector<std::string> targets)
    : targets_(std::move(targets)) {}

PrometheusProcess::~PrometheusProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

Status PrometheusProcess::Start() {
  char dir[] = "/tmp/onedock-prometheus-XXXXXX";
  if (mkdtemp(dir) == nullptr) return Internal("mkdtemp failed");
  dir_ = dir;
  log_ = dir_ + "/prometheus.log";
  std::string targets;
  for (const auto& t : targets_) targets += (targets.empty() ? "'" : ", '") + t + "'";
  std::ofstream(dir_ + "/prometheus.yml") << "global:\n"
                                             "  scrape_interval: 1s\n"
                                             "  evaluation_interval: 1s\n"
                                             "scrape_configs:\n"
                                             "  - job_name: onedock\n"
                                             "    static_configs:\n"
                                             "      - targets: ["
                                          << targets << "]\n";
  port_ = FreeLoopbackPort();
  const std::string config = "--config.file=" + dir_ + "/prometheus.yml";
  const std::string storage = "--storage.tsdb.path=" + dir_ + "/data";
  const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
  std::vector<const char*> argv = {kBinary, config.c_str(), storage.c_str(), listen.c_str(),
                                   nullptr};
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  const int rc =
      posix_spawn(&pid_, kBinary, &files, nullptr, const_cast<char**>(argv.data()), environ);
  posix_spawn_file_actions_destroy(&files);
  if (rc != 0) {
    pid_ = -1;
    return Unavailable(std::string("cannot spawn ") + kBinary +
                       " (tests/bed/setup.sh installs it)");
  }
  for (int n = 0; n < 120; ++n) {
    long code = 0;
    if (Get("/-/ready", &code).ok() && code == 200) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return Unavailable("prometheus did not become ready; see " + log_);
}

Result<std::string> PrometheusProcess::Get(const std::string& path, long* http_code) const {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Internal("curl_easy_init failed");
  std::string body;
  const std::string url = "http://127.0.0.1:" + std::to_string(port_) + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, http_code);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) return Unavailable(url + ": " + curl_easy_strerror(rc));
  return body;
}

Result<std::vector<PrometheusProcess::Sample>> PrometheusProcess::Query(
    const std::string& expr) const {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Internal("curl_easy_init failed");
  char* escaped = curl_easy_escape(curl, expr.c_str(), static_cast<int>(expr.size()));
  const std::string path = std::string("/api/v1/query?query=") + escaped;
  curl_free(escaped);
  curl_easy_cleanup(curl);
  long code = 0;
  auto body = Get(path, &code);
  if (!body.ok()) return body.status();
  const auto answer = nlohmann::json::parse(*body, nullptr, false);
  if (answer.is_discarded() || answer.value("status", "") != "success" ||
      answer["data"].value("resultType", "") != "vector") {
    return Internal("query " + expr + ": HTTP " + std::to_string(code) + ": " + *body);
  }
  std::vector<Sample> out;
  for (const auto& r : answer["data"]["result"]) {
    Sample s;
    for (const auto& [name, value] : r["metric"].items()) s.labels[name] = value.get<std::string>();
    s.value = std::stod(r["value"][1].get<std::string>());
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<PrometheusProcess::Sample>> PrometheusProcess::QueryUntil(
    const std::string& expr, const std::function<bool(const std::vector<Sample>&)>& done,
    std::chrono::seconds limit) const {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto answer = Query(expr);
    if ((answer.ok() && done(*answer)) || std::chrono::steady_clock::now() >= end) return answer;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace onedock::testing
