import Archive
import OCIModels

/// Passes bytes through while counting and hashing them. Reading past the expected size fails
/// at once; at the end of the stream the size and digest must match, or reading fails.
public final class VerifyingSource: ByteSource {
    private let inner: any ByteSource
    private let what: String
    private let expectedDigest: Digest?
    private let expectedSize: Int64?
    private var hasher: ContentHasher
    private var count: Int64 = 0
    private var verified = false

    /// - Parameters:
    ///   - what: names the content in errors, e.g. `layer sha256:…`.
    ///   - digest: expected digest; nil only hashes (sha256) for `computedDigest`.
    public init(_ inner: any ByteSource, what: String, digest: Digest?, size: Int64?) {
        self.inner = inner
        self.what = what
        self.expectedDigest = digest
        self.expectedSize = size
        self.hasher = ContentHasher(digest?.algorithm ?? .sha256)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let failure { throw failure }
        let n = try inner.read(into: buffer)
        if n == 0 {
            try finish()
            return 0
        }
        count += Int64(n)
        if let expectedSize, count > expectedSize {
            throw SourceError.sizeMismatch(what: what, expected: expectedSize, actual: count)
        }
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        return n
    }

    /// The digest of everything read, once the stream has ended.
    public private(set) var computedDigest: Digest?

    /// Checks once; a failure is kept and thrown again on every later read, because a reader
    /// such as libarchive may swallow the first error it sees at the end of its input.
    private func finish() throws {
        if !verified {
            verified = true
            let digest = hasher.finalize()
            computedDigest = digest
            if let expectedSize, count != expectedSize {
                failure = SourceError.sizeMismatch(what: what, expected: expectedSize, actual: count)
            } else if let expectedDigest, digest != expectedDigest {
                failure = SourceError.digestMismatch(what: what, expected: expectedDigest.description, actual: digest.description)
            }
        }
        if let failure { throw failure }
    }

    private var failure: SourceError?
}
