import Flatten
import Archive
import Foundation

/// A block of decompressed layer bytes, reused between the two pipeline threads.
final class Chunk: @unchecked Sendable {
    static let capacity = 1 << 20
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Chunk.capacity, alignment: 64)
    var count = 0
    deinit { buffer.deallocate() }
}

/// A bounded queue from the decompressing thread to the applying thread. Bounded, so memory
/// stays small whatever a layer expands to; chunks are recycled, not reallocated.
final class ChunkChannel: @unchecked Sendable {
    enum Item {
        case data(Chunk)
        case endOfLayer
        case failure(any Error)
    }

    private let condition = NSCondition()
    private var items: [Item] = []
    private var free: [Chunk] = []
    private var closed = false
    private let depth: Int

    init(depth: Int = 8) { self.depth = depth }

    /// Waits for room; returns false once the consumer has closed the channel.
    func put(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= depth && !closed { condition.wait() }
        guard !closed else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    func take() -> Item {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty { condition.wait() }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    func emptyChunk() -> Chunk {
        condition.lock()
        defer { condition.unlock() }
        let chunk = free.popLast() ?? Chunk()
        chunk.count = 0
        return chunk
    }

    func recycle(_ chunk: Chunk) {
        condition.lock()
        free.append(chunk)
        condition.unlock()
    }

    /// The consumer stops: a waiting producer wakes and gives up.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// The applying thread's view of one layer's decompressed bytes.
final class ChannelSource: ByteSource {
    private let channel: ChunkChannel
    private var current: Chunk?
    private var position = 0
    private var ended = false

    init(channel: ChunkChannel) { self.channel = channel }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while !ended {
            if let chunk = current, position < chunk.count {
                let n = min(buffer.count, chunk.count - position)
                buffer.baseAddress!.copyMemory(from: chunk.buffer.baseAddress! + position, byteCount: n)
                position += n
                return n
            }
            if let chunk = current { channel.recycle(chunk); current = nil }
            switch channel.take() {
            case .data(let chunk):
                current = chunk
                position = 0
            case .endOfLayer:
                ended = true
            case .failure(let error):
                ended = true
                throw error
            }
        }
        return 0
    }
}
