// The OCI runtime configuration (config.json), the part a Linux bundle uses.
// Source: https://github.com/opencontainers/runtime-spec/blob/v1.0.2/specs-go/config.go
// One struct per Go type; JSON names as the Go tags; optional fields are left out when nil.

/// Source: specs-go/config.go `Spec`.
public struct RuntimeSpec: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var process: Process?
    public var root: Root?
    public var hostname: String?
    public var mounts: [Mount]?
    public var annotations: [String: String]?
    public var linux: Linux?

    public init(
        ociVersion: String = RuntimeSpec.version, process: Process? = nil, root: Root? = nil, hostname: String? = nil,
        mounts: [Mount]? = nil, annotations: [String: String]? = nil, linux: Linux? = nil
    ) {
        self.ociVersion = ociVersion
        self.process = process
        self.root = root
        self.hostname = hostname
        self.mounts = mounts
        self.annotations = annotations
        self.linux = linux
    }

    /// The version written: what runc 1.1 implements.
    public static let version = "1.0.2"
}

extension RuntimeSpec {
    /// Source: specs-go/config.go `Process`.
    public struct Process: Codable, Sendable, Equatable {
        public var terminal: Bool?
        public var user: User
        public var args: [String]?
        public var env: [String]?
        public var cwd: String
        public var capabilities: LinuxCapabilities?
        public var rlimits: [POSIXRlimit]?
        public var noNewPrivileges: Bool?
        public var apparmorProfile: String?
        public var oomScoreAdj: Int?
        public var selinuxLabel: String?

        public init(
            terminal: Bool? = nil, user: User, args: [String]? = nil, env: [String]? = nil, cwd: String,
            capabilities: LinuxCapabilities? = nil, rlimits: [POSIXRlimit]? = nil, noNewPrivileges: Bool? = nil
        ) {
            self.terminal = terminal
            self.user = user
            self.args = args
            self.env = env
            self.cwd = cwd
            self.capabilities = capabilities
            self.rlimits = rlimits
            self.noNewPrivileges = noNewPrivileges
        }
    }

    /// Source: specs-go/config.go `User`.
    public struct User: Codable, Sendable, Equatable {
        public var uid: UInt32
        public var gid: UInt32
        public var umask: UInt32?
        public var additionalGids: [UInt32]?

        public init(uid: UInt32, gid: UInt32, additionalGids: [UInt32]? = nil) {
            self.uid = uid
            self.gid = gid
            self.additionalGids = additionalGids
        }
    }

    /// Source: specs-go/config.go `LinuxCapabilities`.
    public struct LinuxCapabilities: Codable, Sendable, Equatable {
        public var bounding: [String]?
        public var effective: [String]?
        public var inheritable: [String]?
        public var permitted: [String]?
        public var ambient: [String]?

        public init(
            bounding: [String]? = nil, effective: [String]? = nil, inheritable: [String]? = nil,
            permitted: [String]? = nil, ambient: [String]? = nil
        ) {
            self.bounding = bounding
            self.effective = effective
            self.inheritable = inheritable
            self.permitted = permitted
            self.ambient = ambient
        }
    }

    /// Source: specs-go/config.go `POSIXRlimit`.
    public struct POSIXRlimit: Codable, Sendable, Equatable {
        public var type: String
        public var hard: UInt64
        public var soft: UInt64

        public init(type: String, hard: UInt64, soft: UInt64) {
            self.type = type
            self.hard = hard
            self.soft = soft
        }
    }

    /// Source: specs-go/config.go `Root`.
    public struct Root: Codable, Sendable, Equatable {
        public var path: String
        public var readonly: Bool?

        public init(path: String, readonly: Bool? = nil) {
            self.path = path
            self.readonly = readonly
        }
    }

    /// Source: specs-go/config.go `Mount`.
    public struct Mount: Codable, Sendable, Equatable {
        public var destination: String
        public var type: String?
        public var source: String?
        public var options: [String]?

        public init(destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil) {
            self.destination = destination
            self.type = type
            self.source = source
            self.options = options
        }
    }

    /// Source: specs-go/config.go `Linux`.
    public struct Linux: Codable, Sendable, Equatable {
        public var uidMappings: [LinuxIDMapping]?
        public var gidMappings: [LinuxIDMapping]?
        public var sysctl: [String: String]?
        public var resources: LinuxResources?
        public var cgroupsPath: String?
        public var namespaces: [LinuxNamespace]?
        public var rootfsPropagation: String?
        public var maskedPaths: [String]?
        public var readonlyPaths: [String]?
        public var mountLabel: String?

        public init(
            uidMappings: [LinuxIDMapping]? = nil, gidMappings: [LinuxIDMapping]? = nil, resources: LinuxResources? = nil,
            namespaces: [LinuxNamespace]? = nil, maskedPaths: [String]? = nil, readonlyPaths: [String]? = nil
        ) {
            self.uidMappings = uidMappings
            self.gidMappings = gidMappings
            self.resources = resources
            self.namespaces = namespaces
            self.maskedPaths = maskedPaths
            self.readonlyPaths = readonlyPaths
        }
    }

    /// Source: specs-go/config.go `LinuxIDMapping`.
    public struct LinuxIDMapping: Codable, Sendable, Equatable {
        public var containerID: UInt32
        public var hostID: UInt32
        public var size: UInt32

        public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
            self.containerID = containerID
            self.hostID = hostID
            self.size = size
        }
    }

    /// Source: specs-go/config.go `LinuxNamespace` (`type` is a `LinuxNamespaceType`).
    public struct LinuxNamespace: Codable, Sendable, Equatable {
        public var type: String
        public var path: String?

        public init(type: String, path: String? = nil) {
            self.type = type
            self.path = path
        }
    }

    /// Source: specs-go/config.go `LinuxResources` (only the device cgroup rules).
    public struct LinuxResources: Codable, Sendable, Equatable {
        public var devices: [LinuxDeviceCgroup]?

        public init(devices: [LinuxDeviceCgroup]? = nil) { self.devices = devices }
    }

    /// Source: specs-go/config.go `LinuxDeviceCgroup`.
    public struct LinuxDeviceCgroup: Codable, Sendable, Equatable {
        public var allow: Bool
        public var type: String?
        public var major: Int64?
        public var minor: Int64?
        public var access: String?

        public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
            self.allow = allow
            self.type = type
            self.major = major
            self.minor = minor
            self.access = access
        }
    }
}
