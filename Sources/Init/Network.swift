import CInitShim
import Glibc

/// Brings up `lo` and, when the machine has one, `eth0` with a static address and default route
/// (ioctls: SIOCSIFADDR, SIOCSIFNETMASK, SIOCSIFFLAGS, SIOCADDRT). Failures are warnings.
enum Network {
    static func bringUp(_ config: NetworkConfig, console: Console) {
        configure("lo", address: IPv4Address(127, 0, 0, 1), prefixLength: 8, gateway: nil, console: console)
        guard let eth0 = config.eth0, FileSystem.existsNoFollow("/sys/class/net/eth0") else {
            return
        }
        configure("eth0", address: eth0.address, prefixLength: eth0.prefixLength, gateway: eth0.gateway, console: console)
        for address in config.unreachable where oi_route_add_unreachable(address.networkOrder) != 0 {
            console.warn("unreachable route to \(address): \(errnoText(errno))")
        }
    }

    private static func configure(
        _ name: String, address: IPv4Address, prefixLength: Int, gateway: IPv4Address?, console: Console
    ) {
        let netmask = IPv4Address(prefixLength: prefixLength)
        if oi_if_set_address(name, address.networkOrder, netmask.networkOrder) != 0 {
            console.warn("\(name): set address \(address)/\(prefixLength): \(errnoText(errno))")
            return
        }
        if oi_if_up(name) != 0 {
            console.warn("\(name): up: \(errnoText(errno))")
            return
        }
        if let gateway, oi_route_add_default(gateway.networkOrder) != 0 {
            console.warn("\(name): default route via \(gateway): \(errnoText(errno))")
        }
        console.step("\(name) \(address)/\(prefixLength)\(gateway.map { " via \($0)" } ?? "")")
    }
}
