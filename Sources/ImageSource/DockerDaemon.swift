import Foundation
import SystemBase

/// `docker-daemon:NAME[:TAG]|ID`: an image from a running Docker Engine, or Podman's
/// Docker-compatible service, over its API on a Unix socket (`$DOCKER_HOST` `unix://PATH`,
/// else /var/run/docker.sock). `GET /images/NAME/get` answers with what `docker save` writes;
/// it is copied once into an unnamed file (`ArchiveSpool`) and read as a docker-archive: its
/// manifest.json may come after the layers, so it cannot be applied as it arrives.
///
/// Why a hand-written request rather than an HTTP library: it is one GET over a local socket,
/// sent as HTTP/1.0 so the daemon answers with a plain body up to the end of the connection
/// (no chunking, no keep-alive), and the URLSession this tool uses for registries cannot speak
/// to a Unix socket. Redirects, TLS and authentication do not occur here.
enum DockerDaemon {
    static let defaultSocket = "/var/run/docker.sock"

    /// The daemon's socket: `DOCKER_HOST` (only `unix://` is read), else the default.
    static func socket(environment: [String: String]) throws(SourceError) -> String {
        guard let host = environment["DOCKER_HOST"], !host.isEmpty else { return defaultSocket }
        guard host.hasPrefix("unix://"), host.count > "unix://".count else {
            throw .daemon(socket: host, problem: "only unix:// daemon sockets are read (DOCKER_HOST)")
        }
        return String(host.dropFirst("unix://".count))
    }

    /// The image `name` as a docker-archive, copied from the daemon into an unnamed file;
    /// returns the path it is read through.
    static func archive(_ name: String, environment: [String: String]) throws(SourceError) -> String {
        let socket = try socket(environment: environment)
        let connection = try connect(socket)
        let request = "GET /images/\(try pathComponent(name))/get HTTP/1.0\r\nHost: docker\r\nUser-Agent: oci2disk\r\n\r\n"
        do { try FileIO.writeFully(connection.raw, Array(request.utf8), socket) } catch {
            throw .daemon(socket: socket, problem: "cannot send the request (\(SystemError.message(error.code)))")
        }
        let (status, leftover) = try readHead(connection.raw, socket: socket)
        guard status == 200 else {
            var body = leftover
            body += (try? FileIO.readToEnd(connection.raw, limit: 64 << 10, socket)) ?? []
            let message = Self.message(body) ?? "HTTP \(status)"
            if status == 404 { throw .daemonImageNotFound(name: name, socket: socket) }
            throw .daemon(socket: socket, problem: "\(message) (HTTP \(status))")
        }
        return try ArchiveSpool.copy(first: leftover, rest: connection.raw, from: "docker-daemon:\(name)")
    }

    private static func connect(_ socket: String) throws(SourceError) -> OwnedDescriptor {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socket.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw .daemon(socket: socket, problem: "socket path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + [0]) }
        let fd: Int32
        do { fd = try systemCall("socket") { Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) } } catch {
            throw .daemon(socket: socket, problem: error.description)
        }
        let descriptor = OwnedDescriptor(adopting: fd)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            switch errno {
            case ENOENT, ECONNREFUSED:
                throw .daemon(socket: socket, problem: "no daemon answers (is Docker, or `podman system service`, running? DOCKER_HOST names another socket)")
            case EACCES, EPERM:
                throw .daemon(socket: socket, problem: "permission denied (the socket's group, e.g. docker, must include you)")
            default: throw .daemon(socket: socket, problem: SystemError.message(errno))
            }
        }
        return descriptor
    }

    /// The status code of the answer, and the body bytes read with its head.
    private static func readHead(_ fd: Int32, socket: String) throws(SourceError) -> (Int, [UInt8]) {
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            let count: Int
            do { count = try chunk.withMutableSystemBytes { (buffer) throws(SystemError) in try FileIO.read(fd, into: buffer, socket) } } catch {
                throw .daemon(socket: socket, problem: "cannot read the answer (\(SystemError.message(error.code)))")
            }
            guard count > 0 else { throw .daemon(socket: socket, problem: "the daemon closed the connection without an answer") }
            head += chunk[..<count]
            if let range = head.firstRange(of: end) {
                let text = String(decoding: head[..<range.lowerBound], as: UTF8.self)
                let statusLine = text.split(separator: "\r\n", maxSplits: 1).first ?? ""
                let fields = statusLine.split(separator: " ")
                guard fields.count >= 2, fields[0].hasPrefix("HTTP/"), let status = Int(fields[1]) else {
                    throw .daemon(socket: socket, problem: "not an HTTP answer: \"\(statusLine.prefix(60))\"")
                }
                return (status, Array(head[range.upperBound...]))
            }
            guard head.count < 64 << 10 else { throw .daemon(socket: socket, problem: "the answer's head is larger than 64 KiB") }
        }
    }

    /// The name as it goes into the request's path: `ImageName.checked` lets through only
    /// characters image names are made of, so nothing in it can add a query or another request.
    static func pathComponent(_ name: String) throws(SourceError) -> String {
        try ImageName.checked(name, source: "docker-daemon:\(name)")
    }

    /// The daemon's error text: `{"message": "…"}` (Docker and Podman both answer so).
    static func message(_ body: [UInt8]) -> String? {
        struct Answer: Decodable { let message: String? }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(body)), let text = answer.message, !text.isEmpty else { return nil }
        return String(text.prefix(200))
    }
}
