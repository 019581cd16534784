// The operation table and the connection settings negotiated at INIT.
#include "fs/operations.h"

namespace iafs {

void op_init(void*, fuse_conn_info* conn) {
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
}

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

}  // namespace iafs
