// onedock-stub: what every driver script execs. Forwards its argv and stdin unchanged to
// onedockd's stub endpoint (rpc/stub_protocol.h: one POST with the token in a header), prints the
// answer (stdout text, error text on stderr) and exits with the answer's code. While onedockd
// cannot be reached (restarting, say) it retries for retry_seconds, since every onedock action is
// idempotent; a refusal (bad token, request too large or malformed) is final.
//
//   onedock-stub <kind> <action> [argv…]     kind: vmm, tm, ds, im, vnm
//   onedock-stub --version
//
// Configuration: $ONEDOCK_STUB_CONFIG, else <dir of this binary>/../etc/onedock/stub.conf.
#include <curl/curl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bridge/version.h"
#include "rpc/socket_owner.h"
#include "rpc/stub_protocol.h"

namespace {

// Bounds what is read back: an answer carries a driver's stdout, a few KB in practice.
constexpr size_t kMaxAnswerBytes = 64u << 20;

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  const auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

int Fail(const std::string& message) {
  std::cerr << "onedock-stub: " << message << "\n";
  return 1;
}

std::map<std::string, std::string> ReadConfig(const std::string& path, std::string* error) {
  std::map<std::string, std::string> out = {{"endpoint", "http://127.0.0.1:2640/RPC2"},
                                            {"token_file", "/var/lib/one/.onedock/stub_token"},
                                            {"retry_seconds", "300"},
                                            {"timeout_seconds", "900"}};
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path;
    return out;
  }
  std::string line;
  while (std::getline(in, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    if (eq != std::string::npos) out[Trim(line.substr(0, eq))] = Trim(line.substr(eq + 1));
  }
  return out;
}

std::string ConfigPath() {
  if (const char* env = std::getenv("ONEDOCK_STUB_CONFIG"); env != nullptr && *env != '\0')
    return env;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (self.parent_path() / ".." / "etc" / "onedock" / "stub.conf").lexically_normal().string();
}

size_t Collect(char* data, size_t size, size_t count, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * count > kMaxAnswerBytes) return 0;  // aborts the transfer
  out->append(data, size * count);
  return size * count;
}

// One attempt: the HTTP status (0 when onedockd was not reached) and the body.
struct Reply {
  long status = 0;
  std::string body;
  std::string transport_error;
  std::string impostor;  // set when the endpoint's end of the connection is another user's
};

// Called once connected, before the token is sent: the endpoint's end of this very connection
// must belong to this user (oned's drivers and onedockd both run as oneadmin). Any local user can
// listen on the stub port while onedockd is down; that user gets a refused connection, not the
// token. The check is on the accepted connection itself, so nothing can change between it and
// the request.
int CheckPeer(void* user, char* server_ip, char* local_ip, int server_port, int local_port) {
  auto* reply = static_cast<Reply*>(user);
  std::ifstream in("/proc/net/tcp");
  std::stringstream table;
  table << in.rdbuf();
  const auto uid =
      onedock::rpc::TcpSocketUid(table.str(), {server_ip, server_port}, {local_ip, local_port});
  if (uid && *uid == geteuid()) return CURL_PREREQFUNC_OK;
  reply->impostor =
      std::string(server_ip) + ":" + std::to_string(server_port) +
      (uid ? " is held by uid " + std::to_string(*uid) : " has no owner in the socket table") +
      ", not by onedockd's uid " + std::to_string(geteuid()) + "; the token was not sent";
  return CURL_PREREQFUNC_ABORT;
}

