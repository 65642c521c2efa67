import ImagePipeline
import ArgumentParser
import Boot
import Convert
import Disk
import Foundation
import ImageSource
import OCIModels

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write a container image as a disk with an ext4 root filesystem.",
        discussion: """
            SOURCE is oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], \
            docker://HOST[:PORT]/REPO[:TAG|@DIGEST] or a path to any of these. The root filesystem holds exactly the image's files.
            """)

    @Argument(help: "The image to convert.")
    var source: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The disk to write.", valueName: "disk"))
    var output: String

    @Option(help: ArgumentHelp("The platform to pick from a multi-platform image.", valueName: "os/arch[/variant]"))
    var platform = "linux/amd64"

    @Option(help: ArgumentHelp("Size of the whole output (e.g. 4G), or auto for the content plus headroom.", valueName: "size"))
    var size = "auto"

    @Option(help: ArgumentHelp("Headroom added to an auto size (default: 25% of the content or 256M, whichever is larger).", valueName: "size"))
    var extraSpace: String?

    @Option(help: "Output format: raw (MBR disk), qcow2, ext4 (the bare filesystem), vmdk, vhdx or vdi (default: from the output's extension, else raw).")
    var format: ConvertOptions.Format?

    @Option(
        name: .customLong("containerdisk"),
        help: ArgumentHelp(
            "Also write the disk as a KubeVirt containerDisk image (qcow2 at /disk/, owned 107:107) into this OCI layout.", valueName: "oci:dir[:tag]"))
    var containerDisk: String?

    @Option(help: "Label of the root filesystem.")
    var label = "root"

    @Option(name: .customLong("fs-uuid"), help: ArgumentHelp("UUID of the root filesystem (default: derived from the image).", valueName: "uuid"))
    var filesystemUUID: String?

    @OptionGroup(title: "Boot") var bootOptions: BootArguments

    @OptionGroup(title: "Login and first boot") var loginOptions: LoginArguments

    @OptionGroup(title: "Registry") var registryOptions: RegistryArguments

    @OptionGroup var outputOptions: OutputOptions

    private var resolvedFormat: ConvertOptions.Format { format ?? ConvertOptions.Format.from(path: output) }

    func validate() throws {
        if size != "auto", ByteSize.parse(size) == nil { throw ValidationError("--size must be auto or a size like 4G, 512M.") }
        if let extraSpace, ByteSize.parse(extraSpace) == nil { throw ValidationError("--extra-space must be a size like 512M.") }
        if label.utf8.count > 16 { throw ValidationError("--label must be at most 16 bytes.") }
        if let filesystemUUID, StableIdentifiers.parse(filesystemUUID) == nil {
            throw ValidationError("--fs-uuid must look like 01234567-89ab-cdef-0123-456789abcdef.")
        }
        if (try? Platform(parsing: platform)) == nil { throw ValidationError("--platform must be os/arch[/variant], e.g. linux/arm64.") }
        try bootOptions.validate()
        try loginOptions.validate()
        if resolvedFormat == .ext4 && loginOptions.cloudInit != nil {
            throw ValidationError("--cloud-init adds a partition: it needs a disk, not --format ext4.")
        }
        if resolvedFormat == .ext4 && bootOptions.requestsBoot {
            throw ValidationError("--format ext4 writes a bare filesystem: kernel and init options need --format raw.")
        }
    }

    func run() throws {
        try TemporaryFiles.shared.installSignalHandlers()
        let progress = ProgressLine(enabled: !outputOptions.quiet && !outputOptions.json)
        let sourceDateEpoch = try SourceDateEpoch.fromEnvironment()
        do {
            var options = ConvertOptions(source: try SourceReference(parsing: source), output: output)
            options.platform = try Platform(parsing: platform)
            options.size = size == "auto" ? .auto : .bytes(ByteSize.parse(size)!)
            options.extraSpace = extraSpace.flatMap(ByteSize.parse)
            options.format = resolvedFormat
            options.containerDisk = containerDisk
            options.label = label
            options.filesystemUUID = filesystemUUID.flatMap(StableIdentifiers.parse)
            options.boot = try bootOptions.options()
            options.login = loginOptions.options
            options.cloudInit = loginOptions.cloudInit
            options.registry = registryOptions.options()
            options.sourceDateEpoch = sourceDateEpoch
            let result = try Converter.run(options) { event in report(event, progress) }
            if outputOptions.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            }
        } catch {
            throw fail(source, error)
        }
    }

    private func report(_ event: ConvertEvent, _ progress: ProgressLine) {
        switch event {
        case .resolved(let manifest, let platform, let layers):
            progress.line("image    \(manifest) \(platform), \(layers) layer\(layers == 1 ? "" : "s")", seconds: progress.elapsed)
        case .layer(let event):
            progress.layer(event)
        case .warning(let text):
            // Warnings reach logs too (not only terminals); --quiet leaves only errors.
            if !outputOptions.quiet {
                progress.clear()
                printError("warning: \(source): \(text)")
            }
        case .writingFilesystem(let bytes, let entries):
            progress.update("ext4     writing \(entries) files into \(ByteSize.describe(bytes))…")
        case .step(let step, let seconds):
            switch step {
            case .bootFiles(let mode, let kernel): progress.line("boot     \(mode) mode, kernel \(kernel), initramfs built", seconds: seconds)
            case .filesystem(let entries, let used, let size, let uuid):
                progress.line(
                    "ext4     \(entries) files, \(ByteSize.describe(used)) used of \(ByteSize.describe(size)), UUID \(uuid)", seconds: seconds)
            case .partitions(let boot, let seed):
                let parts = (boot ? ["boot partition", "SYSLINUX on the MBR"] : []) + (seed ? ["cloud-init seed"] : []) + ["partition table"]
                progress.line("disk     \(parts.joined(separator: ", "))", seconds: seconds)
            case .format(let format): progress.line("\(format.padding(toLength: 8, withPad: " ", startingAt: 0)) packed", seconds: seconds)
            case .containerDisk(let layout): progress.line("kubevirt containerDisk written to \(layout)", seconds: seconds)
            }
        case .finished(let result):
            progress.line("disk     \(result.output) (\(result.format), \(ByteSize.describe(result.size))) in \(String(format: "%.2f", result.seconds)) s")
        }
    }
}

extension ConvertOptions.Format: ExpressibleByArgument {}
