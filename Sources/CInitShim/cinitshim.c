#define _GNU_SOURCE
#include "cinitshim.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/blkpg.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

// MARK: - Early start (before the Swift runtime)

// The Swift runtime reads its own path and CommandLine.arguments through /proc. Started as PID 1
// by the kernel, /proc is not mounted yet: the runtime aborts ("Unable to obtain Swift runtime
// path") and CommandLine.arguments is empty. This constructor runs first (priority 101 sorts
// before the runtime's unprioritised .init_array entries), mounts /proc when this process is
// PID 1 and /proc is missing, and hands glibc's argc/argv to the runtime directly.
// The runtime declares the override with the Swift calling convention (SWIFT_CC(swift)).
extern void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc) __attribute__((swiftcall));

static int saved_argc;
static char **saved_argv;

__attribute__((constructor(101))) static void oi_early_start(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
    if (getpid() == 1) {
        if (access("/proc/self/exe", F_OK) != 0) {
            mkdir("/proc", 0555);
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        }
        // The runtime seeds its hashing with getrandom(), which blocks until the kernel's CRNG is
        // ready: about a second after init starts under QEMU TCG. PID 1 hashes no untrusted input,
        // so a fixed seed is fine; the Swift side removes the variable before anything is exec'd.
        setenv(OI_RUNTIME_ENV, "1", 1);
    }
    if (argv != NULL) _swift_stdlib_overrideUnsafeArgvArgc(argv, argc);
}

int oi_argc(void) { return saved_argc; }
char **oi_argv(void) { return saved_argv; }

// MARK: - Plain syscalls

int oi_finit_module(int fd) { return (int)syscall(SYS_finit_module, fd, "", 0); }

int oi_mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data) {
    return mount(source, target, fstype, flags, data);
}
int oi_umount(const char *target, int flags) { return umount2(target, flags); }
int oi_sethostname(const char *name) { return sethostname(name, strlen(name)); }
int oi_chroot(const char *path) { return chroot(path); }

long oi_fs_type(int fd) {
    struct statfs fs;
    return fstatfs(fd, &fs) == 0 ? (long)fs.f_type : -1;
}

unsigned long oi_ms_rdonly(void) { return MS_RDONLY; }
unsigned long oi_ms_nosuid(void) { return MS_NOSUID; }
unsigned long oi_ms_nodev(void) { return MS_NODEV; }
unsigned long oi_ms_noexec(void) { return MS_NOEXEC; }
unsigned long oi_ms_sync(void) { return MS_SYNCHRONOUS; }
unsigned long oi_ms_dirsync(void) { return MS_DIRSYNC; }
unsigned long oi_ms_noatime(void) { return MS_NOATIME; }
unsigned long oi_ms_nodiratime(void) { return MS_NODIRATIME; }
unsigned long oi_ms_relatime(void) { return MS_RELATIME; }
unsigned long oi_ms_strictatime(void) { return MS_STRICTATIME; }
unsigned long oi_ms_lazytime(void) { return MS_LAZYTIME; }
unsigned long oi_ms_remount(void) { return MS_REMOUNT; }
unsigned long oi_ms_bind(void) { return MS_BIND; }
unsigned long oi_ms_move(void) { return MS_MOVE; }
int oi_mnt_detach(void) { return MNT_DETACH; }

int oi_power_off(void) {
    reboot(RB_POWER_OFF);
    return reboot(RB_HALT_SYSTEM);
}

int oi_outb(uint8_t value, uint16_t port) {
    if (ioperm(port, 1, 1) != 0) return -1;
    outb(value, port);
    return 0;
}

// MARK: - Network interfaces

static void fill_inet(struct sockaddr *sa, uint32_t address) {
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = address;
    memcpy(sa, &sin, sizeof sin);
}

static int ifreq_for(const char *ifname, struct ifreq *ifr) {
    memset(ifr, 0, sizeof *ifr);
    if (strlen(ifname) >= IFNAMSIZ) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strncpy(ifr->ifr_name, ifname, IFNAMSIZ - 1);
    return 0;
}

static int inet_ioctl(unsigned long request, void *arg) {
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return -1;
    int r = ioctl(sock, request, arg);
    int saved = errno;
    close(sock);
    errno = saved;
    return r;
}

