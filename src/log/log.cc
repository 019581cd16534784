#include "log/log.h"

#include <syslog.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

namespace iafs {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_syslog{false};
std::mutex g_stderr_mutex;

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

int syslog_priority(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return LOG_DEBUG;
    case LogLevel::kInfo:
      return LOG_INFO;
    case LogLevel::kWarning:
      return LOG_WARNING;
    case LogLevel::kError:
      return LOG_ERR;
  }
  return LOG_INFO;
}

}  // namespace

void log_set_level(LogLevel level) { g_level = static_cast<int>(level); }

std::optional<LogLevel> parse_log_level(std::string_view name) {
  for (LogLevel level : {LogLevel::kError, LogLevel::kWarning, LogLevel::kInfo, LogLevel::kDebug}) {
    if (name == level_name(level)) return level;
  }
  return std::nullopt;
}

void log_use_syslog() {
  openlog("imageattachfs", LOG_PID, LOG_DAEMON);
  g_syslog = true;
}

bool log_enabled(LogLevel level) { return static_cast<int>(level) >= g_level; }

std::string escape_for_log(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte == '\\') {
      out += "\\\\";
    } else if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    } else {
      out += c;
    }
  }
  return out;
}

void log_line(LogLevel level, std::string_view message) {
  if (!log_enabled(level)) return;
  std::string text = escape_for_log(message);
  if (g_syslog) {
    syslog(syslog_priority(level), "%s", text.c_str());
    return;
  }
  std::lock_guard lock(g_stderr_mutex);
  std::fprintf(stderr, "imageattachfs: %s: %s\n", level_name(level), text.c_str());
}

}  // namespace iafs
