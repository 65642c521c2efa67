import Boot
import Disk
import Ext4
import Flatten
import ImagePipeline
import Foundation
import ImageSource
import OCIModels
import Provision

/// The pipeline: image source → layer flattening → ext4 → disk.
public enum Converter {
    public static func run(_ options: ConvertOptions, progress: (ConvertEvent) -> Void = { _ in }) throws -> ConvertResult {
        let started = Date()
        // The user's own files first: a typo costs no download.
        let seed = try options.cloudInit.map(CloudInitSeed.init(folder:))
        try options.login.checkInputs()
        let image = try ImageResolver.resolve(options.source, platform: options.platform, registry: options.registry)
        progress(.resolved(manifest: image.identity.description, platform: image.config.platform.description, layers: image.layers.count))

        if let containerDisk = options.containerDisk { try ContainerDisk.checkLayout(containerDisk) }
        let output = try OutputFile(target: options.output)
        defer { output.discard() }
        let givenKernel =
            options.format.isPartitioned
            ? try BootPreparation.givenKernel(options.boot, platform: image.config.platform, scratch: output.directory) : nil
        let spill = try SpillFile(directory: output.directory)
        let defaultTime = options.sourceDateEpoch ?? image.config.createdSeconds ?? 0
        let tree = FileTree(defaultTime: defaultTime)
        try LayerPipeline.flatten(image, into: tree, spill: spill) { progress(.layer($0)) }

        let ids = StableIdentifiers(identity: image.identity, label: options.label)
        let rootParameters = Ext4Parameters(
            label: options.label, uuid: options.filesystemUUID ?? ids.filesystemUUID,
            hashSeed: ids.hashSeed, timestamp: defaultTime)
        let boot =
            options.format.isPartitioned
            ? try BootPreparation.prepare(
                options.boot, givenKernel: givenKernel, image: image, root: tree, spill: spill,
                rootUUID: StableIdentifiers.format(rootParameters.uuid), scratch: output.directory)
            : nil
        for warning in boot?.warnings ?? [] { progress(.warning(warning)) }
        if seed != nil, tree.resolve("usr/bin/cloud-init") == nil {
            progress(.warning("the image has no cloud-init (/usr/bin/cloud-init): nothing in it will read the --cloud-init seed"))
        }
        if !options.login.authorizedKeyFiles.isEmpty, tree.resolve("usr/sbin/sshd") == nil {
            progress(.warning("the image has no OpenSSH server (/usr/sbin/sshd): the keys are written, but nothing reads them until one is installed"))
        }
        try provisionLogins(options, image: image, boot: boot, tree: tree, spill: spill, time: defaultTime)

        let bootBytes = boot.map(BootPartition.size) ?? 0
        let seedBytes = seed?.bytes ?? 0

        let requirements = Ext4Requirements(tree: tree)
        let minimumBlocks = try Ext4Sizing.minimumBlocks(for: requirements, parameters: rootParameters)
        let (diskBytes, filesystemBytes) = try Self.sizes(
            options, minimumFilesystemBytes: Int64(minimumBlocks) * Int64(Ext4Parameters.blockSize),
            bootBytes: bootBytes + seedBytes)
        progress(.writingFilesystem(bytes: filesystemBytes, entries: requirements.treeEntries))

        // Raw and ext4 are written in place. qcow2 takes the file data straight into its clusters;
        // the rest, written in place, goes to a sparse scratch image folded in at the end. Other
        // formats are converted from a whole raw disk written first.
        let staging = options.format == .raw || options.format == .ext4 ? output.temporaryPath : try output.scratchFile("raw")
        try output.setLength(diskBytes, path: staging)
        let qcow2 = options.format == .qcow2 ? try QCOW2Writer(path: output.temporaryPath, virtualSize: diskBytes) : nil
        let tableBytes = options.format.isPartitioned ? ConvertOptions.partitionOffset : 0
        // The root partition comes last, so that --grow-root can extend it to the disk's end.
        let rootOffset = tableBytes + bootBytes + seedBytes
        let summary = try Ext4Writer.write(
            tree: tree, spill: spill, path: staging, offset: rootOffset,
            blocks: UInt64(filesystemBytes) / UInt64(Ext4Parameters.blockSize),
            requirements: requirements, parameters: rootParameters,
            dataSink: qcow2.map(QCOW2DataSink.init))
        // The file data is in the filesystem now: the spill file goes, unwritten, before any tool
        // that syncs (SYSLINUX's installer, when its template is made) could write it all out.
        spill.discard()
        var partitions: [MBR.Partition] = []
        if let boot {
            let serial = StableIdentifiers(identity: image.identity, label: BootPartitionLayout.label).volumeSerial
            let fat = FATPartition(image: staging, offset: tableBytes, time: defaultTime)
            let type = try BootPartition.write(
                boot, to: fat, bytes: bootBytes, serial: serial, cacheDirectory: options.boot.partsCache,
                scratch: output.directory)
            partitions.append(MBR.Partition(bootable: true, type: type, firstSector: UInt32(tableBytes / 512), sectorCount: UInt32(bootBytes / 512)))
        }
        if options.format.isPartitioned {
            partitions.append(
                MBR.Partition(
                    bootable: boot == nil, type: MBR.linuxType, firstSector: UInt32(rootOffset / 512),
                    sectorCount: UInt32(filesystemBytes / 512)))
            if let seed {
                let serial = StableIdentifiers(identity: image.identity, label: CloudInitSeed.label).volumeSerial
                let type = try seed.write(to: FATPartition(image: staging, offset: tableBytes + bootBytes, time: defaultTime), serial: serial)
                partitions.append(
                    MBR.Partition(
                        bootable: false, type: type, firstSector: UInt32((tableBytes + bootBytes) / 512),
                        sectorCount: UInt32(seedBytes / 512)))
            }
            try output.write(
                MBR(diskIdentifier: ids.diskIdentifier, partitions: partitions, bootCode: boot?.mbrCode ?? []).encode(), at: 0,
                path: staging)
        }
        var outputBytes = diskBytes
        switch options.format {
        case .raw, .ext4: break
        case .qcow2:
            guard let qcow2 else { break }
            try qcow2.fold(raw: staging)
            outputBytes = try qcow2.finish().fileSize
        case .vmdk, .vhdx, .vdi: outputBytes = try ImageFormats.convert(raw: staging, to: output.temporaryPath, format: options.format.rawValue)
        }
        var containerDiskTag: ContainerDisk.PendingTag?
        if let containerDisk = options.containerDisk {
            guard options.format.isPartitioned else { throw ConvertError.containerDiskNeedsADisk }
            let qcow2Path = options.format == .qcow2 ? output.temporaryPath : try output.scratchFile("qcow2")
            if qcow2Path != output.temporaryPath { _ = try QCOW2Writer.convert(raw: staging, to: qcow2Path) }
            containerDiskTag = try ContainerDisk.write(qcow2: qcow2Path, to: containerDisk, created: image.config.created)
        }
        try output.commit()
        // The layout's index names the new image only once the disk it holds is in place.
        try containerDiskTag?.publish()

        let result = ConvertResult(
            output: options.output, format: options.format.rawValue, size: outputBytes, virtualSize: diskBytes, manifest: image.identity.description,
            platform: image.config.platform.description, layers: image.layers.count, files: summary.entries,
            directories: summary.directories, filesystemUUID: StableIdentifiers.format(rootParameters.uuid),
            filesystemBytes: filesystemBytes, usedBytes: summary.blocksUsed * Int64(Ext4Parameters.blockSize),
            boot: boot.map { ConvertResult.Boot(mode: $0.mode.rawValue, kernel: $0.kernel, partitionBytes: bootBytes) },
            seconds: Date().timeIntervalSince(started))
        progress(.finished(result))
        return result
    }

