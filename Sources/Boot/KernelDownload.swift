import Disk
import Foundation
import SystemBase

/// Debian's cloud kernel package, fetched into the user's kernel folder with the host's own
/// apt (its sources, proxy and keys, as an administrator set them up): what `scripts/setup`
/// does for a checkout, for an installed tool. Only the package is downloaded, not installed.
public enum KernelDownload {
    /// The metapackage that names the current cloud kernel (virtio and ext4 built in or as
    /// small modules; boots fastest under emulation).
    public static let defaultMetapackage = "linux-image-cloud-amd64"

    public struct Result: Sendable, Equatable {
        public let path: String
        /// false: that version was in the folder already.
        public let downloaded: Bool
    }

    /// The newest kernel `metapackage` depends on (or `metapackage` itself when it names a
    /// versioned `linux-image-*` package), in `directory`: downloaded unless already there.
    /// `environment` is apt's (the caller's own, normally: its proxy settings are apt's too).
    public static func fetch(_ metapackage: String, into directory: String, environment: [String: String]) throws(BootError) -> Result {
        guard isPackageName(metapackage) else { throw .kernelFetch("\"\(metapackage)\" is not a Debian package name") }
        let apt = AptRunner(environment: environment)
        let package = try versionedPackage(metapackage, apt: apt)
        if let existing = present(package, in: directory) { return Result(path: existing, downloaded: false) }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .kernelFetch("\(directory): cannot create the kernel folder (\(error.localizedDescription))")
        }
        // apt-get download writes into the current folder: a private one beside the target,
        // so a failed or interrupted download leaves nothing a later convert could pick up.
        let scratch: String
        do { scratch = try PrivateTemporary.directory(in: directory, prefix: ".download") } catch {
            throw .kernelFetch("\(directory): cannot create a download folder (\(error))")
        }
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let result = try apt.run("apt-get", ["download", "-q", package], directory: scratch)
        guard result.status == 0 else { throw .kernelFetch("apt-get download \(package) failed: \(result.errorLine)") }
        let debs = ((try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []).filter { $0.hasSuffix(".deb") }
        guard debs.count == 1, let deb = debs.first, deb.hasPrefix(package + "_") else {
            throw .kernelFetch("apt-get download \(package) left \(debs.count) packages, expected its one .deb")
        }
        let target = directory + "/" + deb
        guard rename(scratch + "/" + deb, target) == 0 else { throw .system(.lastError("\(target): rename")) }
        return Result(path: target, downloaded: true)
    }

    /// `linux-image-6.1.0-NN-cloud-amd64` for the metapackage, from apt's own index.
    static func versionedPackage(_ name: String, apt: AptRunner) throws(BootError) -> String {
        if isVersionedKernel(name) { return name }
        let result = try apt.run("apt-cache", ["depends", "--important", name])
        guard result.status == 0 else {
            throw .kernelFetch("apt-cache knows no package \(name) (\(result.errorLine)); run apt-get update, or give --package")
        }
        let text = String(decoding: result.output, as: UTF8.self)
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ")
            if fields.count >= 2, fields[0].hasSuffix("Depends:"), isVersionedKernel(String(fields[1])) { return String(fields[1]) }
        }
        throw .kernelFetch("\(name) depends on no versioned linux-image package (apt-cache depends)")
    }

    /// `linux-image-` then a digit: a kernel release's own package, not a metapackage.
    static func isVersionedKernel(_ name: String) -> Bool {
        name.hasPrefix("linux-image-") && name.dropFirst("linux-image-".count).first?.isNumber == true
    }

    /// Debian policy: lower-case letters, digits, `+ - .`, starting alphanumeric. Checked
    /// before the name reaches apt, where `-o…` or `/` would mean something else.
    static func isPackageName(_ name: String) -> Bool {
        guard let first = name.first, first.isLetter || first.isNumber, name.count >= 2 else { return false }
        return name.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "+-.".contains($0) }
    }

    static func present(_ package: String, in directory: String) -> String? {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix(package + "_") && $0.hasSuffix(".deb") }
        return names.sorted().last.map { directory + "/" + $0 }
    }
}

/// apt's tools, run with the caller's environment, messages in English (they are parsed and
/// quoted in errors) and no prompts.
struct AptRunner {
    let environment: [String: String]

    init(environment: [String: String]) {
        var environment = environment
        environment["LC_ALL"] = "C"
        environment["DEBIAN_FRONTEND"] = "noninteractive"
        self.environment = environment
    }

    func run(_ tool: String, _ arguments: [String], directory: String? = nil) throws(BootError) -> CollectedOutput {
        guard let path = Executable.find(tool, in: Executable.system) else {
            throw .kernelFetch("\(tool) not found: fetch-kernel works on Debian hosts; elsewhere give --kernel-package DEB or --kernel-image SOURCE")
        }
        do { return try ChildProcess.collect(path, arguments, environment: environment, directory: directory) } catch { throw .system(error) }
    }
}
