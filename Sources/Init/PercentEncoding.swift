/// Percent-decoding for config values and kernel command line arguments: `%XX` (hex, any case)
/// is the byte XX; everything else stands for itself. The result must be UTF-8 without NUL,
/// because it ends up in C strings (argv, environment, paths).
enum PercentEncoding {
    enum Failure: Error, Equatable {
        case truncatedEscape
        case badHexDigit
        case nulByte
        case invalidUTF8
    }

    static func decode(_ text: Substring) throws(Failure) -> String {
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

    static func decode(_ text: String) throws(Failure) -> String {
        try decode(text[...])
    }
}

extension PercentEncoding.Failure: CustomStringConvertible {
    var description: String {
        switch self {
        case .truncatedEscape: return "a % escape needs two hex digits"
        case .badHexDigit: return "a % escape has a non-hex digit"
        case .nulByte: return "%00 is not allowed"
        case .invalidUTF8: return "not valid UTF-8 after percent-decoding"
        }
    }
}
