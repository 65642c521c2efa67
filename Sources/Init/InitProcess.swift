import GuestContract
import CInitShim
import Glibc

/// PID 1 in the initramfs, stage by stage. Every failure before the command runs ends in
/// `oci2disk-init: <what>`, the exit line with status 125 and a power-off: PID 1 never returns.
enum InitProcess {
    static let newRoot = "/newroot"
    static let rootWait = 10
    static let failureStatus: Int32 = 125
    static let noCommandStatus: Int32 = 127

    static func run() -> Never {
        // Set by the C constructor for the runtime's start; not for the image's init to inherit.
        unsetenv(OI_RUNTIME_ENV)
        // A crash here (a Swift trap is SIGILL or SIGTRAP) must still power off with a status.
        oi_install_crash_handler(failureStatus)
        var console = Console()
        var root: String?
        var mounts: [String] = []
        do {
            try mountEarlyFilesystems()
            Console.attachStandardStreams()
            // /proc was mounted just now: an unreadable command line is a broken boot, not an empty one.
            let commandLine = KernelCommandLine(try FileSystem.readText("/proc/cmdline"))
            console.debug = commandLine.debug
            console.step("started")
            let config = try InitConfig.read(InitConfig.path)
            let network = config.mode == .app ? try NetworkConfig(commandLine: commandLine) : NetworkConfig()
            if commandLine.crashTest {
                fatalError("crash test (oci2disk.debug=crash)")
            }
            if config.consoleQuiet {
                try? FileSystem.write("/proc/sys/kernel/printk", "1\n")
            }

            ModuleLoader.load(config.modules, console: console)
            console.step("\(config.modules.count) module(s) loaded")
            guard let uuid = config.rootUUID else {
                throw InitError.config(.missing("root-uuid"))
            }
            let device = try RootDevice.find(uuid: uuid, timeout: rootWait, console: console)
            if config.growRoot {
                RootGrowth.growPartition(device, console: console)
            }
            try mountRoot(device, config: config)
            if config.growRoot {
                RootGrowth.growFilesystem(at: newRoot, device: device, console: console)
            }
            root = newRoot
            try SwitchRoot.perform(newRoot: newRoot, createMountPoints: config.mode == .app, console: console)
            root = "/"
            mounts = SwitchRoot.carriedMounts
            console.step("switched to the root filesystem")

            switch config.mode {
            case .system:
                try SystemMode.start(config: config, initArguments: kernelInitArguments(), console: console)
            case .app:
                // Resolved first (the user needs the image's /etc/passwd): a bad plan stops the boot
                // before anything else is set up.
                let plan = try CommandPlan(config: config, commandLine: commandLine, users: try UserDatabase.read(root: ""))
                mounts += AppEnvironment.setUp(config: config, network: network, console: console)
                if !FileSystem.isDirectory(plan.workdir) {
                    try FileSystem.makeDirectories(plan.workdir)
                }
                let status = Supervisor.run(plan, console: console)
                console.step("command exited with status \(status)")
                Shutdown.finish(status: status, mounts: mounts, root: root, console: console)
            }
        } catch {
            Console.error("\(error)")
            // No command is "command not found", as a shell reports it: 127.
            let status: Int32
            if case InitError.noCommand = error { status = noCommandStatus } else { status = failureStatus }
            Shutdown.finish(status: status, mounts: mounts, root: root, console: console)
        }
    }

    /// /proc (normally already mounted by the C constructor), /sys and /dev (devtmpfs: the
    /// kernel does not mount it for an initramfs).
    static func mountEarlyFilesystems() throws(InitError) {
        let noSuidDevExec = oi_ms_nosuid() | oi_ms_nodev() | oi_ms_noexec()
        let early: [(source: String, target: String, type: String, flags: UInt, data: String?)] = [
            ("proc", "/proc", "proc", noSuidDevExec, nil),
            ("sysfs", "/sys", "sysfs", noSuidDevExec, nil),
            ("devtmpfs", "/dev", "devtmpfs", oi_ms_nosuid(), "mode=0755")
        ]
        for mount in early {
            try FileSystem.makeDirectory(mount.target, mode: 0o755)
            if !Mounts.isMountPoint(mount.target) {
                try Mounts.mount(mount.source, on: mount.target, type: mount.type, flags: mount.flags, data: mount.data)
            }
        }
    }

    /// Mounts the root filesystem read-write at /newroot with the config's options.
    static func mountRoot(_ device: String, config: InitConfig) throws(InitError) {
        try FileSystem.makeDirectory(newRoot, mode: 0o755)
        let options = Mounts.parseOptions(config.rootOptions)
        try Mounts.mount(device, on: newRoot, type: config.rootFSType, flags: options.flags, data: options.data)
    }

    /// The arguments the kernel passed to init (for the image's init in system mode).
    static func kernelInitArguments() -> [String] {
        guard let argv = oi_argv() else {
            return []
        }
        return (1..<max(1, Int(oi_argc()))).compactMap { argv[$0].map { String(cString: $0) } }
    }
}
