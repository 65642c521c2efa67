import Archive
import OCIModels
import Disk
import Foundation

/// A boot partition's start — FAT formatted, SYSLINUX installed — made once per size and kept,
/// then stamped with each disk's volume serial and time.
///
/// Why: `syslinux --install` ends with sync(), which writes back every dirty page on the
/// machine; in a convert that is the whole new disk (hundreds of MB the page cache would
/// otherwise write at leisure), measured at 0.4–0.7 s of a Debian convert. Formatting and
/// installing into a file of the partition's size with a fixed serial and time, then changing
/// only the bytes those two decide, gives the same bytes as running the tools on the disk
/// (checked by a test against the tools themselves): mformat writes the serial into the boot
/// sector and the time into the root folder's first entries (the label, LDLINUX.SYS and
/// LDLINUX.C32), and nothing else depends on either.
///
/// Only FAT12/16 partitions (every boot partition below 2 GiB, which mformat formats as
/// FAT16); others are made with the tools on the disk directly.
public enum SyslinuxTemplate {
    static let format = 1
    /// The serial and time the template is made with.
    static let templateSerial: UInt32 = 0
    static let templateTime = FATPartition.earliestTime

    /// Formats `partition` (`bytes`, `label`, `serial`) and installs SYSLINUX on it.
    public static func install(
        on partition: FATPartition, bytes: Int64, label: String, serial: UInt32, cacheDirectory: String?,
        scratch: String
    ) throws {
        let sectors = try template(
            bytes: bytes, hiddenSectors: partition.offset / 512, label: label, cacheDirectory: cacheDirectory,
            scratch: scratch)
        guard let sectors else {
            // Not FAT12/16: the tools on the disk itself.
            try partition.format(bytes: bytes, label: label, serial: serial)
            try Syslinux.install(on: partition)
            return
        }
        let patches = try stamp(sectors, serial: serial, time: partition.time)
        let fd = open(partition.image, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BootError.system(.lastError(partition.image)) }
        defer { close(fd) }
        // The partition's clusters must read as zeros where the template has none (mformat
        // and syslinux leave them so); a new disk file is a hole there already.
        for (offset, data) in sectors.runs + patches {
            let written = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(partition.offset + offset)) }
            guard written == data.count else {
                throw BootError.system(.lastError("\(partition.image): writing the boot partition"))
            }
        }
    }

    /// The template's non-zero sectors, from the cache or made now; nil when mformat makes a
    /// FAT32 filesystem of this size.
    static func template(bytes: Int64, hiddenSectors: Int64, label: String, cacheDirectory: String?, scratch: String) throws -> SectorRuns? {
        let key = try Self.key(bytes: bytes, hiddenSectors: hiddenSectors, label: label)
        let cached = cacheDirectory.map { "\($0)/syslinux-\(key).sectors" }
        if let cached, let data = FileManager.default.contents(atPath: cached), let runs = SectorRuns(encoded: [UInt8](data)) {
            return runs
        }
        let file = try PrivateTemporary.file(in: scratch, prefix: ".oci2disk-syslinux")
        TemporaryFiles.shared.add(file)
        defer {
            unlink(file)
            TemporaryFiles.shared.remove(file)
        }
        guard truncate(file, off_t(bytes)) == 0 else { throw BootError.system(.lastError(file)) }
        let partition = FATPartition(image: file, offset: 0, time: templateTime)
        try partition.format(bytes: bytes, label: label, serial: templateSerial, hiddenSectors: hiddenSectors)
        guard try partition.partitionType() != 0x0C else { return nil }
        try Syslinux.install(on: partition)
        let runs = try SectorRuns(file: file, bytes: bytes)
        if let cached, let directory = cacheDirectory {
            // A cache that cannot be written costs speed, not the disk.
            try? store(runs, at: cached, in: directory)
        }
        return runs
    }

    /// Renamed into place whole; a damaged file fails its digest and is made again.
    static func store(_ runs: SectorRuns, at path: String, in directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = try PrivateTemporary.file(in: directory, prefix: ".building-syslinux")
        TemporaryFiles.shared.add(temporary)
        defer {
            unlink(temporary)
            TemporaryFiles.shared.remove(temporary)
        }
        try Data(runs.encoded()).write(to: URL(fileURLWithPath: temporary))
        guard chmod(temporary, 0o644) == 0, rename(temporary, path) == 0 else { throw BootError.system(.lastError(path)) }
    }

    /// The boot sector and root folder with the volume serial and the entries' times mformat
    /// and mtools would have written for `serial` and `time` (FAT12/16 layout), to write over
    /// the template's.
    static func stamp(_ sectors: SectorRuns, serial: UInt32, time: Int64) throws -> [(offset: Int64, data: [UInt8])] {
        var boot = sectors.read(at: 0, count: 512)
        func u16(_ at: Int) -> Int { Int(boot[at]) | Int(boot[at + 1]) << 8 }
        let bytesPerSector = u16(0x0B), reserved = u16(0x0E), fats = Int(boot[0x10]), rootEntries = u16(0x11), fatSectors = u16(0x16)
        guard bytesPerSector == 512, fatSectors > 0, rootEntries > 0, boot[0x26] == 0x29 else {
            throw BootError.bootloader("the SYSLINUX template's boot sector is not FAT12/16")
        }
        for i in 0..<4 { boot[0x27 + i] = UInt8(truncatingIfNeeded: serial >> (8 * i)) }
        let rootStart = Int64((reserved + fats * fatSectors) * bytesPerSector)
        let (date, clock, hundredths) = FATTime.encode(max(time, FATPartition.earliestTime))
        var root = sectors.read(at: rootStart, count: rootEntries * 32)
        for entry in stride(from: 0, to: root.count, by: 32) where root[entry] != 0 && root[entry] != 0xE5 {
            root[entry + 13] = hundredths
            for (offset, value) in [(14, clock), (16, date), (18, date), (22, clock), (24, date)] {
                root[entry + offset] = UInt8(value & 0xFF)
                root[entry + offset + 1] = UInt8(value >> 8)
            }
        }
        return [(0, boot), (rootStart, root)]
    }

    /// Everything the template's bytes depend on: its geometry, and the tools that made it.
    static func key(bytes: Int64, hiddenSectors: Int64, label: String) throws -> String {
        var hasher = ContentHasher(.sha256)
        var text = "oci2disk syslinux template \(format)\nbytes \(bytes)\nhidden \(hiddenSectors)\nlabel \(label)\n"
        for tool in ["/usr/bin/syslinux", "/usr/bin/mformat"] {
            guard let data = FileManager.default.contents(atPath: tool) else {
                throw BootError.bootloader("\(tool) missing: install Debian's syslinux and mtools")
            }
            var tools = ContentHasher(.sha256)
            data.withUnsafeBytes { tools.update($0) }
            text += "\(tool) \(tools.finalize().hex)\n"
        }
        Array(text.utf8).withUnsafeBytes { hasher.update($0) }
        return hasher.finalize().hex
    }
}

