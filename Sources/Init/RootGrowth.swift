import CInitShim
import Glibc

/// `--grow-root`: before the root is mounted its MBR partition is extended to the disk's end
/// (the table rewritten, then the kernel told with BLKPG); once mounted, its ext4 is grown
/// online to fill the partition. Each boot checks again, so a disk resized later grows on its
/// next boot, and one that already fills its disk is left alone. A failure is a warning:
/// the system still boots at its old size.
enum RootGrowth {
    /// Partitions end on a 1 MiB boundary, as the converter lays them out.
    static let alignmentSectors: Int64 = 2048
    /// What an MBR entry can address (32-bit sector counts).
    static let maxSectors = Int64(UInt32.max)

    /// Extends the root's partition; nothing when it is not an MBR partition or is not the last one.
    static func growPartition(_ device: String, console: Console) {
        let name = String(device.dropFirst("/dev/".count))
        guard let number = sysfsNumber("/sys/class/block/\(name)/partition") else {
            console.step("grow-root: \(device) is a whole disk, no partition to grow")
            return
        }
        guard let disk = parentDisk(of: name), let start = sysfsNumber("/sys/class/block/\(name)/start"),
            let size = sysfsNumber("/sys/class/block/\(name)/size"), let diskSectors = sysfsNumber("/sys/class/block/\(disk)/size")
        else {
            console.warn("grow-root: cannot read \(device)'s place on its disk from /sys")
            return
        }
        do {
            let grown = try extend(disk: "/dev/" + disk, number: number, start: start, size: size, diskSectors: diskSectors)
            if let grown { console.step("grow-root: \(device) grown from \(size / 2048) to \(grown / 2048) MiB") }
        } catch {
            console.warn("grow-root: \(error)")
        }
    }

    /// Grows the ext4 mounted at `mountPoint` to its partition's size.
    static func growFilesystem(at mountPoint: String, device: String, console: Console) {
        let name = String(device.dropFirst("/dev/".count))
        var info = statvfs()
        guard let sectors = sysfsNumber("/sys/class/block/\(name)/size"), statvfs(mountPoint, &info) == 0, info.f_frsize > 0 else {
            console.warn("grow-root: cannot read the size of \(device) or its filesystem")
            return
        }
        let blocks = UInt64(sectors * 512) / UInt64(info.f_frsize)
        let fd = open(mountPoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            console.warn("grow-root: open \(mountPoint): \(String(cString: strerror(errno)))")
            return
        }
        defer { close(fd) }
        // Equal sizes are a no-op in the kernel: a disk that was grown before stays as it is.
        if oi_ext4_resize(fd, blocks) != 0 {
            console.warn("grow-root: resizing the root filesystem to \(blocks) blocks failed: \(String(cString: strerror(errno)))")
            return
        }
        console.step("grow-root: the root filesystem has \(blocks) blocks of \(info.f_frsize) bytes")
    }

    /// Rewrites entry `number` of the MBR on `disk` to end at the disk's (aligned) end and tells
    /// the kernel; returns the new sector count, nil when there is nothing to grow.
    static func extend(disk: String, number: Int64, start: Int64, size: Int64, diskSectors: Int64) throws(InitError) -> Int64? {
        guard (1...4).contains(number) else { return nil }  // logical partitions: not ours
        let end = min(diskSectors, maxSectors) / alignmentSectors * alignmentSectors
        guard end - start > size else { return nil }
        let fd = open(disk, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw .system(operation: "open", path: disk, errno: errno) }
        defer { close(fd) }
        var sector = [UInt8](repeating: 0, count: 512)
        guard sector.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, 512, 0) }) == 512 else {
            throw .system(operation: "read", path: disk, errno: errno)
        }
        guard var table = MBRSector(sector) else { return nil }
        guard table.start(of: Int(number) - 1) == start, !table.hasPartition(startingAfter: start) else { return nil }
        let count = end - start
        table.setCount(UInt32(count), of: Int(number) - 1)
        sector = table.bytes
        guard sector.withUnsafeBytes({ pwrite(fd, $0.baseAddress, 512, 0) }) == 512, fsync(fd) == 0 else {
            throw .system(operation: "write", path: disk, errno: errno)
        }
        guard oi_resize_partition(fd, Int32(number), start * 512, count * 512) == 0 else {
            throw .system(operation: "BLKPG_RESIZE_PARTITION", path: disk, errno: errno)
        }
        return count
    }

    /// `vda` for `vda2`: the partition's sysfs folder sits in its disk's.
    static func parentDisk(of partition: String) -> String? {
        guard let resolved = realpath("/sys/class/block/\(partition)", nil) else { return nil }
        defer { free(resolved) }
        let parts = String(cString: resolved).split(separator: "/")
        return parts.count >= 2 ? String(parts[parts.count - 2]) : nil
    }

    static func sysfsNumber(_ path: String) -> Int64? {
        guard let text = try? FileSystem.readText(path, limit: 64) else { return nil }
        return Int64(text.filter { !$0.isWhitespace })
    }
}

/// The four primary entries of an MBR (sector 0), only as far as growing one needs.
struct MBRSector {
    private(set) var bytes: [UInt8]

    /// nil without the 0x55AA signature or with a GPT's protective entry (0xEE).
    init?(_ sector: [UInt8]) {
        guard sector.count == 512, sector[510] == 0x55, sector[511] == 0xAA else { return nil }
        bytes = sector
        if (0..<4).contains(where: { bytes[446 + $0 * 16 + 4] == 0xEE }) { return nil }
    }

    func start(of slot: Int) -> Int64 { Int64(field(446 + slot * 16 + 8)) }
    private func count(of slot: Int) -> Int64 { Int64(field(446 + slot * 16 + 12)) }

    func hasPartition(startingAfter sector: Int64) -> Bool {
        (0..<4).contains { bytes[446 + $0 * 16 + 4] != 0 && count(of: $0) > 0 && start(of: $0) > sector }
    }

    mutating func setCount(_ count: UInt32, of slot: Int) {
        let base = 446 + slot * 16
        for i in 0..<4 { bytes[base + 12 + i] = UInt8(truncatingIfNeeded: count >> (8 * i)) }
        // The end's CHS: past 1023 cylinders, the conventional 1023/254/63 (as the converter writes).
        let last = UInt32(start(of: slot)) + count - 1
        let cylinder = last / (63 * 255)
        let chs: [UInt8] =
            cylinder < 1024
            ? [UInt8((last / 63) % 255), UInt8((last % 63 + 1) | ((cylinder >> 2) & 0xC0)), UInt8(cylinder & 0xFF)]
            : [0xFE, 0xFF, 0xFF]
        bytes.replaceSubrange((base + 5)..<(base + 8), with: chs)
    }

    private func field(_ offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }
}
