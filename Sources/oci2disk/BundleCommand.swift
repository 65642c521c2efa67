import ImagePipeline
import SystemBase
import ArgumentParser
import Bundle
import Disk
import Foundation
import ImageSource
import OCIModels

struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Write a container image as an OCI runtime bundle (config.json and rootfs/) for runc.",
        discussion: """
            SOURCE is oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], \
            docker://HOST[:PORT]/REPO[:TAG|@DIGEST] or a path to any of these. rootfs/ holds exactly the image's files; config.json is \
            what `runc spec` writes with the image's command, environment, working directory, user \
            and annotations. Run it with `runc run -b DIR NAME`.
            """)

    @Argument(help: "The image to write.")
    var source: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The bundle directory to create.", valueName: "dir"))
    var output: String

    @Option(help: ArgumentHelp("The platform to pick from a multi-platform image.", valueName: "os/arch[/variant]"))
    var platform = "linux/amd64"

    @Flag(help: "For an unprivileged user: no chown, device files skipped, a user namespace mapping you to root in config.json.")
    var rootless = false

    @Flag(help: "Replace DIR if it exists and is not empty.")
    var force = false

    @OptionGroup(title: "Process") var settings: RunSettingsArguments

    @OptionGroup(title: "Registry") var registryOptions: RegistryArguments

    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
        if (try? Platform(parsing: platform)) == nil { throw ValidationError("--platform must be os/arch[/variant], e.g. linux/arm64.") }
    }

    func run() throws {
        let cancellation = Cancellation()
        let handlers = try Self.installSignalHandlers(cancellation)
        defer { handlers.cancel() }
        let progress = ProgressLine(enabled: !outputOptions.quiet && !outputOptions.json)
        let sourceDateEpoch = try SourceDateEpoch.fromEnvironment()
        do {
            var options = BundleOptions(source: try SourceReference(parsing: source), output: output)
            options.platform = try Platform(parsing: platform)
            options.force = force
            options.rootless = rootless
            options.registry = registryOptions.options()
            options.sourceDateEpoch = sourceDateEpoch
            options.overrides = try settings.overrides()
            let result = try Bundler.run(options, cancellation: cancellation) { event in report(event, progress) }
            if !outputOptions.quiet {
                for note in result.notes where !outputOptions.json { printError("note: \(note)") }
            }
            if outputOptions.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            }
        } catch BundleError.interrupted(let signal) {
            throw ExitCode(128 + signal)
        } catch {
            throw fail(source, error)
        }
    }

    /// Ctrl-C and friends: exit at once while nothing is on disk yet; once the bundle folder
    /// is being written, let the writer stop and remove it (exit 128+signal either way).
    private static func installSignalHandlers(_ cancellation: Cancellation) throws -> StopSignals {
        try StopSignals { signalNumber in
            if !cancellation.stop(signal: signalNumber) { Foundation.exit(128 + signalNumber) }
        }
    }

    private func report(_ event: BundleEvent, _ progress: ProgressLine) {
        switch event {
        case .resolved(let manifest, let platform, let layers):
            progress.line("image    \(manifest) \(platform), \(layers) layer\(layers == 1 ? "" : "s")", seconds: progress.elapsed)
        case .layer(let event):
            progress.layer(event)
        case .writingRootfs:
            progress.update("rootfs   writing…")
        case .finished(let result):
            progress.line("rootfs   \(result.files) files, \(result.directories) directories, \(ByteSize.describe(result.dataBytes)) of data")
            progress.line("bundle   \(result.output)\(result.rootless ? " (rootless)" : "") in \(String(format: "%.2f", result.seconds)) s")
        }
    }
}
