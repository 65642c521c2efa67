import Disk
import ImagePipeline
import SystemBase
#if canImport(Glibc)
import Glibc
#endif

/// Writes straight to descriptor 2 (the C `stderr` global is not concurrency-safe).
func writeStandardError(_ text: String) {
    try? FileIO.writeFully(STDERR_FILENO, Array(text.utf8), "stderr")
}

func printError(_ line: String) {
    writeStandardError(line + "\n")
}

/// Progress on standard error when it is a terminal: a line per stage, the running stage
/// rewritten in place. Pipes and log files get only errors (one line each), so scripts and
/// CI can rely on standard error holding just the error; `--json` gives them the details.
struct ProgressLine {
    let enabled: Bool
    private let interactive = isatty(STDERR_FILENO) != 0

    init(enabled: Bool) { self.enabled = enabled && isatty(STDERR_FILENO) != 0 }

    /// A line that a later `update` or `line` replaces (terminals only).
    func update(_ text: String) {
        guard enabled, interactive else { return }
        writeStandardError("\r\u{1B}[K" + text)
    }

    /// A layer's progress, the same for every command that reads an image.
    func layer(_ event: FlattenEvent) {
        switch event {
        case .layerStarted(let index, let count, _):
            update("layer    \(index + 1)/\(count) reading…")
        case .layerFinished(let index, let count, let compressed, let entries, let data):
            line("layer    \(index + 1)/\(count) \(ByteSize.describe(compressed)) read, \(entries) entries, \(ByteSize.describe(data)) of data")
        }
    }

    /// A finished stage.
    func line(_ text: String) {
        guard enabled else { return }
        writeStandardError((interactive ? "\r\u{1B}[K" : "") + text + "\n")
    }
}
