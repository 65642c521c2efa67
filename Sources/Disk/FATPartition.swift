import SystemBase
import Foundation

/// A FAT filesystem at an offset inside an image file, made and read with GNU mtools
/// (`mformat`, `mcopy`, `mdir` with `-i IMAGE@@OFFSET`): no mount, no loop device, no root.
///
/// Why FAT: the boot partition is read by syslinux, which boots from FAT far faster than GRUB
/// reads ext4 under emulation (see docs/performance.md). Reproducible: mtools takes "now" from
/// SOURCE_DATE_EPOCH and local time from TZ, both fixed here, and the volume serial is ours.
public struct FATPartition: Sendable {
    public let image: String
    public let offset: Int64
    /// Every file's time (FAT cannot store times before 1980; earlier ones are moved up).
    public let time: Int64

    public init(image: String, offset: Int64, time: Int64 = Self.earliestTime) {
        self.image = image
        self.offset = offset
        self.time = max(time, Self.earliestTime)
    }

    /// 1980-01-02 00:00:00 UTC: FAT's epoch plus a day, clear of any rounding.
    public static let earliestTime: Int64 = 315_619_200

    /// Formats `bytes` (a multiple of 1 MiB) as FAT (mformat picks FAT16 or FAT32 by size).
    /// `hiddenSectors`: where the partition starts on its disk (default: its offset here).
    public func format(bytes: Int64, label: String, serial: UInt32, hiddenSectors: Int64? = nil) throws {
        let sectors = bytes / 512
        // 64 heads × 32 sectors: a cylinder is 1 MiB, so the size is whole cylinders. -H: the
        // partition's first sector, which boot code adds to find its own sectors.
        try run(
            "mformat",
            [
                "-i", target, "-T", "\(sectors)", "-h", "64", "-s", "32", "-H", "\(hiddenSectors ?? offset / 512)",
                "-N", String(format: "%08x", serial), "-v", label, "::"
            ])
        try setLabelCase(label)
    }

    /// Copies host files in as `::/NAME`.
    public func copy(_ files: [(source: String, name: String)]) throws {
        for file in files { try run("mcopy", ["-i", target, "-o", file.source, "::/" + file.name]) }
    }

    /// Copies `::/NAME` for each name into `directory` with one mtools run (each run costs a
    /// process start, which counts on `oci2disk run`'s way to the first line). Fails if one
    /// is missing.
    public func copyOut(_ names: [String], to directory: String) throws {
        try run("mcopy", ["-n", "-i", target] + names.map { "::/" + $0 } + [directory + "/"])
    }

    /// Every file with its size, in directory order, from one long listing (`mdir -/ -a`):
    /// nothing is copied out, so a crafted partition whose entries share clusters costs no
    /// more than its listing.
    public func files() throws -> [(path: String, size: Int64)] {
        let output = String(decoding: try run("mdir", ["-i", target, "-/", "-a", "::"]), as: UTF8.self)
        var directory = ""
        var result: [(path: String, size: Int64)] = []
        for line in output.split(whereSeparator: \.isNewline).map(String.init) {
            if line.hasPrefix("Directory for ::") {
                directory = String(line.dropFirst("Directory for ::".count))
                if directory == "/" { directory = "" }
                continue
            }
            guard let entry = Self.listingEntry(line) else { continue }
            result.append((directory + "/" + entry.name, entry.size))
        }
        return result
    }

