// The operation table and the connection settings negotiated at INIT.
#include "fs/operations.h"

namespace iafs {

void op_init(void* userdata, fuse_conn_info* conn) {
  auto* fs = static_cast<Filesystem*>(userdata);
  // Large reads and writes; the kernel caches immutable files (keep_cache).
  conn->max_write = 1024 * 1024;
  conn->max_read = 1024 * 1024;  // equal to the max_read mount option (main.cc)
  // No atomic O_TRUNC: with it the kernel empties the inode that readers of
  // the committed version share. Without it, O_TRUNC arrives as a SETATTR of
  // the upload's file handle, which truncates the staged bytes only.
  conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
  if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS;
  if (conn->capable & FUSE_CAP_READDIRPLUS_AUTO) conn->want |= FUSE_CAP_READDIRPLUS_AUTO;
  if (conn->capable & FUSE_CAP_SPLICE_WRITE) conn->want |= FUSE_CAP_SPLICE_WRITE;
  if (conn->capable & FUSE_CAP_SPLICE_MOVE) conn->want |= FUSE_CAP_SPLICE_MOVE;
  // Every write must reach the staging file in order; no writeback caching.
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  if (fs->serving()) {
    // Opens with no OPEN (op_open answers ENOSYS once), and pages dropped
    // only when told: a node's version never changes (its mtime may, by touch).
    fs->set_no_open((conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0);
    if (conn->capable & FUSE_CAP_EXPLICIT_INVAL_DATA) conn->want |= FUSE_CAP_EXPLICIT_INVAL_DATA;
  }
}

namespace {

// The serve mount (-o serve=) is mounted ro, so the kernel refuses writes
// itself; these answer any that still come.
void reply_read_only(fuse_req_t req) {
  reply_error(req, make_error(ErrorCode::kReadOnly, "the serve mount is read-only"));
}

}  // namespace

const fuse_lowlevel_ops& Filesystem::operations() {
  static const fuse_lowlevel_ops ops = [] {
    fuse_lowlevel_ops o{};
    o.init = op_init;
    o.lookup = op_lookup;
    o.forget = op_forget;
    o.forget_multi = op_forget_multi;
    o.getattr = op_getattr;
    o.setattr = op_setattr;
    o.open = op_open;
    o.create = op_create;
    o.read = op_read;
    o.write = op_write;
    o.flush = op_flush;
    o.release = op_release;
    o.fsync = op_fsync;
    o.opendir = op_opendir;
    o.readdir = op_readdir;
    o.readdirplus = op_readdirplus;
    o.releasedir = op_releasedir;
    o.mkdir = op_mkdir;
    o.rmdir = op_rmdir;
    o.unlink = op_unlink;
    o.rename = op_rename;
    o.link = op_link;
    o.symlink = op_symlink;
    o.mknod = op_mknod;
    o.getxattr = op_getxattr;
    o.listxattr = op_listxattr;
    o.setxattr = op_setxattr;
    o.removexattr = op_removexattr;
    o.statfs = op_statfs;
    return o;
  }();
  return ops;
}

const fuse_lowlevel_ops& Filesystem::serve_operations() {
  static const fuse_lowlevel_ops ops = [] {
    fuse_lowlevel_ops o = operations();
    o.setattr = [](fuse_req_t req, fuse_ino_t, struct stat*, int, fuse_file_info*) {
      reply_read_only(req);
    };
    o.create = [](fuse_req_t req, fuse_ino_t, const char*, mode_t, fuse_file_info*) {
      reply_read_only(req);
    };
    o.write = [](fuse_req_t req, fuse_ino_t, const char*, size_t, off_t, fuse_file_info*) {
      reply_read_only(req);
    };
    // ENOSYS stops FLUSH for the whole connection: a close costs nothing.
    o.flush = [](fuse_req_t req, fuse_ino_t, fuse_file_info*) {
      reply_error(req, make_error(ErrorCode::kNotAsked, "no FLUSH"));
    };
    o.mkdir = [](fuse_req_t req, fuse_ino_t, const char*, mode_t) { reply_read_only(req); };
    o.rmdir = [](fuse_req_t req, fuse_ino_t, const char*) { reply_read_only(req); };
    o.unlink = [](fuse_req_t req, fuse_ino_t, const char*) { reply_read_only(req); };
    o.rename = [](fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*,
                  unsigned int) { reply_read_only(req); };
    o.link = [](fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { reply_read_only(req); };
    o.symlink = [](fuse_req_t req, const char*, fuse_ino_t, const char*) {
      reply_read_only(req);
    };
    o.mknod = [](fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) {
      reply_read_only(req);
    };
    o.setxattr = [](fuse_req_t req, fuse_ino_t, const char*, const char*, size_t, int) {
      reply_read_only(req);
    };
    o.removexattr = [](fuse_req_t req, fuse_ino_t, const char*) { reply_read_only(req); };
    return o;
  }();
  return ops;
}

}  // namespace iafs
