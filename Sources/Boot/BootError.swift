import SystemBase
/// Why a disk cannot be made bootable. Each names the input at fault.
public enum BootError: Error, Equatable, Sendable, CustomStringConvertible {
    case noKernel(String)
    case kernelPackage(path: String, reason: String)
    case missingModule(name: String, kernel: String)
    /// A file given as a kernel that is none, or one this version cannot boot.
    case notBootableKernel(path: String, reason: String)
    /// The kernel is for another CPU than the image.
    case architectureMismatch(kernel: String, kernelArchitecture: String, platform: String)
    /// The image's platform is one no kernel of this version boots.
    case unsupportedPlatform(platform: String, supported: [String])
    /// `--modules DIR` was built for another kernel release.
    case modulesMismatch(directory: String, modulesRelease: String, kernelRelease: String)
    /// A kernel given without modules lacks a driver the disk needs.
    case driverNotBuiltIn(name: String, kernel: String)
    /// `--init system` on an image without a usable init.
    case systemInit(path: String, reason: String)
    case bootloader(String)
    case template(String)
    /// Debian's kernel package could not be fetched (`oci2disk fetch-kernel`).
    case kernelFetch(String)
    /// The guest init could not be had (not embedded, not found, unreadable).
    case guestInit(String)
    /// A file the user named, or one the tool wrote a moment ago, could not be read.
    case unreadable(path: String, what: String)
    /// `--modules DIR` that is not a folder.
    case notADirectory(path: String, what: String)
    /// A system call failed (the errno is in it).
    case system(SystemError)

    public var description: String {
        switch self {
        case .noKernel(let hint): "no kernel: \(hint)"
        case .kernelPackage(let path, let reason): "\(path): \(reason)"
        case .missingModule(let name, let kernel): "kernel \(kernel) has no module \"\(name)\" (and does not build it in)"
        case .notBootableKernel(let path, let reason): "\(path): \(reason)"
        case .architectureMismatch(let kernel, let kernelArchitecture, let platform):
            "\(kernel) is \(kernelArchitecture), but the image is \(platform): give a kernel for \(platform), or --no-kernel for a data disk"
        case .unsupportedPlatform(let platform, let supported):
            "the image is \(platform), and this version boots only \(supported.joined(separator: ", ")) disks: use --no-kernel for a data disk"
        case .modulesMismatch(let directory, let modulesRelease, let kernelRelease):
            "\(directory): modules for kernel \(modulesRelease), but the kernel is \(kernelRelease): give its own /lib/modules/\(kernelRelease)"
        case .driverNotBuiltIn(let name, let kernel):
            "kernel \(kernel) does not build in \(name), which the disk needs: give its modules with --modules /lib/modules/RELEASE"
        case .systemInit(let path, let reason): "--init system: the image's \(path) \(reason)"
        case .bootloader(let reason): "bootloader: \(reason)"
        case .template(let reason): "template: \(reason)"
        case .system(let error): error.description
        case .guestInit(let reason): reason
        case .kernelFetch(let reason): "fetch-kernel: \(reason)"
        case .unreadable(let path, let what): "\(path): cannot read \(what)"
        case .notADirectory(let path, let what): "\(path): not a directory (\(what))"
        }
    }
}
