import Disk
import Ext4

/// Where everything goes, decided before a byte is written: the sizes, each partition's
/// place, and which file the partitions are written into. Pure, so the decisions can be
/// tested without writing a disk.
struct DiskLayout: Equatable {
    /// Where the partition table, the boot and seed partitions and the filesystem's metadata
    /// are written: the output itself (raw, ext4), or a sparse raw scratch file that a qcow2
    /// folds in, or `qemu-img convert` turns into vmdk, vhdx or vdi.
    enum Staging: Equatable { case output, scratchRaw }

    let format: ConvertOptions.Format
    /// The whole output as the guest sees it.
    let diskBytes: Int64
    let filesystemBytes: Int64
    /// The MBR and the gap before the first partition (0 for a bare filesystem).
    let tableBytes: Int64
    let bootBytes: Int64
    let seedBytes: Int64

    var bootOffset: Int64 { tableBytes }
    var seedOffset: Int64 { tableBytes + bootBytes }
    /// The root partition comes last, so that --grow-root can extend it to the disk's end.
    var rootOffset: Int64 { tableBytes + bootBytes + seedBytes }
    var staging: Staging { format == .raw || format == .ext4 ? .output : .scratchRaw }
    /// qcow2 takes file data straight into its clusters (the rest comes from the scratch file).
    var writesQCOW2Directly: Bool { format == .qcow2 }
    var filesystemBlocks: UInt64 { UInt64(filesystemBytes) / UInt64(Ext4Parameters.blockSize) }

    init(_ options: ConvertOptions, minimumFilesystemBytes: Int64, bootBytes: Int64, seedBytes: Int64) throws {
        format = options.format
        tableBytes = options.format.isPartitioned ? ConvertOptions.partitionOffset : 0
        self.bootBytes = bootBytes
        self.seedBytes = seedBytes
        let before = tableBytes + bootBytes + seedBytes
        switch options.size {
        case .auto:
            let extra = options.extraSpace ?? max(minimumFilesystemBytes / 4, 256 * ByteSize.mebibyte)
            filesystemBytes = ByteSize.roundUp(minimumFilesystemBytes + extra, to: ByteSize.mebibyte)
            diskBytes = filesystemBytes + before
        case .bytes(let requested):
            diskBytes = requested
            filesystemBytes = (requested - before) / Int64(Ext4Parameters.blockSize) * Int64(Ext4Parameters.blockSize)
            guard filesystemBytes >= minimumFilesystemBytes else {
                throw Ext4Error.tooSmall(neededBytes: minimumFilesystemBytes + before, availableBytes: requested)
            }
        }
        // An MBR addresses 2^32 sectors: every partition must end below 2 TiB.
        guard !options.format.isPartitioned || diskBytes / 512 <= Int64(UInt32.max) else {
            throw Ext4Error.unsupported("size \(ByteSize.describe(diskBytes)) is larger than an MBR disk can be (2 TiB)")
        }
    }

    /// The MBR's entries in table order: boot (bootable), root (bootable when there is no
    /// boot partition), then the seed, whose data lies before the root's.
    func partitions(bootType: UInt8?, seedType: UInt8?) -> [MBR.Partition] {
        var partitions: [MBR.Partition] = []
        if let bootType {
            partitions.append(MBR.Partition(bootable: true, type: bootType, firstSector: sector(bootOffset), sectorCount: sector(bootBytes)))
        }
        partitions.append(
            MBR.Partition(bootable: bootType == nil, type: MBR.linuxType, firstSector: sector(rootOffset), sectorCount: sector(filesystemBytes)))
        if let seedType {
            partitions.append(MBR.Partition(bootable: false, type: seedType, firstSector: sector(seedOffset), sectorCount: sector(seedBytes)))
        }
        return partitions
    }

    private func sector(_ bytes: Int64) -> UInt32 { UInt32(bytes / 512) }
}