Reply Post(const std::string& endpoint, const std::string& token, const std::string& body,
           long timeout_seconds) {
  Reply reply;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return {0, "", "cannot initialise libcurl"};
  const std::string token_header = std::string(onedock::rpc::kStubTokenHeader) + ": " + token;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: text/xml");
  headers = curl_slist_append(headers, token_header.c_str());
  // The head goes first and the body only once onedockd accepted it, so a refusal costs neither
  // side the body.
  headers = curl_slist_append(headers, "Expect: 100-continue");
  curl_easy_setopt(curl, CURLOPT_URL, endpoint.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_seconds);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_PREREQFUNCTION, CheckPeer);
  curl_easy_setopt(curl, CURLOPT_PREREQDATA, &reply);
  const CURLcode rc = curl_easy_perform(curl);
  if (!reply.impostor.empty()) {
    reply.transport_error = reply.impostor;
  } else if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  } else {
    reply.transport_error = curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return reply;
}

int Call(const std::string& endpoint, const std::string& token, const std::string& body,
         const std::map<std::string, std::string>& config) {
  const auto retry_for = std::chrono::seconds(std::stol(config.at("retry_seconds")));
  const long timeout = std::stol(config.at("timeout_seconds"));
  const auto deadline = std::chrono::steady_clock::now() + retry_for;
  auto backoff = std::chrono::milliseconds(100);
  while (true) {
    const Reply reply = Post(endpoint, token, body, timeout);
    if (!reply.impostor.empty()) return Fail("onedockd's endpoint " + reply.impostor);
    if (reply.status == 200) {
      auto answer = onedock::rpc::DecodeStubAnswer(reply.body);
      if (!answer.ok()) return Fail("bad answer from onedockd: " + answer.status().message());
      if (!answer->out.empty())
        std::cout << answer->out << (answer->out.back() == '\n' ? "" : "\n");
      if (!answer->error.empty())
        std::cerr << answer->error << (answer->error.back() == '\n' ? "" : "\n");
      return answer->exit_code;
    }
    // 503 (endpoint full) and 408 (too slow, as seen by onedockd) may pass; any other answer is
    // a refusal of this very request, which would be refused again.
    const bool retry = reply.status == 0 || reply.status == 503 || reply.status == 408;
    if (!retry) {
      return Fail("onedockd refused the call (HTTP " + std::to_string(reply.status) +
                  "): " + Trim(reply.body.substr(0, 1000)));
    }
    if (std::chrono::steady_clock::now() + backoff > deadline) {
      const std::string why =
          reply.status == 0 ? reply.transport_error : "HTTP " + std::to_string(reply.status);
      return Fail("onedockd at " + endpoint + " did not answer within " +
                  config.at("retry_seconds") + " s: " + why);
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

}  // namespace

int main(int argc, char** argv) {
  // The doctor compares this with onedockd's own release.
  if (argc == 2 && std::string(argv[1]) == "--version") {
    std::cout << "onedock-stub " << onedock::kVersion << "\n";
    return 0;
  }
  if (argc < 3) return Fail("usage: onedock-stub <vmm|tm|ds|im|vnm> <action> [argv...]");
  std::string error;
  const std::string config_path = ConfigPath();
  auto config = ReadConfig(config_path, &error);
  if (!error.empty()) return Fail(error);
  std::ifstream token_in(config["token_file"]);
  std::string token;
  if (!token_in || !std::getline(token_in, token) || Trim(token).empty()) {
    return Fail("cannot read the stub token from " + config["token_file"] + " (named in " +
                config_path + ")");
  }
  onedock::rpc::StubCall call{argv[1], argv[2], {}, ""};
  for (int i = 3; i < argc; ++i) call.argv.emplace_back(argv[i]);
  // TM actions get no stdin from oned (and may inherit one that never closes).
  if (call.kind != "tm") {
    std::ostringstream buf;
    buf << std::cin.rdbuf();
    call.stdin_text = buf.str();
  }
  for (const char* key : {"retry_seconds", "timeout_seconds"}) {
    const std::string& v = config[key];
    if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos)
      return Fail(std::string(key) + " in " + config_path + " is not a number of seconds");
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const int rc = Call(config["endpoint"], Trim(token), onedock::rpc::EncodeStubCall(call), config);
  curl_global_cleanup();
  return rc;
}
