// Memory the allocator holds free, given back to the kernel.
#pragma once

namespace iafs {

// malloc_trim(0): glibc keeps what was freed in its arenas (a resize's
// buffers, LMDB's dirty pages of a large commit) and returns only the top of
// each heap; this releases the free pages of every arena. At most once per
// 100 ms (a call walks the arenas' free chunks): a call within that is a
// no-op, unless `even_if_recent` (after freeing tens of MB at once).
// Thread-safe.
void release_free_heap(bool even_if_recent = false);

}  // namespace iafs
