import ArgumentParser
import Convert
import Foundation

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a disk's partitions and filesystems, and optionally every file.")

    @Argument(help: ArgumentHelp("A disk or filesystem image.", valueName: "disk"))
    var disk: String

    @Flag(help: "List every file with its type, mode, owner, size, link target and xattr names.")
    var files = false

    @Flag(help: "Print one JSON object on standard output.")
    var json = false

    func run() throws {
        do {
            let report = try Inspector.inspect(path: disk, listFiles: files)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                printText(report)
            }
        } catch {
            throw fail(disk, error)
        }
    }

    private func printText(_ report: Inspector.Report) {
        let size = report.format == "raw" ? "\(report.size) bytes" : "\(report.format), a \(report.size)-byte disk in \(report.fileSize) bytes"
        print(
            "\(report.path): \(size), partition table: \(report.partitionTable)"
                + (report.diskIdentifier.map { ", identifier \($0)" } ?? ""))
        for partition in report.partitions {
            var line = "  partition \(partition.index): start \(partition.start), size \(partition.size)"
            if let type = partition.type { line += ", type \(type)" }
            if partition.bootable == true { line += ", bootable" }
            print(line)
            guard let filesystem = partition.filesystem else {
                print("    no filesystem recognised")
                continue
            }
            print(
                "    \(filesystem.type ?? "?") UUID=\(filesystem.uuid ?? "-") LABEL=\(filesystem.label ?? "-")"
                    + (filesystem.files.map { ", \($0) files" } ?? ""))
            for entry in filesystem.entries ?? [] {
                var text =
                    "    \(entry.type.padding(toLength: 7, withPad: " ", startingAt: 0)) \(String(entry.mode, radix: 8).leftPad(4)) \(entry.uid):\(entry.gid) \(String(entry.size).leftPad(10, " ")) \(entry.path)"
                if let target = entry.target { text += " -> \(target)" }
                if let rdev = entry.rdev { text += " [\(rdev[0]),\(rdev[1])]" }
                if !entry.xattrs.isEmpty { text += " {\(entry.xattrs.joined(separator: ","))}" }
                print(text)
            }
        }
    }
}

private extension String {
    func leftPad(_ width: Int, _ pad: Character = "0") -> String { String(repeating: pad, count: max(0, width - count)) + self }
}
