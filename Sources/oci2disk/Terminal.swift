import Foundation
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

/// Progress on standard error. On a terminal: a line per finished stage, the running one
/// rewritten in place. Elsewhere (CI logs, pipes): one plain line per finished stage, no
/// carriage returns or colours, as docker and podman print in CI. Every finished stage says how
/// long it took. `--quiet` and `--json` turn it off; errors and warnings are printed apart.
final class ProgressLine: @unchecked Sendable {
    let enabled: Bool
    private let interactive: Bool
    private let lock = NSLock()
    private let started = Date()
    /// When each layer started (layers are reported from the pipeline's thread).
    private var layerStarts: [Int: Date] = [:]

    init(enabled: Bool, interactive: Bool = isatty(STDERR_FILENO) != 0) {
        self.enabled = enabled
        self.interactive = interactive
    }

    /// The running stage: rewritten in place on a terminal, not printed elsewhere (its
    /// finished line follows).
    func update(_ text: String) {
        guard enabled, interactive else { return }
        writeStandardError("\r\u{1B}[K" + text)
    }

    /// Clears a running stage's line before something else is printed (a warning).
    func clear() { update("") }

    /// A layer's progress, the same for every command that reads an image.
    func layer(_ event: FlattenEvent) {
        switch event {
        case .layerStarted(let index, let count, _):
            lock.withLock { layerStarts[index] = Date() }
            update("layer    \(index + 1)/\(count) reading…")
        case .layerFinished(let index, let count, let compressed, let entries, let data):
            let started = lock.withLock { layerStarts.removeValue(forKey: index) }
            line(
                "layer    \(index + 1)/\(count) \(ByteSize.describe(compressed)) read, \(entries) entries, \(ByteSize.describe(data)) of data",
                seconds: started.map { Date().timeIntervalSince($0) })
        }
    }

    /// Seconds since this progress began (the command's start): what the first stage took.
    var elapsed: Double { Date().timeIntervalSince(started) }

    /// A finished stage, with how long it took when known.
    func line(_ text: String, seconds: Double? = nil) {
        guard enabled else { return }
        let timing = seconds.map { " (\(String(format: "%.2f", $0)) s)" } ?? ""
        writeStandardError((interactive ? "\r\u{1B}[K" : "") + text + timing + "\n")
    }
}
