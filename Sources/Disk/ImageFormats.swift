import SystemBase
import Foundation

/// Disk formats oci2disk does not write itself, made from the raw disk by `qemu-img convert`,
/// and read back (for `inspect`) the same way.
public enum ImageFormats {
    /// Returns the output's size.
    public static func convert(raw: String, to path: String, format: String) throws -> Int64 {
        let qemuImg = try tool(for: "--format \(format)")
        var arguments = ["convert", "-q", "-f", "raw", "-O", format]
        // Fixed-size subformat choices keep the output reproducible and widely readable.
        if format == "vmdk" { arguments += ["-o", "subformat=monolithicSparse"] }
        let result = try ChildProcess.collect(qemuImg, arguments + [raw, path])
        guard result.status == 0 else { throw DiskError.toolFailed(tool: "qemu-img convert to \(format)", message: result.errorLine) }
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        return size
    }

    /// The whole disk as a sparse raw file at `output`, through `qemu-img convert` (which reads
    /// every variant of these formats); the format is given, never probed.
    public static func expand(_ path: String, format: DiskImageFormat, to output: String) throws {
        let qemuImg = try tool(for: "\(path): reading a \(format.rawValue) disk")
        let result = try ChildProcess.collect(qemuImg, ["convert", "-q", "-f", format.rawValue, "-O", "raw", path, output])
        guard result.status == 0 else {
            throw DiskError.invalidDisk(path: path, reason: "qemu-img could not read it as \(format.rawValue): \(result.errorLine)")
        }
    }

    /// qemu-img's path; `purpose` says in the error what needed it.
    private static func tool(for purpose: String) throws -> String {
        guard let path = Executable.find("qemu-img", in: Executable.system) else {
            throw DiskError.toolMissing(tool: "qemu-img", package: "qemu-utils", neededFor: purpose)
        }
        return path
    }
}