int oi_if_set_address(const char *ifname, uint32_t address, uint32_t netmask) {
    struct ifreq ifr;
    if (ifreq_for(ifname, &ifr) != 0) return -1;
    fill_inet(&ifr.ifr_addr, address);
    if (inet_ioctl(SIOCSIFADDR, &ifr) != 0) return -1;
    if (ifreq_for(ifname, &ifr) != 0) return -1;
    fill_inet(&ifr.ifr_netmask, netmask);
    return inet_ioctl(SIOCSIFNETMASK, &ifr);
}

int oi_if_up(const char *ifname) {
    struct ifreq ifr;
    if (ifreq_for(ifname, &ifr) != 0) return -1;
    if (inet_ioctl(SIOCGIFFLAGS, &ifr) != 0) return -1;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    return inet_ioctl(SIOCSIFFLAGS, &ifr);
}

int oi_route_add_default(uint32_t gateway) {
    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    fill_inet(&rt.rt_dst, 0);
    fill_inet(&rt.rt_genmask, 0);
    fill_inet(&rt.rt_gateway, gateway);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    return inet_ioctl(SIOCADDRT, &rt);
}

int oi_route_add_unreachable(uint32_t host) {
    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    fill_inet(&rt.rt_dst, host);
    fill_inet(&rt.rt_genmask, 0xFFFFFFFFu);
    // RTF_REJECT becomes an RTN_UNREACHABLE route: connects fail at once with EHOSTUNREACH.
    rt.rt_flags = RTF_UP | RTF_HOST | RTF_REJECT;
    return inet_ioctl(SIOCADDRT, &rt);
}

// MARK: - Growing the root

int oi_resize_partition(int disk_fd, int number, int64_t start, int64_t length) {
    struct blkpg_partition part;
    memset(&part, 0, sizeof part);
    part.start = start;
    part.length = length;
    part.pno = number;
    struct blkpg_ioctl_arg arg = {.op = BLKPG_RESIZE_PARTITION, .flags = 0, .datalen = sizeof part, .data = &part};
    return ioctl(disk_fd, BLKPG, &arg);
}

// From linux/ext4.h's uapi (not installed by Debian's linux-libc-dev for 6.1).
#define OI_EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)

int oi_ext4_resize(int fd, uint64_t blocks) {
    return ioctl(fd, OI_EXT4_IOC_RESIZE_FS, &blocks);
}

// MARK: - Terminals and descriptors

int oi_open_serial(const char *path) {
    // O_NONBLOCK: a tty opened without CLOCAL would otherwise wait for carrier.
    int fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -1;
    struct termios t;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        t.c_cflag |= CLOCAL;
        tcsetattr(fd, TCSANOW, &t);
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

int oi_dup_to_stdio(int fd) {
    for (int target = 0; target <= 2; target++) {
        if (fd != target && dup2(fd, target) < 0) return -1;
    }
    return 0;
}

// MARK: - Crashes

static int crash_status = 125;

static void put(int fd, const char *text) {
    size_t len = strlen(text);
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n <= 0) return;
        text += n;
        len -= (size_t)n;
    }
}

// Decimal text of 0 <= value < 1000 (signal numbers, exit statuses) in `buf` (4 bytes).
static const char *small_number(int value, char buf[4]) {
    char *p = buf + 3;
    *p = '\0';
    do {
        *--p = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0 && p > buf);
    return p;
}

static void crash_handler(int sig) {
    char sigbuf[4], statusbuf[4];
    const char *status = small_number(crash_status, statusbuf);
    put(2, "\noci2disk-init: internal error: fatal signal ");
    put(2, small_number(sig, sigbuf));
    put(2, "\n\noci2disk: exit status ");
    put(2, status);
    put(2, "\n");
    int port = oi_open_serial("/dev/ttyS1");
    if (port >= 0) {
        put(port, status);
        put(port, "\n");
        tcdrain(port);
    }
    sync();
    oi_outb((uint8_t)(crash_status & 0x7f), 0xf4);
    oi_power_off();
    for (;;) pause();
}

int oi_install_crash_handler(int status) {
    static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT, SIGSYS };
    crash_status = status;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = crash_handler;
    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        if (sigaction(fatal[i], &sa, NULL) != 0) return -1;
    }
    return 0;
}

// MARK: - Signals and children

