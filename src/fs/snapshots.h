// Snapshot files (/.imageattachfs/metrics, index.json, meta.json): each lookup renders the text once
// into a new node (a fresh nodeid, entry and attr timeouts 0), whose size is
// exactly the snapshot's, so that cat, and a web server that trusts st_size,
// read whole, consistent text. Their opens hand out no file handle: reads
// find the bytes by nodeid, as on a connection without OPEN. The snapshot
// goes with its node's FORGET. So the kernel keeps no copy that a change
// would have to invalidate: every path walk looks the name up again (on the
// serve mount too), and pages belong to a node no later lookup returns.
#pragma once

#include <fuse_lowlevel.h>

#include "fs/filesystem.h"

namespace iafs {

// The entry of a new snapshot node of `path` (kMetrics, kIndexFile,
// kMetaFile), taking one lookup ref. kNotFound for a metadata file of an
// attachment or set that holds no original.
Result<fuse_entry_param> snapshot_entry(Filesystem& fs, const ImagePath& path);

// OPEN of a snapshot node: read-only (kPermission for writing), no handle.
void open_snapshot(fuse_req_t req, const Node& node, fuse_file_info* fi);

// READ of a snapshot node (REQUIRES: node.snapshot).
void read_snapshot(fuse_req_t req, const Node& node, size_t size, off_t off);

}  // namespace iafs
