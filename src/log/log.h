// The daemon's log: one line per event, to stderr in the foreground and to
// syslog when daemonized.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace iafs {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines below `level` are dropped. Default: kInfo.
void log_set_level(LogLevel level);

// "error", "warning", "info" or "debug" (-o loglevel=); nullopt for any other text.
std::optional<LogLevel> parse_log_level(std::string_view name);

// Sends lines to syslog (ident "imageattachfs") instead of stderr.
void log_use_syslog();

bool log_enabled(LogLevel level);

// `text` with control characters (newlines, escape sequences, NUL) and
// backslashes written as \xNN and \\, so that a file name a client chose
// stays on one line and cannot drive a terminal.
std::string escape_for_log(std::string_view text);

// Writes one line (escaped). Thread-safe.
void log_line(LogLevel level, std::string_view message);

inline void log_debug(std::string_view m) { log_line(LogLevel::kDebug, m); }
inline void log_info(std::string_view m) { log_line(LogLevel::kInfo, m); }
inline void log_warning(std::string_view m) { log_line(LogLevel::kWarning, m); }
inline void log_error(std::string_view m) { log_line(LogLevel::kError, m); }

}  // namespace iafs
