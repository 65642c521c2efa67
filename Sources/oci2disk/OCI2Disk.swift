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
    let message = oneLine(String(describing: error))
    printError(context.isEmpty ? "error: \(message)" : "error: \(oneLine(context)): \(message)")
    return ExitCode.failure
}

/// Text as one line of a log: line breaks and other control characters shown escaped, so a
/// name the user typed (or an image holds) cannot add lines or rewrite the terminal.
func oneLine(_ text: String) -> String {
    var line = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n", "\r": line += " "
        case _ where scalar.value < 0x20 || scalar.value == 0x7F: line += String(format: "\\x%02x", scalar.value)
        default: line.unicodeScalars.append(scalar)
        }
    }
    return line
}
