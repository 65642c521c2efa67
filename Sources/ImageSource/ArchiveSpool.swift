import Foundation
import Synchronization
import SystemBase

/// An archive that arrives as a stream (standard input, a daemon's answer), copied once into
/// an unnamed file in the temporary folder and read from there, by the descriptor's /proc path,
/// as any archive file is. A stream can be read only once, and an archive's members are found
/// by reading it through (the index may come after the blobs it names), so it cannot be used as
/// it arrives. Memory stays one buffer; the file goes with the process, whatever way it ends.
enum ArchiveSpool {
    /// `first` (bytes already read), then `descriptor` to its end; `name` is for errors.
    static func copy(
        first: [UInt8] = [], rest descriptor: Int32, from name: String, temporaryDirectory: String = NSTemporaryDirectory()
    )
        throws(SourceError) -> String
    {
        let file: OwnedDescriptor
        do { file = try OwnedDescriptor(anonymousFileIn: temporaryDirectory) } catch { throw .io(path: temporaryDirectory, reason: error.description) }
        var total = first.count
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        do {
            try FileIO.writeFully(file.raw, first, "\(temporaryDirectory): the copy of \(name)")
            while true {
                let count = try buffer.withMutableSystemBytes { (bytes) throws(SystemError) in try FileIO.read(descriptor, into: bytes, name) }
                if count == 0 { break }
                try FileIO.writeFully(file.raw, Array(buffer[..<count]), "\(temporaryDirectory): the copy of \(name)")
                total += count
            }
        } catch {
            throw .io(path: name, reason: error.description)
        }
        guard total > 0 else { throw .io(path: name, reason: "empty: no archive came") }
        // Kept open for the process's life: the path below names it.
        return "/proc/self/fd/\(file.release())"
    }
}

/// `-`, `docker-archive:-` and `oci-archive:-`: an archive on standard input (`docker save app |
/// oci2disk convert - …`), copied once (the first use) into an `ArchiveSpool`.
enum StandardInput {
    /// What `-` stands for in a source.
    static let name = "-"
    /// How errors name it.
    static let displayName = "standard input"

    private static let spooled = Mutex<Result<String, SourceError>?>(nil)

    static func archivePath() throws(SourceError) -> String {
        let result = spooled.withLock { cached in
            if let cached { return cached }
            let made = Result { () throws(SourceError) in
                if isatty(STDIN_FILENO) == 1 {
                    throw SourceError.io(path: displayName, reason: "is a terminal: pipe an archive in (docker save IMAGE | oci2disk convert - …)")
                }
                return try ArchiveSpool.copy(rest: STDIN_FILENO, from: displayName)
            }
            cached = made
            return made
        }
        return try result.get()
    }
}
