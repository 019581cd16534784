#include "service/notify.h"

#include <systemd/sd-daemon.h>

#include <cstring>

#include "log/log.h"

namespace iafs {
namespace {

void notify(const std::string& message) {
  int sent = sd_notify(0, message.c_str());
  if (sent < 0) log_warning("sd_notify: " + std::string(std::strerror(-sent)));
}

}  // namespace

void notify_ready(const std::string& status) {
  // A newline ends each assignment: one in the status would start another.
  std::string line = status;
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  notify("READY=1\nSTATUS=" + line);
}

void notify_stopping() { notify("STOPPING=1\nSTATUS=stopping"); }

}  // namespace iafs
