import ArgumentParser
import Boot
import Convert
import Foundation

/// Kernel, init and run settings for `convert`.
struct BootArguments: ParsableArguments {
    @Option(help: ArgumentHelp("A Debian/Ubuntu linux-image-*.deb to boot (default: the image's kernel in system mode, else the one scripts/setup downloads).", valueName: "deb"))
    var kernelPackage: String?

    @Option(help: ArgumentHelp("A kernel image to boot.", valueName: "vmlinuz"))
    var kernel: String?

    @Option(help: ArgumentHelp("The kernel's /lib/modules/VERSION folder (not needed when its drivers are built in).", valueName: "dir"))
    var modules: String?

    @Flag(help: "Write a data disk: the root filesystem only, no kernel or bootloader.")
    var noKernel = false

    @Option(name: .customLong("init"), help: "app: run the image's command; system: boot the image's own init (default: system when the image has one and a kernel).")
    var initMode: InitConfig.Mode?

    @Option(help: ArgumentHelp("Replace the image's Cmd (a JSON array, or words split at spaces).", valueName: "command"))
    var cmd: String?

    @Option(help: ArgumentHelp("Replace the image's Entrypoint (a JSON array, or words split at spaces).", valueName: "command"))
    var entrypoint: String?

    @Option(help: ArgumentHelp("Set an environment variable for the command (repeatable).", valueName: "name=value"))
    var env: [String] = []

    @Option(help: ArgumentHelp("Working directory for the command.", valueName: "dir"))
    var workdir: String?

    @Option(help: ArgumentHelp("User to run the command as: name, uid, uid:gid or name:group.", valueName: "user"))
    var user: String?

    @Option(help: "Hostname of the guest.")
    var hostname: String?

    @Option(help: ArgumentHelp("Text to add to the kernel command line.", valueName: "text"))
    var append = ""

    /// Whether any option here asks for a bootable disk.
    var requestsBoot: Bool {
        kernelPackage != nil || kernel != nil || modules != nil || initMode != nil || cmd != nil || entrypoint != nil || !env.isEmpty
            || workdir != nil || user != nil || hostname != nil || !append.isEmpty
    }

    func validate() throws {
        let kernels = [kernelPackage != nil, kernel != nil, noKernel].filter { $0 }.count
        if kernels > 1 { throw ValidationError("Give at most one of --kernel-package, --kernel and --no-kernel.") }
        if modules != nil && kernel == nil { throw ValidationError("--modules goes with --kernel.") }
        if noKernel && requestsBoot { throw ValidationError("--no-kernel writes a data disk: drop the kernel and init options.") }
        for variable in env where !variable.contains("=") { throw ValidationError("--env takes name=value, got \"\(variable)\".") }
        for (name, value) in [("--cmd", cmd), ("--entrypoint", entrypoint)] {
            if let value, (try? Self.words(value)) == nil { throw ValidationError("\(name) must be a JSON array of strings or words.") }
        }
    }

    func options() throws -> BootOptions {
        var options = BootOptions()
        if noKernel {
            options.kernel = .none
        } else if let kernelPackage {
            options.kernel = .package(kernelPackage)
        } else if let kernel {
            options.kernel = .files(kernel: kernel, modules: modules)
        }
        options.mode = initMode
        options.overrides.cmd = try cmd.map(Self.words)
        options.overrides.entrypoint = try entrypoint.map(Self.words)
        options.overrides.environment = env
        options.overrides.workingDirectory = workdir
        options.overrides.user = user
        options.overrides.hostname = hostname
        options.append = append
        return options
    }

    /// `["sh", "-c", "echo hi"]` as JSON, or `sleep 10` split at spaces.
    static func words(_ text: String) throws -> [String] {
        if text.trimmingCharacters(in: .whitespaces).hasPrefix("[") {
            return try JSONDecoder().decode([String].self, from: Data(text.utf8))
        }
        return text.split(separator: " ").map(String.init)
    }
}

extension InitConfig.Mode: ExpressibleByArgument {}