    /// Root's password, keys and the login user, added on top of the image's layers. App-mode
    /// disks have no login: asking for one there is an error, not a silently useless file.
    static func provisionLogins(
        _ options: ConvertOptions, image: ResolvedImage, boot: BootArtifacts?, tree: FileTree, spill: SpillFile,
        time: Int64
    ) throws {
        guard !options.login.isEmpty else { return }
        if let boot, boot.mode == .app { throw ConvertError.loginNeedsSystemMode(options: options.login.names) }
        try LoginProvisioner.apply(options.login, to: tree, spill: spill, layer: image.layers.count, time: time) { password in
            StableIdentifiers.passwordSalt(identity: image.identity, password: password)
        }
    }

    /// (whole output, filesystem) in bytes.
    static func sizes(_ options: ConvertOptions, minimumFilesystemBytes: Int64, bootBytes: Int64) throws -> (Int64, Int64) {
        let tableBytes = (options.format.isPartitioned ? ConvertOptions.partitionOffset : 0) + bootBytes
        let total: Int64, filesystem: Int64
        switch options.size {
        case .auto:
            let extra = options.extraSpace ?? max(minimumFilesystemBytes / 4, 256 * ByteSize.mebibyte)
            filesystem = ByteSize.roundUp(minimumFilesystemBytes + extra, to: ByteSize.mebibyte)
            total = filesystem + tableBytes
        case .bytes(let requested):
            total = requested
            filesystem = (requested - tableBytes) / Int64(Ext4Parameters.blockSize) * Int64(Ext4Parameters.blockSize)
            guard filesystem >= minimumFilesystemBytes else {
                throw Ext4Error.tooSmall(neededBytes: minimumFilesystemBytes + tableBytes, availableBytes: requested)
            }
        }
        // An MBR addresses 2^32 sectors: every partition must end below 2 TiB.
        guard !options.format.isPartitioned || total / 512 <= Int64(UInt32.max) else {
            throw Ext4Error.unsupported("size \(ByteSize.describe(total)) is larger than an MBR disk can be (2 TiB)")
        }
        return (total, filesystem)
    }
}
