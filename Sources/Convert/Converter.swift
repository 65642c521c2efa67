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
        if let containerDisk = options.containerDisk {
            guard options.format.isPartitioned else { throw ConvertError.containerDiskNeedsADisk }
            try ContainerDisk.checkLayout(containerDisk)
        }
        let image = try ImageResolver.resolve(options.source, platform: options.platform, registry: options.registry)
        progress(.resolved(manifest: image.identity.description, platform: image.config.platform.description, layers: image.layers.count))

        let output = try OutputFile(target: options.output)
        defer { output.discard() }
        let givenKernel =
            options.format.isPartitioned
            ? try BootPreparation.givenKernel(options.boot, platform: image.config.platform, registry: options.registry, scratch: output.directory) : nil
        let spill = try SpillFile(directory: output.directory)
        let defaultTime = options.sourceDateEpoch ?? image.config.createdSeconds ?? 0
        let tree = FileTree(defaultTime: defaultTime)
        try LayerPipeline.flatten(image, into: tree, spill: spill) { progress(.layer($0)) }

        let ids = StableIdentifiers(identity: image.identity, label: options.label)
        let rootParameters = Ext4Parameters(
            label: options.label, uuid: options.filesystemUUID ?? ids.filesystemUUID, hashSeed: ids.hashSeed, timestamp: defaultTime)
        var clock = StepClock()
        let boot =
            options.format.isPartitioned
            ? try BootPreparation.prepare(
                options.boot, givenKernel: givenKernel, image: image, root: tree, spill: spill,
                rootUUID: StableIdentifiers.format(rootParameters.uuid), scratch: output.directory)
            : nil
        if let boot { progress(.step(.bootFiles(mode: boot.mode.rawValue, kernel: boot.kernel), seconds: clock.lap())) }
        for warning in (boot?.warnings ?? []) + missingPrograms(options, tree: tree, seed: seed) { progress(.warning(warning)) }
        try provisionLogins(options, image: image, boot: boot, tree: tree, spill: spill, time: defaultTime)

        let requirements = Ext4Requirements(tree: tree)
        let minimumBlocks = try Ext4Sizing.minimumBlocks(for: requirements, parameters: rootParameters)
        let layout = try DiskLayout(
            options, minimumFilesystemBytes: Int64(minimumBlocks) * Int64(Ext4Parameters.blockSize),
            bootBytes: boot.map(BootPartition.size) ?? 0, seedBytes: seed?.bytes ?? 0)
        progress(.writingFilesystem(bytes: layout.filesystemBytes, entries: requirements.treeEntries))
        _ = clock.lap()

        let staging = layout.staging == .output ? output.temporaryPath : try output.scratchFile("raw")
        try output.setLength(layout.diskBytes, path: staging)
        let qcow2 = layout.writesQCOW2Directly ? try QCOW2Writer(path: output.temporaryPath, virtualSize: layout.diskBytes) : nil
        let summary = try Ext4Writer.write(
            tree: tree, spill: spill, path: staging, offset: layout.rootOffset, blocks: layout.filesystemBlocks,
            requirements: requirements, parameters: rootParameters, dataSink: qcow2.map(QCOW2DataSink.init))
        progress(
            .step(
                .filesystem(
                    entries: summary.entries, usedBytes: summary.blocksUsed * Int64(Ext4Parameters.blockSize),
                    filesystemBytes: layout.filesystemBytes, uuid: StableIdentifiers.format(rootParameters.uuid)),
                seconds: clock.lap()))
        // The file data is in the filesystem now: the spill file goes, unwritten, before any tool
        // that syncs (SYSLINUX's installer, when its template is made) could write it all out.
        spill.discard()
        if options.format.isPartitioned {
            try writePartitions(
                layout, boot: boot, seed: seed, into: staging, output: output, image: image, ids: ids, time: defaultTime,
                partsCache: options.boot.partsCache)
            progress(.step(.partitions(boot: boot != nil, seed: seed != nil), seconds: clock.lap()))
        }
        let outputBytes = try finishFormat(layout, qcow2: qcow2, staging: staging, output: output)
        if options.format != .raw && options.format != .ext4 { progress(.step(.format(options.format.rawValue), seconds: clock.lap())) }
        let containerDiskTag = try options.containerDisk.map { layoutReference in
            let tag = try writeContainerDisk(to: layoutReference, layout: layout, staging: staging, output: output, created: image.config.created)
            progress(.step(.containerDisk(layoutReference), seconds: clock.lap()))
            return tag
        }
        try output.commit()
        // The layout's index names the new image only once the disk it holds is in place.
        try containerDiskTag?.publish()

        let result = ConvertResult(
            output: options.output, format: options.format.rawValue, size: outputBytes, virtualSize: layout.diskBytes,
            manifest: image.identity.description, platform: image.config.platform.description, layers: image.layers.count,
            files: summary.entries, directories: summary.directories, filesystemUUID: StableIdentifiers.format(rootParameters.uuid),
            filesystemBytes: layout.filesystemBytes, usedBytes: summary.blocksUsed * Int64(Ext4Parameters.blockSize),
            boot: boot.map { ConvertResult.Boot(mode: $0.mode.rawValue, kernel: $0.kernel, partitionBytes: layout.bootBytes) },
            seconds: Date().timeIntervalSince(started))
        progress(.finished(result))
        return result
    }

    /// Options that do nothing on this image: said, not refused (the disk is still what was asked).
    static func missingPrograms(_ options: ConvertOptions, tree: FileTree, seed: CloudInitSeed?) -> [String] {
        var warnings: [String] = []
        if seed != nil, tree.resolve("usr/bin/cloud-init") == nil {
            warnings.append("the image has no cloud-init (/usr/bin/cloud-init): nothing in it will read the --cloud-init seed")
        }
        if !options.login.authorizedKeyFiles.isEmpty, tree.resolve("usr/sbin/sshd") == nil {
            warnings.append("the image has no OpenSSH server (/usr/sbin/sshd): the keys are written, but nothing reads them until one is installed")
        }
        return warnings
    }

    /// The boot partition (SYSLINUX, kernel, initramfs), the cloud-init seed, and the MBR
    /// naming them and the root.
    static func writePartitions(
        _ layout: DiskLayout, boot: BootArtifacts?, seed: CloudInitSeed?, into staging: String, output: OutputFile, image: ResolvedImage,
        ids: StableIdentifiers, time: Int64, partsCache: String?
    ) throws {
        var bootType: UInt8?
        if let boot {
            let serial = StableIdentifiers(identity: image.identity, label: BootPartitionLayout.label).volumeSerial
            let fat = FATPartition(image: staging, offset: layout.bootOffset, time: time)
            bootType = try BootPartition.write(boot, to: fat, bytes: layout.bootBytes, serial: serial, cacheDirectory: partsCache, scratch: output.directory)
        }
        var seedType: UInt8?
        if let seed {
            let serial = StableIdentifiers(identity: image.identity, label: CloudInitSeed.label).volumeSerial
            seedType = try seed.write(to: FATPartition(image: staging, offset: layout.seedOffset, time: time), serial: serial)
        }
        let table = MBR(
            diskIdentifier: ids.diskIdentifier, partitions: layout.partitions(bootType: bootType, seedType: seedType),
            bootCode: boot?.mbrCode ?? [])
        try output.write(table.encode(), at: 0, path: staging)
    }

    /// The output in its format; returns its size in bytes.
    static func finishFormat(_ layout: DiskLayout, qcow2: QCOW2Writer?, staging: String, output: OutputFile) throws -> Int64 {
        switch layout.format {
        case .raw, .ext4:
            return layout.diskBytes
        case .qcow2:
            guard let qcow2 else { return layout.diskBytes }
            try qcow2.fold(raw: staging)
            return try qcow2.finish().fileSize
        case .vmdk, .vhdx, .vdi:
            return try ImageFormats.convert(raw: staging, to: output.temporaryPath, format: layout.format.rawValue)
        }
    }

    /// The disk as a KubeVirt containerDisk (a qcow2 in an OCI layout), tagged only once the
    /// disk itself is committed.
    static func writeContainerDisk(
        to layoutReference: String, layout: DiskLayout, staging: String, output: OutputFile, created: String?
    ) throws -> ContainerDisk.PendingTag {
        let qcow2Path = layout.format == .qcow2 ? output.temporaryPath : try output.scratchFile("qcow2")
        if qcow2Path != output.temporaryPath { _ = try QCOW2Writer.convert(raw: staging, to: qcow2Path) }
        return try ContainerDisk.write(qcow2: qcow2Path, to: layoutReference, created: created)
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
}

/// Times the steps of one conversion: each lap is the time since the previous one.
struct StepClock {
    private var last = Date()

    mutating func lap() -> Double {
        let now = Date()
        defer { last = now }
        return now.timeIntervalSince(last)
    }
}
