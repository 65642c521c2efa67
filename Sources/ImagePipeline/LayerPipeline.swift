import Flatten
import Archive
import Foundation
import ImageSource
import OCIModels

/// What the pipeline reports as it goes.
public enum FlattenEvent: Sendable {
    case layerStarted(index: Int, count: Int, name: String)
    case layerFinished(index: Int, count: Int, compressedBytes: Int64, entries: Int, dataBytes: Int64)
}

/// Reads every layer exactly once, on two threads: one reads the blob, checks its digest and
/// decompresses it; the other checks the uncompressed digest (diff_id), walks the tar and
/// applies the entries. A bounded channel between them keeps memory flat.
public enum LayerPipeline {
    public static func flatten(
        _ image: ResolvedImage, into tree: FileTree, spill: SpillFile,
        progress: (FlattenEvent) -> Void = { _ in }
    ) throws {
        let channel = ChunkChannel()
        let producerDone = DispatchSemaphore(value: 0)
        let counters = CompressedCounters(count: image.layers.count)
        let layers = image.layers
        let store = image.store
        Thread.detachNewThread {
            produce(layers: layers, store: store, channel: channel, counters: counters)
            producerDone.signal()
        }
        defer {
            channel.close()
            producerDone.wait()
        }

        let applier = LayerApplier(tree: tree, spill: spill)
        for (index, layer) in image.layers.enumerated() {
            progress(.layerStarted(index: index, count: layers.count, name: layer.name))
            let entriesBefore = applier.entriesApplied, bytesBefore = applier.bytesWritten
            applier.beginLayer(index)
            let uncompressed = VerifyingSource(
                ChannelSource(channel: channel), what: "\(layer.name) uncompressed",
                digest: layer.diffID, size: nil)
            do {
                let reader = try ArchiveReader(source: uncompressed, format: .tar, filter: .none, name: layer.name)
                while let entry = try reader.next() {
                    do {
                        try applier.apply(entry, data: reader)
                    } catch let error as FlattenError {
                        throw LayerError(layer: layer.name, reason: error.description)
                    }
                }
                // The tar ends before its padding does; the diff_id covers every byte.
                try uncompressed.drain()
            } catch let error as ArchiveError {
                throw LayerError(layer: layer.name, reason: error.message.replacingOccurrences(of: "\(layer.name): ", with: ""))
            }
            progress(
                .layerFinished(
                    index: index, count: layers.count, compressedBytes: counters.get(index),
                    entries: applier.entriesApplied - entriesBefore, dataBytes: applier.bytesWritten - bytesBefore))
        }
    }

    /// The reading thread: for each layer in order, blob → digest check → decompress → chunks.
    private static func produce(layers: [LayerBlob], store: any BlobStore, channel: ChunkChannel, counters: CompressedCounters) {
        for (index, layer) in layers.enumerated() {
            do {
                let blob = CountingSource(VerifyingSource(try store.open(layer.path), what: layer.name, digest: layer.digest, size: layer.size))
                let stream: any ByteSource
                switch layer.compression {
                case .none?: stream = blob
                case .gzip?: stream = DecompressedSource(try ArchiveReader(source: blob, format: .raw, filter: .gzip, name: layer.name))
                case .zstd?: stream = DecompressedSource(try ArchiveReader(source: blob, format: .raw, filter: .zstd, name: layer.name))
                case nil: stream = DecompressedSource(try ArchiveReader(source: blob, format: .raw, filter: .detect, name: layer.name))
                }
                while true {
                    let chunk = channel.emptyChunk()
                    // Fill whole chunks: fewer hand-overs between the threads.
                    while chunk.count < Chunk.capacity {
                        let n = try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: chunk.buffer[chunk.count...]))
                        if n == 0 { break }
                        chunk.count += n
                    }
                    if chunk.count == 0 { channel.recycle(chunk); break }
                    guard channel.put(.data(chunk)) else { return }
                }
                // Anything after the compressed stream still counts towards the blob's digest.
                try blob.drain()
                counters.set(index, blob.count)
                guard channel.put(.endOfLayer) else { return }
            } catch {
                _ = channel.put(.failure(error))
                return
            }
        }
    }
}

/// A decompressor's output as a plain stream.
private final class DecompressedSource: ByteSource {
    let reader: ArchiveReader
    init(_ reader: ArchiveReader) { self.reader = reader }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try reader.read(into: buffer) }
}

/// Counts bytes passing through, for progress.
private final class CountingSource: ByteSource {
    let inner: any ByteSource
    var count: Int64 = 0
    init(_ inner: any ByteSource) { self.inner = inner }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try inner.read(into: buffer)
        count += Int64(n)
        return n
    }
}

private final class CompressedCounters: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int64]
    init(count: Int) { values = Array(repeating: 0, count: count) }
    func set(_ index: Int, _ value: Int64) { lock.lock(); values[index] = value; lock.unlock() }
    func get(_ index: Int) -> Int64 { lock.lock(); defer { lock.unlock() }; return values[index] }
}
