import GuestContract
import CInitShim
import Glibc

/// What app mode adds to the image's root before the command starts: the usual container
/// mounts, /dev symlinks, the hostname, the network and resolv.conf. Nothing here writes into
/// the image except empty mount point directories that the image lacks (its own /tmp and /run
/// are never touched).
enum AppEnvironment {
    /// Mounts made here, in order (unmounted in reverse at shutdown).
    static func setUp(config: InitConfig, network: NetworkConfig, console: Console) -> [String] {
        var mounted: [String] = []
        let extraMounts: [(source: String, target: String, type: String, flags: UInt, data: String)] = [
            ("devpts", "/dev/pts", "devpts", oi_ms_nosuid() | oi_ms_noexec(), "newinstance,ptmxmode=0666,mode=0620,gid=5"),
            ("shm", "/dev/shm", "tmpfs", oi_ms_nosuid() | oi_ms_nodev(), "mode=1777")
        ]
        for mount in extraMounts {
            do {
                if !FileSystem.existsNoFollow(mount.target) {
                    try FileSystem.makeDirectory(mount.target, mode: 0o755)
                }
                try Mounts.mount(mount.source, on: mount.target, type: mount.type, flags: mount.flags, data: mount.data)
                mounted.append(mount.target)
            } catch {
                console.warn(error.description)
            }
        }
        addDeviceLinks()

        if oi_sethostname(config.hostname) != 0 {
            console.warn("sethostname \(config.hostname): \(errnoText(errno))")
        }
        Network.bringUp(network, console: console)
        if let resolv = installResolvConf(network.resolvConf, shm: mounted.contains("/dev/shm"), console: console) {
            mounted.append(resolv)
        }
        return mounted
    }

    /// The /dev links devtmpfs lacks and programs expect (runc creates the same ones).
    static func addDeviceLinks() {
        let links = [
            ("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"),
            ("/dev/stdout", "/proc/self/fd/1"), ("/dev/stderr", "/proc/self/fd/2")
        ]
        for (path, target) in links where !FileSystem.existsNoFollow(path) {
            symlink(target, path)
        }
    }

    /// Bind-mounts a resolv.conf with our name servers over the image's /etc/resolv.conf, only if
    /// the image has one. The content lives on the /dev/shm tmpfs; the file is unlinked after the
    /// bind, so the command sees an empty /dev/shm. Returns the mount point when mounted.
    static func installResolvConf(_ content: String, shm: Bool, console: Console) -> String? {
        let target = "/etc/resolv.conf"
        guard !content.isEmpty, FileSystem.exists(target) else {
            return nil
        }
        guard shm else {
            console.warn("\(target) not replaced: no tmpfs at /dev/shm")
            return nil
        }
        let staging = "/dev/shm/.oci2disk-resolv.conf"
        do {
            try FileSystem.write(staging, content, mode: 0o644)
            defer { unlink(staging) }
            try Mounts.bind(staging, on: target)
            return target
        } catch {
            console.warn(error.description)
            return nil
        }
    }
}
