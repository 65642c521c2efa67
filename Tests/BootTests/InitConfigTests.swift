@testable import Boot
import GuestContract
import OCIModels
import Testing

@Suite struct InitConfigTests {
    @Test func appliesOverridesLikeDockerRun() {
        var image = RunConfig()
        image.entrypoint = ["/entry"]
        image.cmd = ["default"]
        image.env = ["PATH=/bin", "A=1"]
        image.workingDir = "/srv"
        var config = InitConfig(mode: .app)
        config.apply(image: image, overrides: RunOverrides())
        #expect(config.arguments == ["/entry", "default"])

        var overrides = RunOverrides()
        overrides.cmd = ["other"]
        overrides.environment = ["A=2", "B=3"]
        config.apply(image: image, overrides: overrides)
        #expect(config.arguments == ["/entry", "other"])
        #expect(config.environment == ["PATH=/bin", "A=2", "B=3"])
        #expect(config.workingDirectory == "/srv")

        overrides = RunOverrides()
        overrides.entrypoint = ["/bin/sh"]
        config.apply(image: image, overrides: overrides)
        #expect(config.arguments == ["/bin/sh"], "a new entrypoint drops the image's Cmd")
    }
}

@Suite struct ModuleClosureTests {
    func modules() throws -> KernelModules {
        let store = try KernelModules(scratchDirectory: "/tmp")
        func ko(_ name: String, _ depends: String) -> [UInt8] {
            [0x7F, 0x45, 0x4C, 0x46, 0] + Array("license=GPL".utf8) + [0] + Array("depends=\(depends)".utf8) + [0] + Array("name=\(name)".utf8) + [0]
        }
        try store.add(relativePath: "kernel/drivers/virtio/virtio_pci.ko", bytes: ko("virtio_pci", "virtio_pci_modern_dev,virtio,virtio_ring"))
        try store.add(relativePath: "kernel/drivers/virtio/virtio_pci_modern_dev.ko", bytes: ko("virtio_pci_modern_dev", ""))
        try store.add(relativePath: "kernel/drivers/virtio/virtio.ko", bytes: ko("virtio", ""))
        try store.add(relativePath: "kernel/drivers/virtio/virtio_ring.ko", bytes: ko("virtio_ring", "virtio"))
        try store.add(relativePath: "kernel/drivers/block/virtio_blk.ko", bytes: ko("virtio_blk", "virtio,virtio_ring"))
        store.builtin = ["ext4"]
        return store
    }

    @Test func dependenciesComeFirstAndBuiltinsAreSkipped() throws {
        let order = try modules().closure(of: ["virtio_pci", "virtio_blk", "ext4"], kernel: "test").map(\.name)
        #expect(order == ["virtio_pci_modern_dev", "virtio", "virtio_ring", "virtio_pci", "virtio_blk"])
    }

    @Test func aMissingRequiredModuleIsAnError() throws {
        #expect(throws: BootError.missingModule(name: "virtio_net", kernel: "test")) {
            try modules().closure(of: ["virtio_net"], kernel: "test")
        }
        #expect(try modules().closure(of: ["virtio_net"], optional: ["virtio_net"], kernel: "test").isEmpty)
    }

    @Test func moduleNamesUseUnderscores() {
        #expect(KernelModules.canonical(fileName: "kernel/arch/x86/crypto/crc32c-intel.ko") == "crc32c_intel")
        #expect(KernelModules.canonical(fileName: "x/virtio_blk.ko.xz") == "virtio_blk")
    }
}
