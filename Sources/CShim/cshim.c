#define _GNU_SOURCE
#include "cshim.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <ext2fs/ext3_extents.h>

io_manager cz_unix_io_manager(void) { return unix_io_manager; }

errcode_t cz_io_channel_flush(io_channel channel) { return io_channel_flush(channel); }

ssize_t cz_copy_file_range(int fd_in, int64_t off_in, int fd_out, int64_t off_out, size_t len) {
    loff_t in = off_in, out = off_out;
    return copy_file_range(fd_in, &in, fd_out, &out, len, 0);
}

int cz_punch_hole(int fd, int64_t offset, int64_t length) {
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
}

int cz_old_valid_dev(uint32_t major, uint32_t minor) { return major < 256 && minor < 256; }

errcode_t cz_extent_block_csum_set(ext2_filsys fs, ext2_ino_t ino, void *block) {
    return ext2fs_extent_block_csum_set(fs, ino, (struct ext3_extent_header *)block);
}

void cz_fs_set_now(ext2_filsys fs, int64_t now) { fs->now = (time_t)now; }

int cz_open_anonymous(const char *dir) {
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/.oci2disk-spill-XXXXXX", dir) >= (int)sizeof path) return -1;
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0) unlink(path);
    return fd;
}

int cz_openat_beneath(int dirfd, const char *path, int flags, unsigned int mode) {
    struct open_how how = {
        .flags = (uint64_t)flags,
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int cz_rename_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_EXCHANGE);
}

int cz_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int cz_o_path(void) { return O_PATH; }

uint64_t cz_makedev(uint32_t major, uint32_t minor) { return makedev(major, minor); }
