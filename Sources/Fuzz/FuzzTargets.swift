import Archive
import Boot
import Disk
import Ext4
import Flatten
import Foundation
import ImageSource
import LinuxKernel
import OCIModels
import Provision

/// The parsers that read what an image, a disk or a registry hands over, each as a function
/// of arbitrary bytes. Built with `-sanitize=fuzzer,address` (scripts/fuzz) they
/// are libFuzzer targets, chosen by `OCI2DISK_FUZZ_TARGET`; built plainly, this executable
/// replays files (a corpus, or the regression inputs in Tests/FuzzInputs) through them.
/// A target may throw (bad input is expected); it must not crash, trap or leak.
enum FuzzTargets {
    static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "layer": layer,
        "oci-json": ociJSON,
        "registry-auth": registryAuth,
        "mbr": { _ = MBR.decode($0) },
        "qcow2": { _ = try? QCOW2References.parse($0, path: "fuzz") },
        "fat-listing": fatListing,
        "kernel": kernel,
        "ext4": { withFile($0) { path in _ = try? Ext4Reader(path: path, offset: 0).count() } },
        "deb": { withFile($0) { path in _ = try? KernelPackage.read(path, platform: .linuxAMD64, scratchDirectory: scratch) } },
        "accounts": accounts
    ]

    static let scratch = NSTemporaryDirectory()

    /// Tar bytes (any compression) applied as one layer, then walked as the ext4 writer walks.
    static func layer(_ bytes: [UInt8]) {
        guard let spill = try? SpillFile(directory: scratch) else { return }
        let tree = FileTree(defaultTime: 0)
        let applier = LayerApplier(tree: tree, spill: spill)
        applier.beginLayer(0)
        guard let reader = try? ArchiveReader(source: MemorySource(bytes), format: .tar, filter: .detect, name: "fuzz") else { return }
        var entries = 0
        while entries < 10_000, let entry = try? reader.next() {
            entries += 1
            guard (try? applier.apply(entry, data: reader)) != nil else { break }
        }
        tree.walk { _, _ in }
        _ = Ext4Requirements(tree: tree)
    }

    /// An image's /etc/passwd, /etc/shadow, /etc/group and /etc/login.defs (the input split at
    /// NUL bytes), given a root password, a new login user and a key, as `convert` would.
    static func accounts(_ bytes: [UInt8]) {
        guard let spill = try? SpillFile(directory: scratch) else { return }
        let tree = FileTree(defaultTime: 0)
        let applier = LayerApplier(tree: tree, spill: spill)
        applier.beginLayer(0)
        let parts = bytes.split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false)
        for (name, part) in zip(["etc/passwd", "etc/shadow", "etc/group", "etc/login.defs"], parts) {
            let entry = ArchiveEntry(path: Array(name.utf8), kind: .regular, size: Int64(part.count))
            guard (try? applier.apply(entry, data: MemoryEntryData(Array(part)))) != nil else { return }
        }
        var options = LoginOptions()
        options.rootPasswordHash = "$6$saltsalt$8RWsOfwR6M6PpnoeQiEiWzNTPo1f0HjVYjDnLZhGx16aBFRkeqiHAzfXP/LgrOWMBMXqiU2pLrXsSOHNUyUm91"
        options.loginUser = "app"
        options.authorizedKeyFiles = [keyFile]
        try? LoginProvisioner.apply(options, to: tree, spill: spill, layer: 1, time: 0) { _ in [UInt8](repeating: 1, count: 16) }
    }

    static let keyFile: String = {
        let path = scratch + "/oci2disk-fuzz-key.pub"
        _ = FileManager.default.createFile(atPath: path, contents: Data("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMvS4d fuzz\n".utf8))
        return path
    }()

    /// Every JSON document an image holds: index, manifest, config, Docker's manifest.json.
    static func ociJSON(_ bytes: [UInt8]) {
        let data = Data(bytes)
        let decoder = JSONDecoder()
        _ = try? decoder.decode(Index.self, from: data)
        _ = try? decoder.decode(Manifest.self, from: data)
        _ = try? decoder.decode(ImageConfig.self, from: data)
        _ = try? decoder.decode([DockerArchive.Entry].self, from: data)
        if let text = String(validating: bytes, as: UTF8.self) {
            _ = try? Digest(parsing: text)
            _ = try? Platform(parsing: text)
            _ = try? RegistryReference(parsing: text)
        }
    }

    /// `WWW-Authenticate` values, and a token service's answer.
    static func registryAuth(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = AuthChallenge.parse(text)
        _ = TokenAnswer.token(in: bytes)
    }

    static func fatListing(_ bytes: [UInt8]) {
        for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            _ = FATPartition.listingEntry(String(line))
        }
    }

    static func kernel(_ bytes: [UInt8]) {
        _ = try? KernelImage(bytes)
        _ = try? KernelPayload.uncompressed(bytes)
        _ = KernelPayload.hasPVHEntry(bytes)
        _ = KernelModules.modinfo(bytes)
    }

    /// Some parsers take a file: the bytes go to a private one, removed afterwards.
    static func withFile(_ bytes: [UInt8], _ body: (String) -> Void) {
        guard let path = try? PrivateTemporary.file(in: scratch, prefix: "oci2disk-fuzz") else { return }
        defer { unlink(path) }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
        body(path)
    }
}

#if FUZZING
/// libFuzzer's entry: one input, through the target named in the environment.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selectedTarget(bytes)
    return 0
}

private let selectedTarget: @Sendable ([UInt8]) -> Void = {
    let name = ProcessInfo.processInfo.environment["OCI2DISK_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargets.all[name] else {
        FileHandle.standardError.write(Data("OCI2DISK_FUZZ_TARGET must be one of \(FuzzTargets.all.keys.sorted())\n".utf8))
        exit(2)
    }
    return target
}()
#else
/// `oci2disk-fuzz TARGET FILE…`: replays inputs (no fuzzing); `--list` names the targets.
@main
struct ReplayInputs {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--list" {
            print(FuzzTargets.all.keys.sorted().joined(separator: "\n"))
            return
        }
        guard let name = arguments.first, let target = FuzzTargets.all[name] else {
            FileHandle.standardError.write(Data("usage: oci2disk-fuzz TARGET FILE… (targets: \(FuzzTargets.all.keys.sorted()))\n".utf8))
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("\(path): cannot read\n".utf8))
                exit(1)
            }
            target([UInt8](data))
        }
        print("\(name): \(arguments.count - 1) inputs replayed")
    }
}
#endif
