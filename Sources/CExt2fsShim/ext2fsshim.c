#include "ext2fsshim.h"
#include <ext2fs/ext3_extents.h>

io_manager ext2shim_unix_io_manager(void) { return unix_io_manager; }

errcode_t ext2shim_io_channel_flush(io_channel channel) { return io_channel_flush(channel); }

errcode_t ext2shim_extent_block_csum_set(ext2_filsys fs, ext2_ino_t ino, void *block) {
    return ext2fs_extent_block_csum_set(fs, ino, (struct ext3_extent_header *)block);
}

void ext2shim_fs_set_now(ext2_filsys fs, int64_t now) { fs->now = (time_t)now; }
