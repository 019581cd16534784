// The daemon's readiness as systemd's Type=notify services report it
// (sd_notify(3)): nothing happens unless systemd (or a test) set
// NOTIFY_SOCKET in the environment.
#pragma once

#include <string>

namespace iafs {

// READY=1 with a STATUS= line: the mounts are up and about to be served.
void notify_ready(const std::string& status);

// STOPPING=1: the daemon is unmounting and will exit.
void notify_stopping();

}  // namespace iafs