int oi_block_all_signals(int block) {
    sigset_t set;
    if (block) sigfillset(&set); else sigemptyset(&set);
    return sigprocmask(SIG_SETMASK, &set, NULL);
}

int oi_wait_signal(int timeout_ms) {
    sigset_t set;
    sigfillset(&set);
    struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
    int sig = sigtimedwait(&set, NULL, &ts);
    if (sig < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    return sig;
}

static int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}

pid_t oi_reap(int *status_out) {
    int status = 0;
    pid_t pid;
    do {
        pid = waitpid(-1, &status, WNOHANG);
    } while (pid < 0 && errno == EINTR);
    if (pid > 0 && status_out) *status_out = decode_status(status);
    return pid;
}

pid_t oi_reap_wait(int *status_out, int timeout_ms) {
    for (int waited = 0;; waited += 10) {
        pid_t pid = oi_reap(status_out);
        if (pid != 0 || waited >= timeout_ms) return pid;
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
}

// The child half of oi_spawn: only async-signal-safe calls (write, not stdio) plus strerror.
static void child_say(const char *a, const char *b, const char *c) {
    const char *parts[] = { "oci2disk-init: ", a, ": ", b, c, "\n" };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (parts[i] && *parts[i]) {
            ssize_t ignored = write(2, parts[i], strlen(parts[i]));
            (void)ignored;
        }
    }
}

static _Noreturn void child_fail(const char *cmd, int code, const char *what, int err) {
    child_say(cmd, what ? what : "", err ? strerror(err) : "");
    _exit(code);
}

static int not_found_errno(int err) {
    return err == ENOENT || err == ENOTDIR || err == ELOOP || err == ENAMETOOLONG;
}

static _Noreturn void child_exec(const struct oi_spawn_attr *a) {
    const char *cmd = a->argv[0];
    char *const *argv = (char *const *)a->argv;
    char *const *envp = (char *const *)a->envp;
    if (cmd == NULL || *cmd == '\0') child_fail("", 127, "empty command", 0);
    if (strchr(cmd, '/') != NULL) {
        execve(cmd, argv, envp);
        int err = errno;
        child_fail(cmd, not_found_errno(err) ? 127 : 126, NULL, err);
    }
    // PATH search, as execvp does: skip missing entries, remember EACCES, stop on other errors.
    const char *p = a->search_path ? a->search_path : "";
    size_t cmdlen = strlen(cmd);
    int saw_eacces = 0;
    for (;;) {
        const char *end = strchrnul(p, ':');
        size_t dirlen = (size_t)(end - p);
        char path[4096];
        if (dirlen + 1 + cmdlen + 1 <= sizeof path) {
            if (dirlen == 0) {
                memcpy(path, cmd, cmdlen + 1);
            } else {
                memcpy(path, p, dirlen);
                path[dirlen] = '/';
                memcpy(path + dirlen + 1, cmd, cmdlen + 1);
            }
            execve(path, argv, envp);
            int err = errno;
            if (err == EACCES) {
                saw_eacces = 1;
            } else if (!not_found_errno(err) && err != ENODEV && err != ETIMEDOUT) {
                child_fail(cmd, 126, NULL, err);
            }
        }
        if (*end == '\0') break;
        p = end + 1;
    }
    if (saw_eacces) child_fail(cmd, 126, NULL, EACCES);
    child_fail(cmd, 127, "executable file not found in PATH", 0);
}

pid_t oi_spawn(const struct oi_spawn_attr *a) {
    pid_t pid = fork();
    if (pid != 0) return pid;

    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    setsid();
    if (a->console != NULL) {
        int fd = open(a->console, O_RDWR | O_NOCTTY);
        if (fd >= 0) {
            ioctl(fd, TIOCSCTTY, 1);
            oi_dup_to_stdio(fd);
            if (fd > 2) close(fd);
        }
    }
    const char *cmd = a->argv[0] ? a->argv[0] : "";
    if (setgroups((size_t)a->group_count, a->groups) != 0) child_fail(cmd, 126, "setgroups: ", errno);
    if (setgid(a->gid) != 0) child_fail(cmd, 126, "setgid: ", errno);
    if (setuid(a->uid) != 0) child_fail(cmd, 126, "setuid: ", errno);
    if (chdir(a->workdir) != 0) child_fail(cmd, 126, "cannot enter working directory: ", errno);
    child_exec(a);
}
