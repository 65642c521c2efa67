import GuestContract
import CInitShim
import Glibc

/// System mode: the image's own init takes over as PID 1.
enum SystemMode {
    /// Writes /etc/fstab and /etc/hostname when the image has none (the only writes into the
    /// image), sets the hostname and execs `config.systemInit` with the arguments the kernel gave
    /// this init. Returns only by throwing.
    static func start(config: InitConfig, initArguments: [String], console: Console) throws(InitError) -> Never {
        if SwitchRoot.isPlainDirectory("/etc") {
            if !FileSystem.existsNoFollow("/etc/fstab"), let uuid = config.rootUUID {
                try FileSystem.write("/etc/fstab", fstab(uuid: uuid, config: config))
            }
            if !FileSystem.existsNoFollow("/etc/hostname") {
                try FileSystem.write("/etc/hostname", config.hostname + "\n")
            }
        }
        if oi_sethostname(config.hostname) != 0 {
            console.warn("sethostname \(config.hostname): \(errnoText(errno))")
        }
        console.step("exec \(config.systemInit)")
        let argv = CStringArray([config.systemInit] + initArguments)
        withExtendedLifetime(argv) {
            _ = execv(config.systemInit, argv.pointer)
        }
        throw .system(operation: "exec", path: config.systemInit, errno: errno)
    }

    /// One line for the root filesystem.
    static func fstab(uuid: UUID16, config: InitConfig) -> String {
        let options = config.rootOptions.isEmpty ? "defaults" : config.rootOptions
        return "UUID=\(uuid) / \(config.rootFSType) \(options) 0 1\n"
    }
}
