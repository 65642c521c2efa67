import SystemBase
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Temporary files and folders in shared places (`$TMPDIR`, an output folder): names nobody can
/// guess, created exclusively (mkstemp: O_CREAT|O_EXCL, mode 0600; mkdtemp: mode 0700), so a
/// planted symlink or a pre-made file can never be written through or read by others.
public enum PrivateTemporary {
    public static func file(in directory: String, prefix: String) throws(DiskError) -> String {
        var template = Array("\(directory)/\(prefix)-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .system(.lastError("\(directory): cannot create a temporary file")) }
        close(fd)
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    public static func directory(in directory: String, prefix: String) throws(DiskError) -> String {
        var template = Array("\(directory)/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw .system(.lastError("\(directory): cannot create a temporary folder")) }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
