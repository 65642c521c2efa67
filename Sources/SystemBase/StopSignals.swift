import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT, SIGTERM and SIGHUP handed to a closure on a thread of their own, instead of ending
/// the process: a convert removes its temporary files, a bundle its half-written folder, `run`
/// stops QEMU. The handler itself only writes the signal's number to a pipe (all a signal
/// handler may safely do); the thread reads it and calls `handler`.
///
/// One at a time: the handler writes to a single process-wide pipe, so a second instance
/// takes the signals over and cancelling either gives them back to their defaults.
///
/// Written on a pipe and a pthread rather than Dispatch's signal sources so that the guest
/// init, which links neither Foundation nor Dispatch, could use the same code.
public final class StopSignals: @unchecked Sendable {
    public static let numbers: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    private let writing: Int32
    private var thread: pthread_t?

    /// Installs the handlers; `handler` runs once per signal, on the signal thread.
    public init(_ handler: @escaping @Sendable (Int32) -> Void) throws(SystemError) {
        let pipe = try PipeEnds("signal pipe")
        let reading = pipe.reading.release()
        writing = pipe.writing.release()
        let box = Unmanaged.passRetained(Listener(reading: reading, handler: handler)).toOpaque()
        var created: pthread_t = 0
        let result = pthread_create(
            &created, nil,
            { context in
                let listener = Unmanaged<Listener>.fromOpaque(context!).takeRetainedValue()
                listener.listen()
                return nil
            }, box)
        guard result == 0 else {
            Unmanaged<Listener>.fromOpaque(box).release()
            close(reading)
            close(writing)
            throw .call("signal thread", errno: result)
        }
        thread = created
        _ = try Self.numbers.withUnsafeBufferPointer { (numbers) throws(SystemError) in
            try systemCall("install signal handlers") { linux_forward_signals(writing, numbers.baseAddress, Int32(numbers.count)) }
        }
    }

    /// Gives the signals their default action back and ends the thread.
    public func cancel() {
        guard let running = thread else { return }
        thread = nil
        Self.numbers.withUnsafeBufferPointer { _ = linux_default_signals($0.baseAddress, Int32($0.count)) }
        close(writing)
        pthread_join(running, nil)
    }

    deinit { cancel() }

    private final class Listener {
        let reading: Int32
        let handler: @Sendable (Int32) -> Void

        init(reading: Int32, handler: @escaping @Sendable (Int32) -> Void) {
            self.reading = reading
            self.handler = handler
        }

        func listen() {
            var byte: UInt8 = 0
            while true {
                let n = read(reading, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                guard n == 1 else { break }
                handler(Int32(byte))
            }
            close(reading)
        }
    }
}

/// Blocks `number` in the calling thread only (a SIGPIPE from a write to a pipe whose reader
/// left goes to the writing thread; blocked there, the write fails with EPIPE instead).
public func blockSignalInThisThread(_ number: Int32) {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, number)
    pthread_sigmask(SIG_BLOCK, &set, nil)
}
