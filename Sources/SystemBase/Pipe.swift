import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Both ends of a pipe, each close-on-exec (a child gets one only through its spawn actions).
public struct PipeEnds: ~Copyable {
    public var reading: OwnedDescriptor
    public var writing: OwnedDescriptor

    public init(_ what: @autoclosure () -> String = "pipe") throws(SystemError) {
        var fds: [Int32] = [-1, -1]
        try systemCall(what()) { linux_pipe_cloexec(&fds) }
        reading = OwnedDescriptor(adopting: fds[0])
        writing = OwnedDescriptor(adopting: fds[1])
    }

    /// The reading end; the writing end is closed (once a child holds its copy, so that the
    /// child's exit ends our reads).
    public consuming func keepReading() -> OwnedDescriptor {
        _ = consume writing
        return reading
    }

    /// The writing end; the reading end is closed.
    public consuming func keepWriting() -> OwnedDescriptor {
        _ = consume reading
        return writing
    }
}