    /// `NAME     EXT      SIZE YYYY-MM-DD  HH:MM  LONG NAME` (LC_ALL=C); nil for folders,
    /// headers and totals. The long name, when there is one, is the file's name.
    public static func listingEntry(_ line: String) -> (name: String, size: Int64)? {
        let characters = Array(line)
        guard characters.count > 13, characters[8] == " " else { return nil }
        let base = String(characters[0..<8]).trimmingCharacters(in: .whitespaces)
        let ext = String(characters[9..<12]).trimmingCharacters(in: .whitespaces)
        let rest = String(characters[12...]).split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true).map(String.init)
        guard !base.isEmpty, rest.count >= 3, let size = Int64(rest[0]), rest[1].count == 10, rest[1].dropFirst(4).first == "-" else { return nil }
        // The long name follows the time, after its column's padding.
        let long = rest.count == 4 ? rest[3].trimmingCharacters(in: .whitespaces) : ""
        return (long.isEmpty ? (ext.isEmpty ? base : base + "." + ext) : long, size)
    }

    /// Every file's path (`/NAME`, `/DIR/NAME`), hidden and system files included.
    public func list() throws -> [String] {
        let output = String(decoding: try run("mdir", ["-i", target, "-/", "-a", "-b", "::"]), as: UTF8.self)
        return output.split(whereSeparator: \.isNewline).compactMap { line in
            line.hasPrefix("::/") ? String(line.dropFirst(2)) : nil
        }
    }

    /// The MBR partition type for what mformat made: 0x0E (FAT16, LBA) or 0x0C (FAT32, LBA).
    public func partitionType() throws -> UInt8 {
        let sector = try readSector(0)
        return Array(sector[0x52..<0x57]) == Array("FAT32".utf8) ? 0x0C : 0x0E
    }

    private var target: String { "\(image)@@\(offset)" }

    /// mtools writes the root directory's volume label in upper case; Linux and blkid read it
    /// from there, and the layout promises a partition labelled exactly `boot`. FAT allows
    /// lower case in a label (dosfstools writes it), so the entry gets the label as given.
    private func setLabelCase(_ label: String) throws {
        let boot = try readSector(0)
        func u16(_ at: Int) -> Int { Int(boot[at]) | Int(boot[at + 1]) << 8 }
        let bytesPerSector = u16(0x0B), reserved = u16(0x0E), fats = Int(boot[0x10]), rootEntries = u16(0x11), fatSectors16 = u16(0x16)
        // FAT32 keeps its root directory in clusters: the label there is left as mtools wrote it.
        guard bytesPerSector == 512, fatSectors16 > 0, rootEntries > 0 else { return }
        let rootStart = offset + Int64((reserved + fats * fatSectors16) * bytesPerSector)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: image))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(rootStart))
        let root = [UInt8](try handle.read(upToCount: rootEntries * 32) ?? Data())
        var name = Array(label.utf8.prefix(11))
        name += [UInt8](repeating: 0x20, count: 11 - name.count)
        for entry in stride(from: 0, to: root.count - 31, by: 32) where root[entry] != 0 && root[entry] != 0xE5 && root[entry + 11] == 0x08 {
            try handle.seek(toOffset: UInt64(rootStart) + UInt64(entry))
            try handle.write(contentsOf: Data(name))
            return
        }
    }

    private func readSector(_ index: Int64) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: image) else { throw DiskError.system(.lastError("\(image): open")) }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset + index * 512))
        let sector = [UInt8](try handle.read(upToCount: 512) ?? Data())
        guard sector.count == 512 else { throw DiskError.invalidDisk(path: image, reason: "no FAT boot sector at byte \(offset)") }
        return sector
    }

    /// Whether mtools is installed (what reading and writing the partition needs).
    public static var toolsInstalled: Bool { toolPath("mcopy") != nil }

    private static func toolPath(_ tool: String) -> String? {
        Executable.find(tool, in: Executable.system)
    }

    /// Runs an mtools command; returns its standard output.
    @discardableResult
    private func run(_ tool: String, _ arguments: [String]) throws -> [UInt8] {
        guard let path = Self.toolPath(tool) else {
            throw DiskError.toolMissing(tool: tool, package: "mtools", neededFor: "a FAT partition")
        }
        return try Self.execute(path, arguments, environment: ["SOURCE_DATE_EPOCH": "\(time)"])
    }

    /// Runs a tool with a fixed time and clock (TZ=UTC, SOURCE_DATE_EPOCH) and no mtools
    /// configuration from the user, so the same input gives the same bytes. Returns stdout.
    public static func execute(_ path: String, _ arguments: [String], environment extra: [String: String]) throws -> [UInt8] {
        var environment = ["PATH": "/usr/bin:/bin", "TZ": "UTC", "LC_ALL": "C", "MTOOLSRC": "/dev/null", "MTOOLS_SKIP_CHECK": "1"]
        environment.merge(extra) { $1 }
        let result = try ChildProcess.collect(path, arguments, environment: environment)
        guard result.status == 0 else {
            throw DiskError.toolFailed(tool: URL(fileURLWithPath: path).lastPathComponent, message: result.errorLine)
        }
        return result.output
    }
}
