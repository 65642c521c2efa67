import Foundation
import Synchronization
import SystemBase

/// `-`, `docker-archive:-` and `oci-archive:-`: an archive on standard input (`docker save app |
/// oci2disk convert - …`). A pipe can be read only once, and an archive's members are found by
/// reading it through (the index before the blobs it names, in any order), so the stream is
/// copied once into an unnamed file in the temporary folder; the archive reader then reads that
/// as it reads any archive file, by the descriptor's /proc path. Memory stays one buffer; the
/// file holds the archive's bytes and goes with the process, whatever way it ends.
enum StandardInput {
    /// What `-` stands for in a source.
    static let name = "-"
    /// How errors name it.
    static let displayName = "standard input"

    private static let spooled = Mutex<Result<String, SourceError>?>(nil)

    /// The path the copy is read through; the first call makes the copy.
    static func archivePath(temporaryDirectory: String = NSTemporaryDirectory()) throws(SourceError) -> String {
        let result = spooled.withLock { cached in
            if let cached { return cached }
            let made = Result { () throws(SourceError) in try spool(into: temporaryDirectory) }
            cached = made
            return made
        }
        return try result.get()
    }

    private static func spool(into directory: String) throws(SourceError) -> String {
        if isatty(STDIN_FILENO) == 1 {
            throw .io(path: displayName, reason: "is a terminal: pipe an archive in (docker save IMAGE | oci2disk convert - …)")
        }
        let file: OwnedDescriptor
        do { file = try OwnedDescriptor(anonymousFileIn: directory) } catch { throw .io(path: directory, reason: error.description) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        do {
            while true {
                let count = try buffer.withMutableSystemBytes { (bytes) throws(SystemError) in try FileIO.read(STDIN_FILENO, into: bytes, displayName) }
                if count == 0 { break }
                try FileIO.writeFully(file.raw, Array(buffer[..<count]), "\(directory): the copy of standard input")
                total += count
            }
        } catch {
            throw .io(path: displayName, reason: error.description)
        }
        guard total > 0 else { throw .io(path: displayName, reason: "empty: no archive was piped in") }
        // Kept open for the process's life: the path below names it.
        return "/proc/self/fd/\(file.release())"
    }
}
