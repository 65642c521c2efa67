#define _GNU_SOURCE
#include "clinux.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>

ssize_t linux_copy_file_range(int fd_in, int64_t off_in, int fd_out, int64_t off_out, size_t len) {
    loff_t in = off_in, out = off_out;
    return copy_file_range(fd_in, &in, fd_out, &out, len, 0);
}

int linux_punch_hole(int fd, int64_t offset, int64_t length) {
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
}

int linux_open_anonymous(const char *dir) {
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/.oci2disk-spill-XXXXXX", dir) >= (int)sizeof path) return -1;
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0) unlink(path);
    return fd;
}

int linux_openat_beneath(int dirfd, const char *path, int flags, unsigned int mode) {
    struct open_how how = {
        .flags = (uint64_t)flags,
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int linux_rename_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_EXCHANGE);
}

int linux_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int linux_o_path(void) { return O_PATH; }

uint64_t linux_makedev(uint32_t major, uint32_t minor) { return makedev(major, minor); }

static volatile sig_atomic_t forward_fd = -1;

static void forward_signal(int sig) {
    int saved = errno;
    unsigned char number = (unsigned char)sig;
    if (forward_fd >= 0) (void)write(forward_fd, &number, 1);
    errno = saved;
}

int linux_forward_signals(int write_fd, const int *signals, int count) {
    forward_fd = write_fd;
    struct sigaction action = {0};
    action.sa_handler = forward_signal;
    action.sa_flags = SA_RESTART;
    sigfillset(&action.sa_mask);
    for (int i = 0; i < count; i++)
        if (sigaction(signals[i], &action, NULL) != 0) return -1;
    return 0;
}

int linux_default_signals(const int *signals, int count) {
    struct sigaction action = {0};
    action.sa_handler = SIG_DFL;
    for (int i = 0; i < count; i++)
        if (sigaction(signals[i], &action, NULL) != 0) return -1;
    forward_fd = -1;
    return 0;
}

int linux_child_has_ended(pid_t pid) {
    siginfo_t info = {0};
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return -1;
    return info.si_pid != 0;
}

int linux_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int linux_spawn_chdir(posix_spawn_file_actions_t *actions, const char *directory) {
    return posix_spawn_file_actions_addchdir_np(actions, directory);
}
