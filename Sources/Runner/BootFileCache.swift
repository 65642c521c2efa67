import Disk
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Boot files read from a disk, kept for the next run of the same disk file, so a repeated
/// `run` skips reading the boot partition (an mtools or qemu-img run) and hashing the kernel.
///
/// An entry is keyed by the disk file's identity: device, inode, size, modification and change
/// times. Every write to a file sets its change time, which no user can set back, and `convert`
/// renames a new file into place (a new inode), so a changed disk never matches an old entry.
/// Entries are folders written beside the cache and renamed into place; the most recently used
/// few are kept.
public enum BootFileCache {
    static let kept = 4

    /// The cached boot files of `disk`, or nil.
    public static func lookup(disk: String, cacheDirectory: String) -> BootFiles? {
        guard let key = key(disk: disk) else { return nil }
        let entry = folder(cacheDirectory) + "/" + key
        guard let data = FileManager.default.contents(atPath: entry + "/entry.json"),
            let record = try? JSONDecoder().decode(Record.self, from: data)
        else { return nil }
        let files = BootFiles(
            bzImage: entry + "/vmlinuz", uncompressedKernel: record.uncompressedKernel, initrd: entry + "/initrd.img",
            commandLine: record.commandLine, scratch: nil)
        // All there (the kernel cache may have been cleared on its own).
        guard [files.bzImage, files.initrd, files.kernel].allSatisfy(FileManager.default.fileExists(atPath:)) else { return nil }
        utimes(entry, nil)  // most recently used
        return files
    }

    /// Moves freshly extracted boot files into the cache; returns them at their new place (or
    /// as they were, if the cache cannot be written).
    public static func store(_ files: BootFiles, disk: String, cacheDirectory: String) -> BootFiles {
        guard let key = key(disk: disk), let scratch = files.scratch else { return files }
        let folder = folder(cacheDirectory)
        let temporary = folder + "/.entry-\(getpid())-\(UUID().uuidString.prefix(8))"
        let entry = folder + "/" + key
        func moved(to directory: String, scratch: String?) -> BootFiles {
            BootFiles(
                bzImage: directory + "/vmlinuz", uncompressedKernel: files.uncompressedKernel, initrd: directory + "/initrd.img",
                commandLine: files.commandLine, scratch: scratch)
        }
        do {
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
            for name in [BootPartitionLayout.kernel, BootPartitionLayout.initramfs] {
                try FileManager.default.moveItem(atPath: scratch + "/" + name, toPath: temporary + "/" + name)
            }
            let record = Record(commandLine: files.commandLine, uncompressedKernel: files.uncompressedKernel)
            try JSONEncoder().encode(record).write(to: URL(fileURLWithPath: temporary + "/entry.json"))
        } catch {
            // Whatever was moved goes back, so this run still has its files.
            for name in [BootPartitionLayout.kernel, BootPartitionLayout.initramfs] {
                try? FileManager.default.moveItem(atPath: temporary + "/" + name, toPath: scratch + "/" + name)
            }
            try? FileManager.default.removeItem(atPath: temporary)
            return files
        }
        files.remove()
        guard rename(temporary, entry) == 0 else {
            // Another run stored the same disk meanwhile (either copy is right); otherwise this
            // run boots from its own copy and deletes it afterwards.
            guard FileManager.default.fileExists(atPath: entry + "/entry.json") else { return moved(to: temporary, scratch: temporary) }
            try? FileManager.default.removeItem(atPath: temporary)
            return moved(to: entry, scratch: nil)
        }
        prune(folder)
        return moved(to: entry, scratch: nil)
    }

    struct Record: Codable {
        let commandLine: String
        let uncompressedKernel: String?
    }

    static func folder(_ cacheDirectory: String) -> String { cacheDirectory + "/boot-files" }

    static func key(disk: String) -> String? {
        var info = stat()
        guard stat(disk, &info) == 0 else { return nil }
        return "\(info.st_dev)-\(info.st_ino)-\(info.st_size)-\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)-\(info.st_ctim.tv_sec).\(info.st_ctim.tv_nsec)"
    }

    /// Keeps the most recently used entries.
    static func prune(_ folder: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        let entries = names.filter { !$0.hasPrefix(".") }.map { name -> (String, Date) in
            let path = folder + "/" + name
            let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date ?? .distantPast
            return (path, modified)
        }
        for (path, _) in entries.sorted(by: { $0.1 > $1.1 }).dropFirst(kept) { try? FileManager.default.removeItem(atPath: path) }
    }
}
