/// Reads the guest's serial console line by line: finds the init's status line, and (unless
/// verbose) drops firmware and bootloader chatter so the user sees the program's output.
public struct ConsoleFilter {
    public private(set) var exitStatus: Int32?
    public private(set) var recent: [String] = []
    private let verbose: Bool
    private var pending: [UInt8] = []
    /// A blank line held back: the init writes one before its status line (so the status starts
    /// a line even after output without a final newline); it is dropped with the status.
    private var heldBlank: [UInt8]?

    public init(verbose: Bool) { self.verbose = verbose }

    static let maxLine = 4096

    /// Feeds console bytes; returns what to show.
    public mutating func feed(_ bytes: [UInt8]) -> [UInt8] {
        pending += bytes
        var shown: [UInt8] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = Array(pending[...newline])
            pending.removeSubrange(...newline)
            shown += handle(line)
        }
        // A prompt (`login: `, `Password: `, a shell's `# `) waits for input with no newline
        // after it: shown as soon as it arrives, or nobody could answer it.
        if !pending.isEmpty, Self.isPrompt(pending) {
            shown += (heldBlank ?? []) + pending
            heldBlank = nil
            pending = []
        }
        // Output without newlines (progress bars, binary data) passes straight through rather
        // than waiting, and buffering, forever.
        if pending.count > Self.maxLine {
            shown += (heldBlank ?? []) + pending
            heldBlank = nil
            pending = []
        }
        return shown
    }

    /// What is left when the console closes.
    public mutating func finish() -> [UInt8] {
        defer { pending = [] }
        let rest = pending.isEmpty ? [] : handle(pending)
        let blank = heldBlank ?? []
        heldBlank = nil
        return blank + rest
    }

    private mutating func handle(_ line: [UInt8]) -> [UInt8] {
        var text = String(decoding: line, as: UTF8.self)
        text = text.replacingOccurrences(of: "\r", with: "")
        let plain = Self.stripEscapes(text).trimming("\n")
        if let status = Self.status(in: plain) {
            exitStatus = status
            heldBlank = nil
            return verbose ? Array(line) : []
        }
        var shown = heldBlank ?? []
        heldBlank = nil
        if plain.isEmpty && !verbose {
            heldBlank = Array(text.utf8)
            return shown
        }
        if !plain.isEmpty {
            recent.append(plain)
            if recent.count > 5 { recent.removeFirst() }
        }
        if verbose { return shown + Array(line) }
        // A blank line before firmware or kernel chatter goes with it.
        if Self.isNoise(plain) { return [] }
        shown += Array(text.utf8)
        return shown
    }

    /// The end of a line that asks for input: `…: `, `…# `, `…$ `, `…> `, `…? `. Never the
    /// start of the init's status line or of a kernel message, which must reach `handle` whole.
    static func isPrompt(_ bytes: [UInt8]) -> Bool {
        let plain = stripEscapes(String(decoding: bytes, as: UTF8.self)).replacingOccurrences(of: "\r", with: "")
        guard plain.count >= 2, plain.last == " ", let mark = plain.dropLast().last, ":#$>?".contains(mark) else { return false }
        let trimmed = plain.trimming(" ")
        return !trimmed.hasPrefix("oci2disk") && !trimmed.hasPrefix("[")
    }

    /// `oci2disk: exit status N`, written by the guest init when the program ends.
    static func status(in line: String) -> Int32? {
        let prefix = "oci2disk: exit status "
        guard line.hasPrefix(prefix), let status = Int32(line.dropFirst(prefix.count).trimming(" ")), (0...255).contains(status) else { return nil }
        return status
    }

    /// Firmware, bootloader and kernel lines a user running a container does not want.
    static func isNoise(_ line: String) -> Bool {
        let prefixes = ["SeaBIOS", "iPXE", "Press Ctrl-B", "Booting from", "SYSLINUX ", "oci2disk: loading kernel"]
        let trimmed = line.trimming(" ")
        return prefixes.contains { trimmed.hasPrefix($0) } || isKernelMessage(trimmed)
    }

    /// `[    1.234567] text`: a kernel log line printed on the console.
    static func isKernelMessage(_ line: String) -> Bool {
        guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return false }
        let stamp = line[line.index(after: line.startIndex)..<close].trimming(" ")
        let parts = stamp.split(separator: ".")
        return parts.count == 2 && parts.allSatisfy { part in !part.isEmpty && part.allSatisfy { $0.isNumber } }
    }

    /// Removes ANSI/VT100 escape sequences (cursor moves, colours) that firmware prints.
    static func stripEscapes(_ text: String) -> String {
        var result = ""
        var iterator = text.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            if scalar == "\u{1B}" {
                guard let next = iterator.next() else { break }
                if next == "[" {
                    while let c = iterator.next(), !(c.value >= 0x40 && c.value <= 0x7E) {}
                }
                continue
            }
            if scalar == "\u{0C}" || scalar == "\u{07}" { continue }
            result.unicodeScalars.append(scalar)
        }
        return result
    }
}

extension StringProtocol {
    func trimming(_ character: Character) -> String {
        var slice = Substring(self)
        while slice.first == character { slice.removeFirst() }
        while slice.last == character { slice.removeLast() }
        return String(slice)
    }
}
