/// Percent-encoding for config values and kernel command line arguments: `%XX` (hex, any case)
/// is the byte XX; everything else stands for itself. A decoded value must be UTF-8 without
/// NUL, because it ends up in C strings (argv, environment, paths).
public enum PercentEncoding {
    public enum Failure: Error, Equatable, Sendable {
        case truncatedEscape
        case badHexDigit
        case nulByte
        case invalidUTF8
    }

    public static func decode(_ text: Substring) throws(Failure) -> String {
        guard text.contains("%") else {
            return String(text)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next() else {
                throw .truncatedEscape
            }
            guard let h = hexDigitValue(high), let l = hexDigitValue(low) else {
                throw .badHexDigit
            }
            let decoded = h << 4 | l
            if decoded == 0 {
                throw .nulByte
            }
            bytes.append(decoded)
        }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw .invalidUTF8
        }
        return string
    }

    public static func decode(_ text: String) throws(Failure) -> String {
        try decode(text[...])
    }

    /// Encodes everything but printable ASCII other than `%` and `,` (the separator of
    /// `oci2disk.args=`), so that a value is one space-free word.
    public static func encode(_ text: String) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var result: [UInt8] = []
        for byte in text.utf8 {
            if byte >= 0x21 && byte <= 0x7E && byte != UInt8(ascii: "%") && byte != UInt8(ascii: ",") {
                result.append(byte)
            } else {
                result += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
            }
        }
        return String(decoding: result, as: UTF8.self)
    }
}

extension PercentEncoding.Failure: CustomStringConvertible {
    public var description: String {
        switch self {
        case .truncatedEscape: return "a % escape needs two hex digits"
        case .badHexDigit: return "a % escape has a non-hex digit"
        case .nulByte: return "%00 is not allowed"
        case .invalidUTF8: return "not valid UTF-8 after percent-decoding"
        }
    }
}
