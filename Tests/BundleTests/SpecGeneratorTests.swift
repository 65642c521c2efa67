import GuestContract
@testable import Bundle
import Foundation
import OCIModels
import Testing

@Suite("RuntimeSpec") struct RuntimeSpecTests {
    private func image(_ run: RunConfig? = nil) -> ImageConfig {
        ImageConfig(architecture: "amd64", os: "linux", created: "2024-01-01T00:00:00Z", config: run, rootfs: RootFS(diffIDs: []))
    }

    private let users = UserDatabase(
        passwd: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
        group: "root:x:0:\napp:x:1000:\naudio:x:29:app\n")

    @Test func defaultsAreWhatRuncSpecWrites() {
        let spec = DefaultSpec.make()
        #expect(spec.linux?.namespaces?.map(\.type) == ["pid", "network", "ipc", "uts", "mount"])
        #expect(spec.mounts?.map(\.destination) == ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"])
        #expect(spec.process?.capabilities?.bounding == ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
        #expect(spec.process?.noNewPrivileges == true && spec.process?.terminal == false)
        #expect(spec.linux?.resources?.devices == [RuntimeSpec.LinuxDeviceCgroup(allow: false, access: "rwm")])
        #expect(spec.linux?.uidMappings == nil)
    }

    @Test func rootlessIsRuncsToRootless() {
        let spec = DefaultSpec.make(rootless: .init(uid: 1234, gid: 5678))
        #expect(spec.linux?.namespaces?.map(\.type) == ["pid", "ipc", "uts", "mount", "user"])
        #expect(spec.linux?.uidMappings == [RuntimeSpec.LinuxIDMapping(containerID: 0, hostID: 1234, size: 1)])
        #expect(spec.linux?.gidMappings == [RuntimeSpec.LinuxIDMapping(containerID: 0, hostID: 5678, size: 1)])
        #expect(spec.linux?.resources == nil)
        #expect(
            spec.mounts?.first { $0.destination == "/sys" }
                == RuntimeSpec.Mount(
                    destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"]))
        #expect(spec.mounts?.contains { $0.options?.contains("gid=5") ?? false } == false)
    }

    @Test func jsonUsesTheSpecNamesAndLeavesOutNil() throws {
        let spec = DefaultSpec.make(rootless: .init(uid: 1, gid: 2))
        let json = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        for key in ["\"ociVersion\"", "\"noNewPrivileges\"", "\"containerID\"", "\"hostID\"", "\"uidMappings\"", "\"maskedPaths\""] {
            #expect(json.contains(key))
        }
        #expect(!json.contains("null") && !json.contains("\"annotations\"") && !json.contains("\"umask\""))
        #expect(try JSONDecoder().decode(RuntimeSpec.self, from: Data(json.utf8)) == spec)
    }

    @Test func processFromImageConfig() throws {
        var run = RunConfig()
        run.entrypoint = ["/app"]
        run.cmd = ["serve"]
        run.env = ["PATH=/opt/bin", "A=1"]
        run.workingDir = "srv"
        run.user = "app"
        let spec = try SpecGenerator.generate(config: image(run), users: users)
        let process = try #require(spec.process)
        #expect(process.args == ["/app", "serve"])
        #expect(process.env == ["PATH=/opt/bin", "A=1", "HOME=/home/app"])
        #expect(process.cwd == "/srv")
        #expect(process.user == RuntimeSpec.User(uid: 1000, gid: 1000, additionalGids: [29]))
    }

    @Test func overridesReplaceTheImagesSettings() throws {
        var run = RunConfig()
        run.entrypoint = ["/app"]
        run.cmd = ["serve"]
        run.env = ["A=1", "B=2"]
        var overrides = RunOverrides()
        overrides.entrypoint = ["/other"]
        overrides.environment = ["A=3", "C=4"]
        overrides.user = "0:0"
        overrides.hostname = "h"
        let spec = try SpecGenerator.generate(config: image(run), users: users, overrides: overrides)
        #expect(spec.process?.args == ["/other"], "a new entrypoint drops the image's Cmd")
        #expect(spec.process?.env == ["PATH=\(GuestDefaults.path)", "B=2", "A=3", "C=4", "HOME=/root"])
        #expect(spec.hostname == "h")
        overrides.cmd = ["x"]
        #expect(try SpecGenerator.generate(config: image(run), users: users, overrides: overrides).process?.args == ["/other", "x"])
    }

    @Test func rootlessDropsSupplementaryGroups() throws {
        var run = RunConfig()
        run.user = "app"
        let spec = try SpecGenerator.generate(config: image(run), users: users, rootless: .init(uid: 1, gid: 1))
        #expect(spec.process?.user == RuntimeSpec.User(uid: 1000, gid: 1000))
    }

    @Test func annotationsFromFieldsThenLabels() {
        var run = RunConfig()
        run.labels = ["org.opencontainers.image.os": "mine", "x": "y"]
        run.stopSignal = "SIGTERM"
        run.exposedPorts = ["80/tcp": EmptyObject(), "443/tcp": EmptyObject()]
        var config = image(run)
        config.author = "me"
        let annotations = SpecGenerator.annotations(config)
        #expect(
            annotations == [
                "org.opencontainers.image.os": "mine", "x": "y", "org.opencontainers.image.architecture": "amd64",
                "org.opencontainers.image.author": "me", "org.opencontainers.image.created": "2024-01-01T00:00:00Z",
                "org.opencontainers.image.stopSignal": "SIGTERM", "org.opencontainers.image.exposedPorts": "443/tcp,80/tcp"
            ])
    }
}
