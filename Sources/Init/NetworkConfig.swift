/// An IPv4 address, kept as four octets.
struct IPv4Address: Equatable, CustomStringConvertible {
    var octets: (UInt8, UInt8, UInt8, UInt8)

    init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        octets = (a, b, c, d)
    }

    /// Dotted quad; each part 0–255 in decimal.
    init?(parsing text: Substring) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else {
            return nil
        }
        var values: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let value = UInt8(part)
            else {
                return nil
            }
            values.append(value)
        }
        octets = (values[0], values[1], values[2], values[3])
    }

    /// The netmask of a prefix length (0–32).
    init(prefixLength: Int) {
        let mask: UInt32 = prefixLength <= 0 ? 0 : UInt32.max << UInt32(32 - min(prefixLength, 32))
        octets = (UInt8(mask >> 24), UInt8(mask >> 16 & 0xFF), UInt8(mask >> 8 & 0xFF), UInt8(mask & 0xFF))
    }

    /// In network byte order, as `struct in_addr.s_addr` holds it.
    var networkOrder: UInt32 {
        let hostValue = UInt32(octets.0) << 24 | UInt32(octets.1) << 16 | UInt32(octets.2) << 8 | UInt32(octets.3)
        return hostValue.bigEndian
    }

    var description: String {
        "\(octets.0).\(octets.1).\(octets.2).\(octets.3)"
    }

    static func == (lhs: IPv4Address, rhs: IPv4Address) -> Bool {
        lhs.octets == rhs.octets
    }
}

/// How eth0 and DNS are set up in app mode. Defaults fit QEMU user networking (`-netdev user`).
struct NetworkConfig: Equatable {
    struct Interface: Equatable {
        var address: IPv4Address
        var prefixLength: Int
        var gateway: IPv4Address?
    }

    /// nil: leave eth0 down.
    var eth0: Interface? = Interface(
        address: IPv4Address(10, 0, 2, 15), prefixLength: 24, gateway: IPv4Address(10, 0, 2, 2))
    var nameservers: [IPv4Address] = [IPv4Address(10, 0, 2, 3)]
    /// Addresses the guest must never send to (`oci2disk.unreachable=A[,B…]`): on `run`'s
    /// private network the gateway's address is no host, and a packet to it would leave for
    /// whatever has that address outside.
    var unreachable: [IPv4Address] = []

    init() {}

    init(commandLine: KernelCommandLine) throws(InitError) {
        if let ip = commandLine.value(of: "oci2disk.ip") {
            eth0 = try NetworkConfig.parseInterface(ip)
        }
        if let dns = commandLine.value(of: "oci2disk.dns") {
            nameservers = try NetworkConfig.parseNameservers(dns)
        }
        if let unreachable = commandLine.value(of: "oci2disk.unreachable") {
            self.unreachable = try NetworkConfig.parseAddresses(unreachable, parameter: "oci2disk.unreachable")
        }
    }

    /// `ADDR/PREFIX[,GATEWAY]`, or `off`/`none`.
    static func parseInterface(_ text: String) throws(InitError) -> Interface? {
        if text == "off" || text == "none" {
            return nil
        }
        let bad = InitError.badCommandLine(
            parameter: "oci2disk.ip", reason: "\"\(text)\" is not ADDR/PREFIX[,GATEWAY] or off")
        let fields = text.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == 1 || fields.count == 2 else {
            throw bad
        }
        let cidr = fields[0].split(separator: "/", omittingEmptySubsequences: false)
        guard cidr.count == 2, let address = IPv4Address(parsing: cidr[0]),
            cidr[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let prefix = Int(cidr[1]), prefix <= 32
        else {
            throw bad
        }
        var gateway: IPv4Address?
        if fields.count == 2 && !fields[1].isEmpty {
            guard let parsed = IPv4Address(parsing: fields[1]) else {
                throw bad
            }
            gateway = parsed
        }
        return Interface(address: address, prefixLength: prefix, gateway: gateway)
    }

    /// `A[,B…]`.
    static func parseAddresses(_ text: String, parameter: String) throws(InitError) -> [IPv4Address] {
        var addresses: [IPv4Address] = []
        for field in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let address = IPv4Address(parsing: field) else {
                throw InitError.badCommandLine(parameter: parameter, reason: "\"\(text)\" is not a list of IPv4 addresses")
            }
            addresses.append(address)
        }
        return addresses
    }

    /// `A[,B…]`, or `off`/`none` for no resolv.conf override.
    static func parseNameservers(_ text: String) throws(InitError) -> [IPv4Address] {
        if text == "off" || text == "none" || text.isEmpty {
            return []
        }
        var servers: [IPv4Address] = []
        for field in text.split(separator: ",") {
            guard let address = IPv4Address(parsing: field) else {
                throw .badCommandLine(parameter: "oci2disk.dns", reason: "\"\(field)\" is not an IPv4 address")
            }
            servers.append(address)
        }
        return servers
    }

    /// The resolv.conf shown to the command.
    var resolvConf: String {
        nameservers.map { "nameserver \($0)\n" }.joined()
    }
}
