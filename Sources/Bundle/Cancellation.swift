import Foundation

/// A stop request (SIGINT, SIGTERM) seen by a running bundle write. The signal handler asks
/// `stop(signal:)`: while the bundle folder is being written, the writer notices at its next
/// entry, removes what it wrote and throws; before that there is nothing to clean up and the
/// caller may exit at once.
public final class Cancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var writing = false
    private var signal: Int32?

    public init() {}

    /// Records the request; true if a writer will stop and clean up, false if nothing is
    /// being written (exit now).
    public func stop(signal: Int32) -> Bool {
        lock.withLock {
            self.signal = signal
            return writing
        }
    }

    /// The signal to stop for, if any.
    public var requested: Int32? { lock.withLock { signal } }

    /// Brackets the part that leaves files behind. Returns false if a stop came first.
    func beginWriting() -> Bool {
        lock.withLock {
            writing = signal == nil
            return writing
        }
    }

    func endWriting() { lock.withLock { writing = false } }
}
