import Foundation
@testable import ImageSource
import OCIModels
import Testing

@Suite struct BlobCacheTests {
    static func digest(_ bytes: [UInt8]) -> Digest {
        var hasher = ContentHasher(.sha256)
        bytes.withUnsafeBytes { hasher.update($0) }
        return hasher.finalize()
    }

    static func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "/oci2disk-cache-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func storesUnderTheDigestAndReadsBack() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = BlobCache(directory: root)
        let bytes = Array("hello blob".utf8)
        let digest = Self.digest(bytes)
        #expect(try cache.open(digest) == nil)
        try cache.store(digest, bytes: bytes, what: "blob")
        #expect(try cache.open(digest)?.readAll(limit: 100) == bytes)
        #expect(FileManager.default.fileExists(atPath: root + "/blobs/sha256/" + digest.hex))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/blobs/sha256") == [digest.hex])
    }

    @Test func aWrongDigestOrSizeLeavesNothingBehind() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = BlobCache(directory: root)
        let digest = Self.digest(Array("expected".utf8))
        #expect(
            throws: SourceError.digestMismatch(
                what: "blob x", expected: digest.description,
                actual: Self.digest(Array("tampered".utf8)).description)
        ) {
            try cache.store(digest, bytes: Array("tampered".utf8), what: "blob x")
        }
        #expect(throws: SourceError.sizeMismatch(what: "blob x", expected: 3, actual: 8)) {
            try cache.store(digest, size: 3, what: "blob x") { pending in
                try Array("expected".utf8).withUnsafeBytes { try pending.write($0) }
            }
        }
        struct Interrupted: Error {}
        #expect(throws: Interrupted.self) {
            try cache.store(digest, size: nil, what: "blob x") { pending in
                try Array("exp".utf8).withUnsafeBytes { try pending.write($0) }
                throw Interrupted()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/blobs/sha256") == [])
        #expect(try cache.open(digest) == nil)
    }
}
