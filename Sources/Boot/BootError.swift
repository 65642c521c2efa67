/// Why a disk cannot be made bootable. Each names the input at fault.
public enum BootError: Error, Equatable, Sendable, CustomStringConvertible {
    case noKernel(String)
    case kernelPackage(path: String, reason: String)
    case missingModule(name: String, kernel: String)
    case bootloader(String)
    case template(String)
    case io(String)

    public var description: String {
        switch self {
        case .noKernel(let hint): "no kernel: \(hint)"
        case .kernelPackage(let path, let reason): "\(path): \(reason)"
        case .missingModule(let name, let kernel): "kernel \(kernel) has no module \"\(name)\" (and does not build it in)"
        case .bootloader(let reason): "bootloader: \(reason)"
        case .template(let reason): "template: \(reason)"
        case .io(let reason): reason
        }
    }
}
