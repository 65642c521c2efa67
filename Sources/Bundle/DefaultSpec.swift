import GuestContract

/// What `runc spec` (runc 1.1) writes, and `runc spec --rootless` for a user namespace. The
/// image's settings go on top (`SpecGenerator`). Differences from runc's template: no
/// terminal (a bundle must run from scripts), a writable root (as `umoci unpack` makes),
/// hostname `oci2disk`, and no `TERM` (there is no terminal).
public enum DefaultSpec {
    public static let hostname = "oci2disk"

    /// Runs as the host user `uid`:`gid`, mapped to root in a new user namespace.
    public struct RootlessIdentity: Sendable, Equatable {
        public var uid: UInt32
        public var gid: UInt32
        public init(uid: UInt32, gid: UInt32) {
            self.uid = uid
            self.gid = gid
        }
    }

    public static func make(rootless: RootlessIdentity? = nil) -> RuntimeSpec {
        let capabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        let process = RuntimeSpec.Process(
            terminal: false, user: RuntimeSpec.User(uid: 0, gid: 0), args: [], env: ["PATH=\(GuestDefaults.path)"], cwd: "/",
            capabilities: RuntimeSpec.LinuxCapabilities(bounding: capabilities, effective: capabilities, permitted: capabilities, ambient: capabilities),
            rlimits: [RuntimeSpec.POSIXRlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)],
            noNewPrivileges: true)
        var spec = RuntimeSpec(
            process: process, root: RuntimeSpec.Root(path: "rootfs", readonly: false), hostname: hostname,
            mounts: mounts,
            linux: RuntimeSpec.Linux(
                resources: RuntimeSpec.LinuxResources(devices: [RuntimeSpec.LinuxDeviceCgroup(allow: false, access: "rwm")]),
                namespaces: ["pid", "network", "ipc", "uts", "mount"].map { RuntimeSpec.LinuxNamespace(type: $0) },
                maskedPaths: maskedPaths, readonlyPaths: readonlyPaths))
        if let rootless { makeRootless(&spec, rootless) }
        return spec
    }

    static let mounts: [RuntimeSpec.Mount] = [
        .init(destination: "/proc", type: "proc", source: "proc"),
        .init(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        .init(
            destination: "/dev/pts", type: "devpts", source: "devpts",
            options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
        .init(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
        .init(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
        .init(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
        .init(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"])
    ]

    static let maskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
    ]

    static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// runc's `specconv.ToRootless`: no network namespace (an unprivileged user cannot set
    /// one up), a user namespace mapping the host user to root, /sys bind-mounted (sysfs
    /// cannot be mounted there), no uid=/gid= mount options, no cgroup resources.
    static func makeRootless(_ spec: inout RuntimeSpec, _ identity: RootlessIdentity) {
        var linux = spec.linux ?? RuntimeSpec.Linux()
        linux.namespaces = (linux.namespaces ?? []).filter { $0.type != "network" && $0.type != "user" } + [RuntimeSpec.LinuxNamespace(type: "user")]
        linux.uidMappings = [RuntimeSpec.LinuxIDMapping(containerID: 0, hostID: identity.uid, size: 1)]
        linux.gidMappings = [RuntimeSpec.LinuxIDMapping(containerID: 0, hostID: identity.gid, size: 1)]
        linux.resources = nil
        spec.linux = linux
        spec.mounts = spec.mounts?.map { mount in
            if mount.destination == "/sys" {
                return RuntimeSpec.Mount(destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"])
            }
            var mount = mount
            mount.options = mount.options?.filter { !$0.hasPrefix("uid=") && !$0.hasPrefix("gid=") }
            return mount
        }
    }
}
