// What Swift cannot import from libext2fs directly: a mutable C global (unix_io_manager),
// function-like macros, and struct fields behind types Swift does not see.
#ifndef OCI2DISK_EXT2FSSHIM_H
#define OCI2DISK_EXT2FSSHIM_H

#include <stdint.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

/// The libext2fs Unix I/O manager (a mutable C global, so Swift 6 cannot read it directly).
io_manager ext2shim_unix_io_manager(void);

/// Flush libext2fs' I/O channel (a macro in ext2fs.h).
errcode_t ext2shim_io_channel_flush(io_channel channel);

/// Checksum an extent tree block (the header type lives in ext3_extents.h).
errcode_t ext2shim_extent_block_csum_set(ext2_filsys fs, ext2_ino_t ino, void *block);

/// Set the libext2fs clock, so superblock and journal times are reproducible.
void ext2shim_fs_set_now(ext2_filsys fs, int64_t now);

#endif
