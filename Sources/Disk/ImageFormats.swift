import Foundation

/// Disk formats oci2disk does not write itself, made from the raw disk by `qemu-img convert`.
public enum ImageFormats {
    /// Returns the output's size.
    public static func convert(raw: String, to path: String, format: String) throws -> Int64 {
        guard let qemuImg = ["/usr/bin/qemu-img", "/bin/qemu-img"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw DiskError.io("--format \(format) needs qemu-img: install Debian's qemu-utils")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: qemuImg)
        var arguments = ["convert", "-q", "-f", "raw", "-O", format]
        // Fixed-size subformat choices keep the output reproducible and widely readable.
        if format == "vmdk" { arguments += ["-o", "subformat=monolithicSparse"] }
        process.arguments = arguments + [raw, path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw DiskError.io("qemu-img convert to \(format) failed: \(message.split(whereSeparator: \.isNewline).first ?? "")")
        }
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        return size
    }
}
