import ArgumentParser
import Boot
import Foundation

/// `oci2disk fetch-kernel`: the default kernel for an installed tool, which has no
/// scripts/setup. Debian's cloud kernel package through the host's apt, into the cache folder
/// convert takes its default kernel from.
struct FetchKernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch-kernel",
        abstract: "Download Debian's cloud kernel package (apt-get download) into the cache convert takes its default kernel from.",
        discussion: """
            Works on Debian hosts (apt must know the package: run apt-get update first). The package \
            is downloaded, not installed. Elsewhere give convert --kernel-package DEB or --kernel-image SOURCE.
            """)

    @Option(help: ArgumentHelp("The kernel package, or a metapackage that names one.", valueName: "name"))
    var package = KernelDownload.defaultMetapackage

    @OptionGroup var outputOptions: OutputOptions

    struct Report: Encodable {
        let path: String
        let downloaded: Bool
    }

    func run() throws {
        let result: KernelDownload.Result
        do {
            result = try KernelDownload.fetch(package, into: HostAssets.kernelDirectory, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw fail(package, error)
        }
        if outputOptions.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(Report(path: result.path, downloaded: result.downloaded)), as: UTF8.self))
        } else if !outputOptions.quiet {
            print(result.path)
            printError(result.downloaded ? "kernel   downloaded \(result.path)" : "kernel   \(result.path) is already there")
        }
    }
}
