import Foundation

/// Disk formats oci2disk does not write itself, made from the raw disk by `qemu-img convert`.
public enum ImageFormats {
    /// Returns the output's size.
    public static func convert(raw: String, to path: String, format: String) throws -> Int64 {
        guard let qemuImg = ["/usr/bin/qemu-img", "/bin/qemu-img"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw DiskError.io("--format \(format) needs qemu-img: install Debian's qemu-utils")
        }
        var arguments = ["convert", "-q", "-f", "raw", "-O", format]
        // Fixed-size subformat choices keep the output reproducible and widely readable.
        if format == "vmdk" { arguments += ["-o", "subformat=monolithicSparse"] }
        let result = try ToolProcess.run(qemuImg, arguments + [raw, path], environment: ProcessInfo.processInfo.environment)
        guard result.status == 0 else { throw DiskError.io("qemu-img convert to \(format) failed: \(result.errorLine)") }
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        return size
    }
}
