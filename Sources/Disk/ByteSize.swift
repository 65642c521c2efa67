/// Sizes as users write them: `4G`, `512M`, `100MiB`, `1048576` (binary units).
public enum ByteSize {
    public static let mebibyte: Int64 = 1 << 20

    public static func parse(_ text: String) -> Int64? {
        var digits = Substring(text.trimmingCharacters(in: " "))
        var unit: Int64 = 1
        for suffix in ["iB", "B"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits = digits.dropLast(suffix.count)
            break
        }
        if let last = digits.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4][String(last).uppercased()] {
            unit = Int64(1) << (10 * power)
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber), let value = Int64(digits) else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow ? nil : product
    }

    /// `1.5 GiB`-style text for messages.
    public static func describe(_ bytes: Int64) -> String {
        if bytes >= 1 << 30 { return String(format1(Double(bytes) / Double(1 << 30))) + " GiB" }
        if bytes >= 1 << 20 { return String(format1(Double(bytes) / Double(1 << 20))) + " MiB" }
        if bytes >= 1 << 10 { return String(format1(Double(bytes) / Double(1 << 10))) + " KiB" }
        return "\(bytes) B"
    }

    private static func format1(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(tenths % 10)"
    }

    public static func roundUp(_ value: Int64, to multiple: Int64) -> Int64 {
        (value + multiple - 1) / multiple * multiple
    }
}

private extension String {
    func trimmingCharacters(in set: Character) -> String {
        String(drop(while: { $0 == set }).reversed().drop(while: { $0 == set }).reversed())
    }
}
