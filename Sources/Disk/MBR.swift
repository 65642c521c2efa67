/// A classic MBR partition table (sector 0). Encoded field by field, little-endian.
/// Layout: boot code 0–439, disk identifier 440–443, 2 reserved bytes, four 16-byte
/// partition entries at 446, signature 0x55 0xAA at 510.
public struct MBR: Equatable, Sendable {
    public struct Partition: Equatable, Sendable {
        public var bootable: Bool
        public var type: UInt8
        public var firstSector: UInt32
        public var sectorCount: UInt32

        public init(bootable: Bool, type: UInt8, firstSector: UInt32, sectorCount: UInt32) {
            self.bootable = bootable
            self.type = type
            self.firstSector = firstSector
            self.sectorCount = sectorCount
        }

        public var startByte: Int64 { Int64(firstSector) * 512 }
        public var sizeBytes: Int64 { Int64(sectorCount) * 512 }
    }

    public static let linuxType: UInt8 = 0x83
    public var diskIdentifier: UInt32
    /// Up to four; unused slots are absent.
    public var partitions: [Partition]
    /// The first 440 bytes (bootloader), zeros when none.
    public var bootCode: [UInt8]

    public init(diskIdentifier: UInt32, partitions: [Partition], bootCode: [UInt8] = []) {
        self.diskIdentifier = diskIdentifier
        self.partitions = partitions
        self.bootCode = bootCode
    }

    public func encode() -> [UInt8] {
        var sector = [UInt8](repeating: 0, count: 512)
        for (i, byte) in bootCode.prefix(440).enumerated() { sector[i] = byte }
        put(&sector, diskIdentifier, at: 440)
        for (slot, partition) in partitions.prefix(4).enumerated() {
            let base = 446 + slot * 16
            sector[base] = partition.bootable ? 0x80 : 0
            sector.replaceSubrange((base + 1)..<(base + 4), with: Self.chs(partition.firstSector))
            sector[base + 4] = partition.type
            let last = partition.firstSector + max(partition.sectorCount, 1) - 1
            sector.replaceSubrange((base + 5)..<(base + 8), with: Self.chs(last))
            put(&sector, partition.firstSector, at: base + 8)
            put(&sector, partition.sectorCount, at: base + 12)
        }
        sector[510] = 0x55
        sector[511] = 0xAA
        return sector
    }

    /// Reads a table; nil when sector 0 has no MBR signature or no partition in use.
    public static func decode(_ sector: [UInt8]) -> MBR? {
        guard sector.count >= 512, sector[510] == 0x55, sector[511] == 0xAA else { return nil }
        var partitions: [Partition] = []
        for slot in 0..<4 {
            let base = 446 + slot * 16
            guard sector[base] == 0 || sector[base] == 0x80 else { return nil }
            let type = sector[base + 4]
            let count = get(sector, at: base + 12)
            if type == 0 || count == 0 { continue }
            partitions.append(Partition(bootable: sector[base] == 0x80, type: type, firstSector: get(sector, at: base + 8), sectorCount: count))
        }
        guard !partitions.isEmpty else { return nil }
        return MBR(diskIdentifier: get(sector, at: 440), partitions: partitions, bootCode: Array(sector[0..<440]))
    }

    /// Cylinder/head/sector for BIOSes that still read them: 255 heads, 63 sectors per track;
    /// past what CHS can address, the conventional 1023/254/63.
    static func chs(_ lba: UInt32) -> [UInt8] {
        let sectorsPerTrack: UInt32 = 63, heads: UInt32 = 255
        let cylinder = lba / (sectorsPerTrack * heads)
        guard cylinder < 1024 else { return [0xFE, 0xFF, 0xFF] }
        let head = (lba / sectorsPerTrack) % heads
        let sector = lba % sectorsPerTrack + 1
        return [UInt8(head), UInt8(sector | ((cylinder >> 2) & 0xC0)), UInt8(cylinder & 0xFF)]
    }

    private func put(_ bytes: inout [UInt8], _ value: UInt32, at offset: Int) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    private static func get(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }
}
