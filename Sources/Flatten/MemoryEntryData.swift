/// An entry's bytes from memory, handed over as one block. The class owns a copy, so the
/// pointer it hands out stays valid until it is released (a pointer out of `withUnsafeBytes`
/// would not).
public final class MemoryEntryData: EntryData {
    private let storage: UnsafeMutableRawBufferPointer
    private var done = false

    public init(_ bytes: [UInt8]) {
        storage = .allocate(byteCount: bytes.count, alignment: 16)
        storage.copyBytes(from: bytes)
    }

    deinit { storage.deallocate() }

    public func nextBlock() throws -> (offset: Int64, bytes: UnsafeRawBufferPointer)? {
        guard !done, storage.count > 0 else { return nil }
        done = true
        return (0, UnsafeRawBufferPointer(storage))
    }
}
