import Foundation

/// Text the tool fills in (bootloader configs, kernel command line), kept in the
/// repository's `templates/` folder so it can be read and changed without touching code.
public enum Templates {
    /// `{{name}}` → value. Unknown placeholders are an error, so a typo cannot ship.
    public static func render(_ name: String, _ values: [String: String]) throws -> String {
        var text = try load(name)
        for (key, value) in values { text = text.replacingOccurrences(of: "{{\(key)}}", with: value) }
        if let range = text.range(of: "{{") {
            throw BootError.template("\(name): no value for \(text[range.lowerBound...].prefix(40))")
        }
        return text
    }

    /// Looks in $OCI2DISK_TEMPLATES, then `share/oci2disk/templates` beside the installed
    /// binary, then the source tree this binary was built from.
    static func load(_ name: String) throws -> String {
        for directory in searchPath() {
            let path = directory + "/" + name
            if let text = try? String(contentsOfFile: path, encoding: .utf8) { return text }
        }
        throw BootError.template("\(name) not found (looked in \(searchPath().joined(separator: ", ")); set OCI2DISK_TEMPLATES)")
    }

    static func searchPath() -> [String] {
        var paths: [String] = []
        if let env = ProcessInfo.processInfo.environment["OCI2DISK_TEMPLATES"], !env.isEmpty { paths.append(env) }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        paths.append(executable.appendingPathComponent("../share/oci2disk/templates").standardized.path)
        paths.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../templates").standardized.path)
        return paths
    }
}
