/// A 16-byte filesystem UUID, in the byte order ext4 stores it (and prints it).
public struct UUID16: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else {
            return nil
        }
        self.bytes = bytes
    }

    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, any case; the dashes are optional.
    public init?(parsing text: String) {
        var bytes: [UInt8] = []
        var high: UInt8?
        for char in text.utf8 {
            if char == UInt8(ascii: "-") {
                continue
            }
            guard let digit = hexDigitValue(char) else {
                return nil
            }
            if let h = high {
                bytes.append(h << 4 | digit)
                high = nil
            } else {
                high = digit
            }
        }
        guard high == nil, bytes.count == 16 else {
            return nil
        }
        self.bytes = bytes
    }

    public var description: String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 {
                out.append(UInt8(ascii: "-"))
            }
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
