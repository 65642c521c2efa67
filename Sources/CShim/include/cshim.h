// Small C helpers for what Swift cannot import directly: C globals that are mutable
// (unix_io_manager), function-like macros, and glibc calls hidden behind _GNU_SOURCE.
#ifndef OCI2DISK_CSHIM_H
#define OCI2DISK_CSHIM_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/xattr.h>  /* fsetxattr, lsetxattr: not in Swift's Glibc module */
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

/// The libext2fs Unix I/O manager (a mutable C global, so Swift 6 cannot read it directly).
io_manager cz_unix_io_manager(void);

/// Flush libext2fs' I/O channel (a macro in ext2fs.h).
errcode_t cz_io_channel_flush(io_channel channel);

/// copy_file_range(2) from glibc (needs _GNU_SOURCE). Returns bytes copied or -1 with errno.
ssize_t cz_copy_file_range(int fd_in, int64_t off_in, int fd_out, int64_t off_out, size_t len);

/// Free the blocks behind a range of a file (fallocate PUNCH_HOLE|KEEP_SIZE). Best effort.
int cz_punch_hole(int fd, int64_t offset, int64_t length);

/// True if `dev` can be stored in the old 16-bit (8:8) device encoding.
int cz_old_valid_dev(uint32_t major, uint32_t minor);

/// Checksum an extent tree block (the header type lives in ext3_extents.h).
errcode_t cz_extent_block_csum_set(ext2_filsys fs, ext2_ino_t ino, void *block);

/// Set the libext2fs clock, so superblock and journal times are reproducible.
void cz_fs_set_now(ext2_filsys fs, int64_t now);

/// An unnamed temporary file in `dir` (O_TMPFILE), or a named one unlinked at once where the
/// filesystem lacks O_TMPFILE. Returns -1 with errno on failure.
int cz_open_anonymous(const char *dir);

/// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS: opens `path`
/// (relative) under `dirfd` without following any symlink and without leaving `dirfd`.
/// Returns -1 with errno (ENOSYS on kernels before 5.6).
int cz_openat_beneath(int dirfd, const char *path, int flags, unsigned int mode);

/// renameat2(2) with RENAME_EXCHANGE: atomically swaps two names. -1 with errno.
int cz_rename_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

/// pipe2(2) with O_CLOEXEC (glibc declares it only under _GNU_SOURCE): no other child started
/// meanwhile inherits either end. -1 with errno.
int cz_pipe_cloexec(int fds[2]);

/// O_PATH (defined by glibc only under _GNU_SOURCE).
int cz_o_path(void);

/// makedev(3) (a macro in sys/sysmacros.h).
uint64_t cz_makedev(uint32_t major, uint32_t minor);

#endif
