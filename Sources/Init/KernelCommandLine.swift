import GuestContract
/// The parameters of /proc/cmdline that this init reads.
///
/// - `oci2disk.args=A,B,C`: replaces the config's `arg` lines; each argument percent-encoded,
///   arguments joined by `,` (so `a,,b` has an empty middle argument).
/// - `oci2disk.ip=ADDR/PREFIX[,GATEWAY]` or `oci2disk.ip=off`: eth0's address (default
///   10.0.2.15/24 via 10.0.2.2, QEMU user networking).
/// - `oci2disk.dns=A[,B]` or `oci2disk.dns=off`: name servers (default 10.0.2.3).
/// - `oci2disk.debug`: timestamped progress lines from this init; `oci2disk.debug=crash` also
///   makes it trap on purpose once the config is read (tests the crash handler's power-off).
struct KernelCommandLine: Equatable {
    /// Parameters in order: `key=value`, or a bare `key` (value nil). Quotes are removed.
    var parameters: [(key: String, value: String?)]

    init(_ text: String) {
        parameters = KernelCommandLine.split(text).map { word in
            guard let equals = word.firstIndex(of: "=") else {
                return (key: word, value: nil)
            }
            return (key: String(word[..<equals]), value: String(word[word.index(after: equals)...]))
        }
    }

    static func == (lhs: KernelCommandLine, rhs: KernelCommandLine) -> Bool {
        lhs.parameters.elementsEqual(rhs.parameters) { $0.key == $1.key && $0.value == $1.value }
    }

    /// The last occurrence wins, as the kernel does for its own parameters.
    func value(of key: String) -> String? {
        parameters.last { $0.key == key }?.value ?? nil
    }

    func has(_ key: String) -> Bool {
        parameters.contains { $0.key == key }
    }

    /// `oci2disk.args=`, decoded; nil when absent.
    func commandArguments() throws(InitError) -> [String]? {
        guard has("oci2disk.args") else {
            return nil
        }
        let raw = value(of: "oci2disk.args") ?? ""
        if raw.isEmpty {
            return []
        }
        var arguments: [String] = []
        for (index, part) in raw.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            do {
                arguments.append(try PercentEncoding.decode(part))
            } catch {
                throw .badCommandLine(parameter: "oci2disk.args", reason: "argument \(index + 1): \(error)")
            }
        }
        return arguments
    }

    var debug: Bool {
        has("oci2disk.debug") && value(of: "oci2disk.debug") != "0"
    }

    var crashTest: Bool {
        value(of: "oci2disk.debug") == "crash"
    }

    /// Words separated by spaces; double quotes group a word and are dropped (kernel rules).
    static func split(_ text: String) -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        var inWord = false
        var quoted = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") {
                quoted.toggle()
                inWord = true
            } else if !quoted && (byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0) {
                if inWord {
                    words.append(String(decoding: current, as: UTF8.self))
                    current.removeAll(keepingCapacity: true)
                    inWord = false
                }
            } else {
                current.append(byte)
                inWord = true
            }
        }
        if inWord {
            words.append(String(decoding: current, as: UTF8.self))
        }
        return words
    }
}
