import Foundation
import SystemBase
#if canImport(Glibc)
import Glibc
#endif

/// passt, the user-mode network stack QEMU's `-netdev stream` connects to, for one VM: started
/// before QEMU, stopped after it.
///
/// Why passt and not QEMU's own user networking: libslirp in QEMU 7.2 offers no way to keep
/// the guest from the host's loopback (10.0.2.2 is 127.0.0.1), and passt's `--no-map-gw` is
/// exactly that switch, with the same guest addresses.
public final class Passt {
    private let process: ChildProcess
    /// passt's stderr, read only for the message when it fails to start.
    private let errors: OwnedDescriptor

    static let binary = "passt"

    init(_ configuration: MachineConfiguration, socket: String) throws {
        guard let path = Executable.find(Self.binary, in: configuration.searchPath) else {
            throw RunError.network(
                "passt missing (it gives the guest a network without the host's loopback): install Debian's passt, "
                    + "or run with --network none or --network host-loopback")
        }
        // Started as root, passt drops to `nobody` before it binds its socket: the private
        // folder the socket goes in must be that user's then (root's QEMU connects anyway).
        if getuid() == 0, let nobody = getpwnam("nobody") {
            let folder = URL(fileURLWithPath: socket).deletingLastPathComponent().path
            guard chown(folder, nobody.pointee.pw_uid, nobody.pointee.pw_gid) == 0 else {
                throw RunError.system(.lastError("\(folder): cannot hand the network socket's folder to passt"))
            }
        }
        do {
            let errorPipe = try PipeEnds("passt's error pipe")
            process = try ChildProcess(
                path, configuration.passtArguments(socket: socket), stdin: .null, stdout: .null,
                stderr: .descriptor(errorPipe.writing.raw))
            errors = errorPipe.keepReading()
        } catch {
            throw RunError.network("cannot start passt: \(error)")
        }
        _ = fcntl(errors.raw, F_SETFL, O_NONBLOCK)
        // QEMU must find the socket bound: wait for it (a few milliseconds), or for passt's end.
        let deadline = Date().addingTimeInterval(10)
        while !Self.isSocket(socket) {
            guard process.isRunning, Date() < deadline else {
                stop()
                var text = [UInt8](repeating: 0, count: 4096)
                let descriptor = errors.raw
                let count = (try? text.withMutableSystemBytes { (buffer) throws(SystemError) in try FileIO.read(descriptor, into: buffer, "passt") }) ?? 0
                let message =
                    String(decoding: text.prefix(count), as: UTF8.self)
                    .split(whereSeparator: \.isNewline).last.map(String.init) ?? "no socket after 10 s"
                throw RunError.network("passt did not start: \(message)")
            }
            usleep(2_000)
        }
    }

    /// Where the socket's private folder can go. Started as root, passt runs as `nobody`, who
    /// must be able to pass through every folder above the socket's: a private $TMPDIR (0700,
    /// as CI runners and `mktemp -d` make) is not, so /tmp (world-searchable, sticky) is used then.
    public static func socketParent(preferred: String) -> String {
        guard getuid() == 0 else { return preferred }
        return searchableByAll(preferred) ? preferred : "/tmp"
    }

    /// Whether every folder from `/` down to `path` lets others pass (the x bit for others).
    static func searchableByAll(_ path: String) -> Bool {
        var folder = URL(fileURLWithPath: path).standardizedFileURL
        while true {
            var info = stat()
            guard stat(folder.path, &info) == 0, info.st_mode & S_IXOTH != 0 else { return false }
            if folder.path == "/" { return true }
            folder = folder.deletingLastPathComponent()
        }
    }

    /// Ends passt if QEMU's leaving did not already.
    func stop() {
        process.signal(SIGTERM)
        _ = try? process.wait()
    }

    private static func isSocket(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK
    }
}
