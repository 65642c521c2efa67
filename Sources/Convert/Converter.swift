import Disk
import Ext4
import Flatten
import Foundation
import ImageSource
import OCIModels

/// The pipeline: image source → layer flattening → ext4 → disk.
public enum Converter {
    public static func run(_ options: ConvertOptions, progress: (ConvertEvent) -> Void = { _ in }) throws -> ConvertResult {
        let started = Date()
        let image = try ImageResolver.resolve(options.source, platform: options.platform)
        progress(.resolved(manifest: image.identity.description, platform: image.config.platform.description, layers: image.layers.count))

        let output = try OutputFile(target: options.output)
        defer { output.discard() }
        let spill = try SpillFile(directory: output.directory)
        let defaultTime = options.sourceDateEpoch ?? Self.creationTime(image.config) ?? 0
        let tree = FileTree(defaultTime: defaultTime)
        try LayerPipeline.flatten(image, into: tree, spill: spill) { event in
            switch event {
            case .layerStarted(let index, let count, let name): progress(.layerStarted(index: index, count: count, name: name))
            case .layerFinished(let index, let count, let compressed, let entries, let data):
                progress(.layerFinished(index: index, count: count, compressedBytes: compressed, entries: entries, dataBytes: data))
            }
        }

        let ids = StableIdentifiers(identity: image.identity, label: options.label)
        let parameters = Ext4Parameters(label: options.label, uuid: options.filesystemUUID ?? ids.filesystemUUID,
                                        hashSeed: ids.hashSeed, timestamp: defaultTime)
        let requirements = Ext4Requirements(tree: tree)
        let minimumBlocks = try Ext4Sizing.minimumBlocks(for: requirements, parameters: parameters)
        let (diskBytes, filesystemBytes) = try Self.sizes(options, minimumFilesystemBytes: Int64(minimumBlocks) * Int64(Ext4Parameters.blockSize))
        progress(.writingFilesystem(bytes: filesystemBytes, inodes: requirements.inodes))

        try output.setLength(diskBytes)
        let offset = options.format == .raw ? ConvertOptions.partitionOffset : 0
        let summary = try Ext4Writer.write(tree: tree, spill: spill, path: output.temporaryPath, offset: offset,
                                           blocks: UInt64(filesystemBytes) / UInt64(Ext4Parameters.blockSize),
                                           requirements: requirements, parameters: parameters)
        if options.format == .raw {
            let partition = MBR.Partition(bootable: true, type: MBR.linuxType, firstSector: UInt32(offset / 512),
                                          sectorCount: UInt32(filesystemBytes / 512))
            try output.write(MBR(diskIdentifier: ids.diskIdentifier, partitions: [partition]).encode(), at: 0)
        }
        try output.commit()

        let result = ConvertResult(
            output: options.output, format: options.format.rawValue, size: diskBytes, manifest: image.identity.description,
            platform: image.config.platform.description, layers: image.layers.count, files: summary.inodes - 9,
            directories: summary.directories, filesystemUUID: StableIdentifiers.format(parameters.uuid),
            filesystemBytes: filesystemBytes, usedBytes: summary.blocksUsed * Int64(Ext4Parameters.blockSize),
            seconds: Date().timeIntervalSince(started))
        progress(.finished(result))
        return result
    }

    /// (whole output, filesystem) in bytes.
    static func sizes(_ options: ConvertOptions, minimumFilesystemBytes: Int64) throws -> (Int64, Int64) {
        let tableBytes = options.format == .raw ? ConvertOptions.partitionOffset : 0
        switch options.size {
        case .auto:
            let extra = options.extraSpace ?? max(minimumFilesystemBytes / 4, 256 * ByteSize.mebibyte)
            let filesystem = ByteSize.roundUp(minimumFilesystemBytes + extra, to: ByteSize.mebibyte)
            return (filesystem + tableBytes, filesystem)
        case .bytes(let total):
            let filesystem = (total - tableBytes) / Int64(Ext4Parameters.blockSize) * Int64(Ext4Parameters.blockSize)
            guard filesystem >= minimumFilesystemBytes else {
                throw Ext4Error.tooSmall(neededBytes: minimumFilesystemBytes + tableBytes, availableBytes: total)
            }
            guard options.format == .ext4 || filesystem / 512 <= Int64(UInt32.max) else {
                throw Ext4Error.unsupported("size \(ByteSize.describe(total)) is larger than an MBR partition can be (2 TiB)")
            }
            return (total, filesystem)
        }
    }

    /// The image's `created` time, which makes a good fixed time for what the image leaves undated.
    static func creationTime(_ config: ImageConfig) -> Int64? {
        guard let created = config.created else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: created) { return Int64(date.timeIntervalSince1970.rounded(.down)) }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: created) { return Int64(date.timeIntervalSince1970.rounded(.down)) }
        return nil
    }
}
