// Linux system calls and constants that Swift's Glibc module hides behind _GNU_SOURCE, or that
// are function-like macros. Nothing here knows about oci2disk; SystemBase wraps them for Swift.
#ifndef OCI2DISK_CLINUX_H
#define OCI2DISK_CLINUX_H

#include <stdint.h>
#include <sys/types.h>
#include <spawn.h>
#include <sys/xattr.h>  /* fsetxattr, lsetxattr: not in Swift's Glibc module */

/// copy_file_range(2) at explicit offsets. Returns bytes copied or -1 with errno.
ssize_t linux_copy_file_range(int fd_in, int64_t off_in, int fd_out, int64_t off_out, size_t len);

/// Free the blocks behind a range of a file (fallocate PUNCH_HOLE|KEEP_SIZE). -1 with errno.
int linux_punch_hole(int fd, int64_t offset, int64_t length);

/// An unnamed temporary file in `dir` (O_TMPFILE), or a named one unlinked at once where the
/// filesystem lacks O_TMPFILE. Returns -1 with errno on failure.
int linux_open_anonymous(const char *dir);

/// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS: opens `path`
/// (relative) under `dirfd` without following any symlink and without leaving `dirfd`.
/// Returns -1 with errno (ENOSYS on kernels before 5.6).
int linux_openat_beneath(int dirfd, const char *path, int flags, unsigned int mode);

/// renameat2(2) with RENAME_EXCHANGE: atomically swaps two names. -1 with errno.
int linux_rename_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

/// pipe2(2) with O_CLOEXEC: no child started meanwhile inherits either end. -1 with errno.
int linux_pipe_cloexec(int fds[2]);

/// O_PATH.
int linux_o_path(void);

/// makedev(3) (a macro in sys/sysmacros.h).
uint64_t linux_makedev(uint32_t major, uint32_t minor);

/// Sends each of `signals` as one byte (its number) down `write_fd` from a signal handler,
/// so a thread reading the pipe handles it outside signal context. -1 with errno.
int linux_forward_signals(int write_fd, const int *signals, int count);

/// Puts `signals` back to their default action. -1 with errno.
int linux_default_signals(const int *signals, int count);

/// 1 if child `pid` has ended (it is left to be reaped), 0 if it runs, -1 with errno.
int linux_child_has_ended(pid_t pid);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+): the child closes every descriptor
/// from `from` up, after the earlier actions. Returns 0 or an error number, as the
/// posix_spawn functions do.
int linux_spawn_close_from(posix_spawn_file_actions_t *actions, int from);

/// posix_spawn_file_actions_addchdir_np: the child starts in `directory`. An error number.
int linux_spawn_chdir(posix_spawn_file_actions_t *actions, const char *directory);

#endif
