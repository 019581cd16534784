// The FUSE low-level operations, one function each, grouped by file:
// lookup.cc, attributes.cc, open_files.cc, writes.cc, directories.cc, names.cc.
#pragma once

#include <fuse_lowlevel.h>

#include "fs/filesystem.h"

namespace iafs {

void op_init(void* userdata, fuse_conn_info* conn);
void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
void op_forget(fuse_req_t req, fuse_ino_t nodeid, uint64_t nlookup);
void op_forget_multi(fuse_req_t req, size_t count, fuse_forget_data* forgets);
void op_getattr(fuse_req_t req, fuse_ino_t nodeid, fuse_file_info* fi);
void op_setattr(fuse_req_t req, fuse_ino_t nodeid, struct stat* attr, int to_set,
                fuse_file_info* fi);

void op_open(fuse_req_t req, fuse_ino_t nodeid, fuse_file_info* fi);
void op_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
               fuse_file_info* fi);
void op_read(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off, fuse_file_info* fi);
// Replies to a read of `version` (the file at `path`) with its bytes from `off`.
void read_version(fuse_req_t req, Filesystem& fs, const ImagePath& path,
                  const FileVersion& version, size_t size, off_t off);
void op_write(fuse_req_t req, fuse_ino_t nodeid, const char* buf, size_t size, off_t off,
              fuse_file_info* fi);
void op_flush(fuse_req_t req, fuse_ino_t nodeid, fuse_file_info* fi);
void op_release(fuse_req_t req, fuse_ino_t nodeid, fuse_file_info* fi);
// Opens what `node` names with open(2) `flags`: a pinned version, an upload
// of an original, or a scratch file.
// `opener`: the pid of the request.
Result<std::unique_ptr<OpenFile>> open_node(Filesystem& fs, const Node& node, int flags,
                                            pid_t opener);
// Frees an open file (RELEASE, or an open whose reply the kernel refused).
void release_file(Filesystem& fs, OpenFile* file);
void op_fsync(fuse_req_t req, fuse_ino_t nodeid, int datasync, fuse_file_info* fi);

void op_opendir(fuse_req_t req, fuse_ino_t nodeid, fuse_file_info* fi);
void op_readdir(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off, fuse_file_info* fi);
void op_readdirplus(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off, fuse_file_info* fi);
void op_releasedir(fuse_req_t req, fuse_ino_t nodeid, fuse_file_info* fi);
void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode);
void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char* name);

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char* name);
void op_rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
               const char* newname, unsigned int flags);
void op_link(fuse_req_t req, fuse_ino_t nodeid, fuse_ino_t newparent, const char* newname);
void op_symlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name);
void op_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev);

void op_getxattr(fuse_req_t req, fuse_ino_t nodeid, const char* name, size_t size);
void op_listxattr(fuse_req_t req, fuse_ino_t nodeid, size_t size);
void op_setxattr(fuse_req_t req, fuse_ino_t nodeid, const char* name, const char* value,
                 size_t size, int flags);
void op_removexattr(fuse_req_t req, fuse_ino_t nodeid, const char* name);
void op_statfs(fuse_req_t req, fuse_ino_t nodeid);

}  // namespace iafs
