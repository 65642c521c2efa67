import GuestContract
import ArgumentParser
import Boot
import Convert
import Disk
import Foundation
import ImageSource
import OCIModels
import Runner

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Boot a disk (or an image, converted first) in QEMU and exit with its program's exit status.",
        discussion: """
            Exit status: the guest program's (0-255); 124 timeout; 125 the guest init failed; \
            123 the guest stopped without a status (kernel panic); 122 QEMU failed; 130 interrupted; \
            1 bad arguments or a failed conversion.
            """)

    @Argument(
        help: ArgumentHelp(
            "A disk made by convert, or an image source (oci:DIR[:REF], oci-archive:, docker-archive:, docker://, a path).", valueName: "disk-or-source"))
    var target: String

    @Option(help: ArgumentHelp("Stop the VM after this many seconds (exit 124).", valueName: "seconds"))
    var timeout: Double?

    @Option(
        name: [.customShort("p"), .customLong("publish")],
        help: ArgumentHelp("Forward a host port on 127.0.0.1 to a guest port (repeatable).", valueName: "host:guest[/udp]"))
    var ports: [String] = []

    @Option(help: ArgumentHelp("Guest memory in MiB.", valueName: "mib"))
    var memory = 512

    @Option(help: "Guest CPUs.")
    var cpus = 1

    @Option(
        help: ArgumentHelp(
            "The guest's network: private (outbound and -p forwards; the host's own loopback services out of reach), none (no network card), or host-loopback (also the host's 127.0.0.1 at 10.0.2.2).",
            valueName: "mode"))
    var network: NetworkMode = .private

    enum NetworkMode: String, ExpressibleByArgument, CaseIterable {
        case `private`, none, hostLoopback = "host-loopback"
    }

    @Flag(help: "Keep changes the guest makes to the disk (default: a throw-away snapshot).")
    var persist = false

    @Flag(help: "Boot through the BIOS and SYSLINUX, as a hypervisor would, instead of loading the kernel directly.")
    var biosBoot = false

    @Option(name: .customLong("qemu-arg"), help: ArgumentHelp("Pass an argument to QEMU (repeatable).", valueName: "arg"))
    var qemuArguments: [String] = []

    @Option(help: ArgumentHelp("The platform to pick when converting an image.", valueName: "os/arch[/variant]"))
    var platform = "linux/amd64"

    @Flag(help: "Show firmware, bootloader and kernel messages too.")
    var verbose = false

    @OptionGroup(title: "Registry") var registryOptions: RegistryArguments

    @Argument(parsing: .postTerminator, help: ArgumentHelp("Replace the image's Cmd for this run.", valueName: "args"))
    var arguments: [String] = []

    func validate() throws {
        for port in ports where MachineConfiguration.PortForward(parsing: port) == nil {
            throw ValidationError("-p takes HOST:GUEST (e.g. 8080:80), got \"\(port)\".")
        }
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be positive.") }
        if network == .none && !ports.isEmpty { throw ValidationError("-p needs a network: drop --network none.") }
        if biosBoot && !arguments.isEmpty {
            throw ValidationError("Arguments after -- go on the kernel command line, which needs the direct boot: drop --bios-boot.")
        }
    }

    func run() throws {
        let cache = HostAssets.cacheRoot
        let disk: String
        do {
            disk =
                try isDisk(target)
                ? target
                : try Self.convertedDisk(
                    for: target, platform: try Platform(parsing: platform),
                    registry: registryOptions.options(), in: cache)
        } catch {
            throw fail(target, error)
        }
        // Before anything reads the disk: QEMU and qemu-img would follow what a qcow2 names.
        do { try QCOW2References.requireSelfContained(path: disk) } catch { throw fail(disk, error) }
        let scratch = NSTemporaryDirectory()
        let status: String
        do { status = try PrivateTemporary.file(in: scratch, prefix: "oci2disk-status") } catch { throw fail(target, error) }
        defer { unlink(status) }

        var machine = MachineConfiguration(disk: disk, statusFile: status)
        let environment = ProcessInfo.processInfo.environment
        machine.searchPath = (environment["PATH"] ?? "") + ":/usr/bin"
        let isQCOW2 = Self.isQCOW2(disk)
        if isQCOW2 { machine.diskFormat = "qcow2" }
        machine.memoryMiB = memory
        machine.cpus = cpus
        machine.persist = persist
        machine.ports = ports.compactMap(MachineConfiguration.PortForward.init(parsing:))
        var networkFolder: String?
        defer { if let networkFolder { try? FileManager.default.removeItem(atPath: networkFolder) } }
        switch network {
        case .none: machine.network = .none
        case .hostLoopback: machine.network = .hostLoopback
        case .private:
            // passt's socket in a folder only this user can enter (and QEMU, running as this user).
            do { networkFolder = try PrivateTemporary.directory(in: Passt.socketParent(preferred: scratch), prefix: "oci2disk-net") } catch {
                throw fail(target, error)
            }
            machine.network = .isolated(socket: (networkFolder ?? scratch) + "/passt.sock")
        }
        if network == .private && ports.isEmpty {
            // Without the mapping 10.0.2.2 is nobody on this network: the init makes it unreachable
            // (on the direct boot, whose command line this is) instead of letting it leave. With
            // -p it must stay reachable: Debian 12's passt presents every forwarded connection
            // (its clients are on the host's loopback) as coming from the gateway's address, and
            // the guest's answers go back there. The host's loopback stays out of reach either
            // way: passt maps nothing to it (--no-map-gw).
            machine.appendToCommandLine.append("oci2disk.unreachable=" + MachineConfiguration.gatewayAddress)
        }
        machine.extraArguments = qemuArguments
        var direct = BootFileCache.lookup(disk: disk, cacheDirectory: cache)
        if direct == nil {
            do {
                direct = isQCOW2 ? try BootFiles.extract(fromQCOW2: disk, into: scratch) : try BootFiles.extract(from: disk, into: scratch)
            } catch {
                throw fail(disk, error)
            }
            direct?.preferUncompressed(cacheDirectory: cache)
            direct = direct.map { BootFileCache.store($0, disk: disk, cacheDirectory: cache) }
        }
        defer { direct?.remove() }
        if let direct {
            machine.kvm = Accelerator.useKVM(
                kernel: direct.bzImage, cacheDirectory: cache, choice: environment["OCI2DISK_ACCEL"],
                searchPath: machine.searchPath)
            if !biosBoot {
                machine.direct = direct
                machine.appendToCommandLine += try Self.fastBootArguments(cpus: cpus)
            }
        }
        if !arguments.isEmpty {
            guard machine.direct != nil else { throw fail("", RunError.notABootDisk(disk: disk)) }
            machine.appendToCommandLine.append("oci2disk.args=" + arguments.map(PercentEncoding.encode).joined(separator: ","))
        }
        if verbose { machine.appendToCommandLine.append("ignore_loglevel") }

        let outcome: RunOutcome
        do {
            outcome = try VirtualMachine.run(machine, timeout: timeout, verbose: verbose) { bytes in
                FileHandle.standardOutput.write(Data(bytes))
            }
        } catch {
            throw fail(disk, error)
        }
        try finish(outcome, disk: disk)
    }

    /// Exits with the guest's status, or the documented code for how the run failed.
    private func finish(_ outcome: RunOutcome, disk: String) throws {
        let failure: RunError
        if let signal = outcome.signal {
            failure = .interrupted(signal: signal)
        } else if outcome.timedOut {
            failure = .timedOut(seconds: timeout ?? 0)
        } else if let status = outcome.status {
            if status == 125, outcome.recentOutput.contains(where: { $0.hasPrefix("oci2disk-init:") }) {
                failure = .initFailed
            } else {
                throw ExitCode(status)
            }
        } else if outcome.qemuExitCode != 0 && !outcome.qemuErrors.isEmpty {
            failure = .qemu(outcome.qemuErrors.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit \(outcome.qemuExitCode)")
        } else {
            failure = .noStatus(lastLines: outcome.recentOutput)
        }
        printError("error: \(disk): \(failure)")
        throw ExitCode(failure.exitCode)
    }

    /// A disk image (partition table or filesystem) rather than an image source.
    private func isDisk(_ path: String) throws -> Bool {
        guard !path.contains(":") || FileManager.default.fileExists(atPath: path) else { return false }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return false }
        if Self.isQCOW2(path) { return true }
        if try MBR.read(path: path) != nil { return true }
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber else { return false }
        return (try? BlockProbe(path: path, offset: 0, size: size.int64Value).filesystem()) != nil
    }
}

extension RunCommand {
    /// templates/run-cmdline.txt: kernel arguments that shorten a direct boot under emulation.
    static func fastBootArguments(cpus: Int) throws -> [String] {
        let text = try HostAssets.templates().render("run-cmdline.txt", ["one_cpu": cpus == 1 ? "acpi=noirq pci=nomsi" : ""])
        return text.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("#") }
            .flatMap { $0.split(separator: " ") }.map(String.init)
    }

    static func isQCOW2(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 4)) == Data([0x51, 0x46, 0x49, 0xFB])
    }
}

extension RunCommand {
    /// `run SOURCE`: the disk from the cache, converted first if it is not there. Ctrl-C during
    /// the conversion removes its temporary files, as `convert` does; the VM's own handling
    /// takes the signals over afterwards.
    static func convertedDisk(for source: String, platform: Platform, registry: RegistryOptions, in cache: String) throws -> String {
        try TemporaryFiles.shared.installSignalHandlers()
        defer { TemporaryFiles.shared.removeSignalHandlers() }
        return try SourceDiskCache(directory: cache).disk(
            for: try SourceReference(parsing: source), platform: platform, registry: registry,
            boot: HostAssets.bootOptions())
    }
}
