import Foundation

/// Text the tool fills in (bootloader configs, kernel command line). The texts live in the
/// repository's `templates/` folder, so they can be read and changed without touching code;
/// the command line embeds them in the binary and hands them in, with a folder that overrides
/// them for development (`OCI2DISK_TEMPLATES`). The library reads no environment itself.
public struct Templates: Sendable {
    /// The names the tool renders; every set must hold each of them.
    public static let names = ["cmdline.txt", "run-cmdline.txt", "syslinux.cfg"]

    /// File name → text.
    public let texts: [String: String]
    /// Where the texts came from, for error messages ("embedded", a folder).
    public let origin: String

    public init(texts: [String: String], origin: String) {
        self.texts = texts
        self.origin = origin
    }

    /// The templates in `directory` (each of `names` must be there and be UTF-8).
    public static func folder(_ directory: String) throws(BootError) -> Templates {
        var texts: [String: String] = [:]
        for name in names {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw .template("\(path): missing or not UTF-8 text")
            }
            texts[name] = text
        }
        return Templates(texts: texts, origin: directory)
    }

    /// `{{name}}` → value. Unknown placeholders are an error, so a typo cannot ship.
    public func render(_ name: String, _ values: [String: String]) throws(BootError) -> String {
        guard var text = texts[name] else { throw .template("\(name) not found in the templates (\(origin))") }
        for (key, value) in values { text = text.replacingOccurrences(of: "{{\(key)}}", with: value) }
        if let range = text.range(of: "{{") {
            throw .template("\(name): no value for \(text[range.lowerBound...].prefix(40))")
        }
        return text
    }
}
