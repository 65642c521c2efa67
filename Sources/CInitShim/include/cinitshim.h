// What the guest init (oci2disk-init, PID 1) cannot call from Swift: raw syscalls without a
// glibc wrapper, variadic or inline functions (syscall, ioctl, outb), struct-heavy ioctls for
// network interfaces, and the fork/exec child, which must only make async-signal-safe calls.
// Every function returns 0 (or a non-negative value) on success and -1 with errno set on failure.
#ifndef OCI2DISK_CINITSHIM_H
#define OCI2DISK_CINITSHIM_H

#include <stdint.h>
#include <sys/types.h>

/// Name of the variable the early constructor sets for the Swift runtime (PID 1 only); remove it
/// from the environment before exec'ing anything.
#define OI_RUNTIME_ENV "SWIFT_DETERMINISTIC_HASHING"

/// argc/argv as the kernel handed them to this process (saved by the early constructor).
int oi_argc(void);
char **oi_argv(void);

/// finit_module(2) on an open file, with no parameters.
int oi_finit_module(int fd);

/// mount(2), umount2(2), sethostname(2), setgroups(2), chroot(2): glibc declares some of these only
/// under _GNU_SOURCE or with types Swift imports awkwardly; one spelling here.
int oi_mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data);
int oi_umount(const char *target, int flags);
int oi_sethostname(const char *name);
int oi_chroot(const char *path);

/// statfs(2) f_type of the filesystem holding `fd` (RAMFS_MAGIC, TMPFS_MAGIC, …), or -1.
long oi_fs_type(int fd);

/// Mount flags and umount flags as plain integers (some are enum members in glibc's headers).
unsigned long oi_ms_rdonly(void);
unsigned long oi_ms_nosuid(void);
unsigned long oi_ms_nodev(void);
unsigned long oi_ms_noexec(void);
unsigned long oi_ms_sync(void);
unsigned long oi_ms_dirsync(void);
unsigned long oi_ms_noatime(void);
unsigned long oi_ms_nodiratime(void);
unsigned long oi_ms_relatime(void);
unsigned long oi_ms_strictatime(void);
unsigned long oi_ms_lazytime(void);
unsigned long oi_ms_remount(void);
unsigned long oi_ms_bind(void);
unsigned long oi_ms_move(void);
int oi_mnt_detach(void);

/// reboot(2) with RB_POWER_OFF; RB_HALT_SYSTEM if that fails. Returns only on failure.
int oi_power_off(void);

/// Writes `value` to I/O port `port` after ioperm (QEMU isa-debug-exit). -1 if ioperm fails.
int oi_outb(uint8_t value, uint16_t port);

/// Network interfaces (AF_INET ioctls). Addresses are in network byte order.
int oi_if_set_address(const char *ifname, uint32_t address, uint32_t netmask);
int oi_if_up(const char *ifname);
int oi_route_add_default(uint32_t gateway);
/// A host route that rejects: nothing is sent to `host` (network byte order).
int oi_route_add_unreachable(uint32_t host);

/// Tells the kernel a partition of the disk open at `disk_fd` is now `length` bytes from `start`
/// (BLKPG_RESIZE_PARTITION): the table on disk was already rewritten. 0 or -1 with errno.
int oi_resize_partition(int disk_fd, int number, int64_t start, int64_t length);

/// Grows the mounted ext4 whose directory is open at `fd` to `blocks` filesystem blocks
/// (EXT4_IOC_RESIZE_FS, online). 0 or -1 with errno.
int oi_ext4_resize(int fd, uint64_t blocks);

/// Opens a serial port for writing without waiting for carrier, raw (no newline translation).
int oi_open_serial(const char *path);

/// Makes `fd` this process's 0, 1 and 2 (keeps `fd` open if it is one of them).
int oi_dup_to_stdio(int fd);

/// Last resort for PID 1, whose death would panic the kernel: on SIGSEGV, SIGBUS, SIGILL,
/// SIGTRAP (Swift runtime traps), SIGFPE, SIGABRT or SIGSYS, print "oci2disk-init: internal error:
/// fatal signal N" and the exit line with `status` on fd 2 and /dev/ttyS1, sync, write the
/// status to the isa-debug-exit port and power off. Async-signal-safe.
int oi_install_crash_handler(int status);

/// Blocks (how = 1) or unblocks (how = 0) every signal in this process.
int oi_block_all_signals(int block);
/// Waits up to `timeout_ms` for a blocked signal. Returns the signal, 0 on timeout, -1 on error.
int oi_wait_signal(int timeout_ms);

/// waitpid(-1, WNOHANG). Returns the pid (0 if none ready, -1 with errno, ECHILD when there are none
/// left) and the decoded status: exit code, or 128 + signal for a signal-killed child.
pid_t oi_reap(int *status_out);
/// Like oi_reap but blocking for at most `timeout_ms` in total; 0 on timeout.
pid_t oi_reap_wait(int *status_out, int timeout_ms);

/// How to start the main command. Strings must stay valid until oi_spawn returns.
struct oi_spawn_attr {
    const char *const *argv;      // argv[0] is the command as given (name or path), NULL-terminated
    const char *const *envp;      // NULL-terminated
    const char *search_path;      // PATH used to find argv[0] when it has no '/'
    const char *workdir;          // chdir target (must exist)
    const char *console;          // terminal for stdin/out/err and controlling tty, or NULL
    uid_t uid;
    gid_t gid;
    const gid_t *groups;          // supplementary groups
    int group_count;
};

/// Forks; the child resets signals, calls setsid, takes `console` as controlling terminal
/// (TIOCSCTTY) and as fds 0-2, drops to groups/gid/uid, changes to workdir and execs. A child that
/// cannot exec prints "oci2disk-init: <cmd>: <reason>" on its stderr and exits 127 (not found) or
/// 126 (found but not executable). Returns the child's pid, or -1 if fork failed.
pid_t oi_spawn(const struct oi_spawn_attr *attr);

#endif
