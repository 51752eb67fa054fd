// OutputTail: the last bytes of an output stream of unbounded length (a START_SCRIPT's stdout and
// stderr), kept in bounded memory while the stream is read, with the count of all bytes seen;
// OneLineTail, the end of such a text made safe for one log line; and LastLines, the last lines of
// a container's log made fit for a VM's monitoring in OpenNebula. Plain values.
#ifndef ONEDOCK_BRIDGE_OUTPUT_TAIL_H_
#define ONEDOCK_BRIDGE_OUTPUT_TAIL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace onedock {

// What an exec keeps of each of its streams (Engine::Exec).
inline constexpr size_t kExecTailBytes = 16 * 1024;

class OutputTail {
 public:
  explicit OutputTail(size_t keep = kExecTailBytes) : keep_(keep) {}
  // Never holds more than twice `keep` bytes.
  void Append(std::string_view chunk);
  // The last `keep` bytes appended (all of them when fewer).
  std::string Tail() const;
  int64_t total() const { return total_; }

 private:
  size_t keep_;
  std::string kept_;
  int64_t total_ = 0;
};

// The last `max` bytes of `text` on one line: newlines, other control bytes and bytes past 0x7e
// are written as \n, \r, \t or \xNN; "…" marks a text that was cut.
std::string OneLineTail(std::string_view text, size_t max = 512);

// The last `lines` lines of `text` that hold anything, joined with " | ", in at most `max` bytes
// ("…" first when cut). Terminal escape sequences (a TTY's colours) and carriage returns are
// dropped; other control bytes and bytes that are not UTF-8 become '?', so that the result is
// one line of valid UTF-8 whatever a container wrote.
std::string LastLines(std::string_view text, size_t lines, size_t max);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_OUTPUT_TAIL_H_