/// FAT's local date and time fields (TZ=UTC, as mtools runs here).
enum FATTime {
    /// (date, time, hundredths of the creation time) for `seconds` since 1970.
    static func encode(_ seconds: Int64) -> (UInt16, UInt16, UInt8) {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        let year: Int = Int(parts.tm_year) + 1900 - 1980, month: Int = Int(parts.tm_mon) + 1, day: Int = Int(parts.tm_mday)
        let hour: Int = Int(parts.tm_hour), minute: Int = Int(parts.tm_min), second: Int = Int(parts.tm_sec)
        let date: Int = (year << 9) | (month << 5) | day
        let clock: Int = (hour << 11) | (minute << 5) | (second / 2)
        // mtools leaves the creation time's hundredths at 0, odd seconds included.
        return (UInt16(date), UInt16(clock), 0)
    }
}

/// A partition's non-zero 512-byte sectors, in runs, with a digest when stored.
struct SectorRuns: Equatable {
    let runs: [(offset: Int64, data: [UInt8])]

    static func == (a: SectorRuns, b: SectorRuns) -> Bool {
        a.runs.count == b.runs.count && zip(a.runs, b.runs).allSatisfy { $0.offset == $1.offset && $0.data == $1.data }
    }

    /// Reads `file` (`bytes` long) and keeps its non-zero sectors.
    init(file: String, bytes: Int64) throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw BootError.unreadable(path: file, what: "the boot partition just written") }
        let all = [UInt8](data)
        var runs: [(Int64, [UInt8])] = []
        var sector = 0
        while sector * 512 < all.count {
            let range = (sector * 512)..<min((sector + 1) * 512, all.count)
            if all[range].contains(where: { $0 != 0 }) {
                if let last = runs.last, last.0 + Int64(last.1.count) == Int64(range.lowerBound) {
                    runs[runs.count - 1].1 += all[range]
                } else {
                    runs.append((Int64(range.lowerBound), Array(all[range])))
                }
            }
            sector += 1
        }
        self.runs = runs
    }

    /// `count` bytes at `offset` (zeros outside the runs).
    func read(at offset: Int64, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        for run in runs {
            let start = max(offset, run.offset), end = min(offset + Int64(count), run.offset + Int64(run.data.count))
            guard start < end else { continue }
            for i in start..<end { bytes[Int(i - offset)] = run.data[Int(i - run.offset)] }
        }
        return bytes
    }

    /// `SHA256HEX\n` then, per run, `offset count\n` and the bytes.
    func encoded() -> [UInt8] {
        var body: [UInt8] = []
        for run in runs { body += Array("\(run.offset) \(run.data.count)\n".utf8) + run.data }
        return Array((Self.digest(body) + "\n").utf8) + body
    }

    /// nil for anything but an intact encoding.
    init?(encoded: [UInt8]) {
        guard encoded.count > 65, encoded[64] == UInt8(ascii: "\n") else { return nil }
        let body = Array(encoded[65...])
        guard String(decoding: encoded[0..<64], as: UTF8.self) == Self.digest(body) else { return nil }
        var runs: [(Int64, [UInt8])] = []
        var index = 0
        while index < body.count {
            guard let newline = body[index...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            let header = String(decoding: body[index..<newline], as: UTF8.self).split(separator: " ")
            guard header.count == 2, let offset = Int64(header[0]), let count = Int(header[1]), offset >= 0, count > 0,
                newline + 1 + count <= body.count
            else { return nil }
            runs.append((offset, Array(body[(newline + 1)..<(newline + 1 + count)])))
            index = newline + 1 + count
        }
        self.runs = runs
    }

    private static func digest(_ bytes: [UInt8]) -> String {
        var hasher = ContentHasher(.sha256)
        bytes.withUnsafeBytes { hasher.update($0) }
        return hasher.finalize().hex
    }
}
