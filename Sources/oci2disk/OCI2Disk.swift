import ArgumentParser
import Disk

@main
struct OCI2Disk: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oci2disk",
        abstract: "Turn a container image into a bootable virtual-machine disk.",
        version: HostAssets.versionText,
        subcommands: [ConvertCommand.self, RunCommand.self, BundleCommand.self, InspectCommand.self, FetchKernelCommand.self])
}

/// Options every command takes.
struct OutputOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    @Flag(help: "Print the result as one JSON object on standard output.")
    var json = false
}

/// Prints `error: <context>: <message>` as one line and exits 1.
func fail(_ context: String, _ error: any Error) -> ExitCode {
    let message = String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
    printError(context.isEmpty ? "error: \(message)" : "error: \(context): \(message)")
    return ExitCode.failure
}
