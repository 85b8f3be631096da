// Which NICs a feed arrives on: the ones named with --nic, else those carrying the default route
// (/proc/net/route, /proc/net/ipv6_route) and those the engine's IPv4 sockets use (--pid: its
// socket inodes in /proc/PID/fd, their addresses in /proc/PID/net/{tcp,udp}, routed through
// /proc/net/route; wildcard UDP sockets through the multicast groups of /proc/net/igmp). And
// what kind of interface each is: loopback, virtual (no device), or a NIC with a driver.
import Glibc

struct DoctorNIC: Equatable {
    var name: String
    /// Why it is checked ("--nic", "default route", "socket of pid 42").
    var from: String
}

enum DoctorNICKind: Equatable {
    case missing(String)
    case loopback
    /// No device below it (bridge, veth, tun, bond, VLAN, macvlan): its lower devices, if listed.
    case virtual([String])
    case device
}

extension DoctorContext {
    /// The NICs to check, in order, each once.
    func chooseNICs() -> [DoctorNIC] {
        var out: [DoctorNIC] = []
        func add(_ name: String, _ from: String) {
            if !name.isEmpty, !out.contains(where: { $0.name == name }) { out.append(DoctorNIC(name: name, from: from)) }
        }
        if !options.nics.isEmpty {
            for n in options.nics { add(n, "--nic") }
            return out
        }
        for n in defaultRouteNICs() { add(n, "default route") }
        if let pid = options.pid { for (n, why) in socketNICs(pid) { add(n, why) } }
        return out
    }

    /// IPv4 routes: (interface, destination, mask) in /proc/net/route's native encoding.
    func routes() -> [(String, UInt32, UInt32)] {
        guard let t = host.read("/proc/net/route").text else { return [] }
        var out: [(String, UInt32, UInt32)] = []
        for line in t.split(separator: "\n").dropFirst() {
            let f = line.split(whereSeparator: DoctorHost.isBlank)
            guard f.count >= 8, let d = UInt32(f[1], radix: 16), let m = UInt32(f[7], radix: 16) else { continue }
            out.append((String(f[0]), d, m))
        }
        return out
    }

    func defaultRouteNICs() -> [String] {
        var names = routes().filter { $0.1 == 0 && $0.2 == 0 }.map(\.0)
        if let t = host.read("/proc/net/ipv6_route").text {
            for line in t.split(separator: "\n") {
                let f = line.split(whereSeparator: DoctorHost.isBlank)
                guard f.count >= 10, f[1] == "00", f[0].allSatisfy({ $0 == "0" }), f[9] != "lo" else { continue }
                names.append(String(f[9]))
            }
        }
        return names
    }

    /// The interface a route lookup picks for `addr` (longest prefix), if any.
    func route(_ addr: UInt32, _ table: [(String, UInt32, UInt32)]) -> String? {
        table.filter { addr & $0.2 == $0.1 }.max { $0.2.nonzeroBitCount < $1.2.nonzeroBitCount }?.0
    }

    /// NICs the IPv4 sockets of `pid` use.
    func socketNICs(_ pid: Int32) -> [(String, String)] {
        var inodes = Set<Substring>()
        for fd in host.list("/proc/\(pid)/fd") ?? [] {
            guard let target = host.link("/proc/\(pid)/fd/\(fd)"), target.hasPrefix("socket:[") else { continue }
            inodes.insert(Substring(target.dropFirst(8).dropLast()))
        }
        let table = routes()
        var out: [(String, String)] = []
        var wildcardUDP = false
        for proto in ["tcp", "udp"] {
            guard let t = host.read("/proc/\(pid)/net/\(proto)").text else { continue }
            for line in t.split(separator: "\n").dropFirst() {
                let f = line.split(whereSeparator: DoctorHost.isBlank)
                guard f.count >= 10, inodes.contains(f[9]) else { continue }
                let local = f[1].split(separator: ":").first.flatMap { UInt32($0, radix: 16) } ?? 0
                let remote = f[2].split(separator: ":").first.flatMap { UInt32($0, radix: 16) } ?? 0
                let addr = remote != 0 ? remote : local
                if addr == 0 { if proto == "udp" { wildcardUDP = true }; continue }
                if let nic = route(addr, table) { out.append((nic, "\(proto) socket of pid \(pid)")) }
            }
        }
        if wildcardUDP, let t = host.read("/proc/net/igmp").text {
            // "Idx Device : Count Querier" lines, then tab-indented groups; 010000E0 is 224.0.0.1.
            var device = ""
            for line in t.split(separator: "\n").dropFirst() {
                if line.first != "\t" && line.first != " " {
                    device = line.split(whereSeparator: DoctorHost.isBlank).dropFirst().first.map(String.init) ?? ""
                    if device.hasSuffix(":") { device.removeLast() }
                } else if let g = line.split(whereSeparator: DoctorHost.isBlank).first, g != "010000E0", device != "lo" {
                    out.append((device, "multicast group joined on it (wildcard UDP socket of pid \(pid))"))
                }
            }
        }
        return out
    }

    func nicKind(_ nic: String) -> DoctorNICKind {
        let base = "/sys/class/net/\(nic)"
        if nic.isEmpty || nic.contains("/") || nic == "." || nic == ".." || !host.exists(base) {
            return .missing("no interface '\(DoctorHost.excerpt(nic))' (no \(base))")
        }
        if nic == "lo" { return .loopback }
        if let flags = host.trimmed("\(base)/flags"), let v = UInt32(flags.dropFirst(flags.hasPrefix("0x") ? 2 : 0), radix: 16), v & 0x8 != 0 {
            return .loopback  // IFF_LOOPBACK
        }
        if !host.exists("\(base)/device") {
            let lower = (host.list(base) ?? []).filter { $0.hasPrefix("lower_") }.map { String($0.dropFirst(6)) }
            return .virtual(lower)
        }
        return .device
    }

    /// The IRQs of a NIC: its PCI function's msi_irqs (virtio: the parent's) and the
    /// /proc/interrupts lines named after it or its device ("eth0-rx-0", "virtio2-input.0").
    func nicIRQs(_ nic: String) -> [Int] {
        var irqs = Set<Int>()
        let base = "/sys/class/net/\(nic)/device"
        for dir in ["\(base)/msi_irqs", "\(base)/../msi_irqs"] {
            for n in host.list(dir) ?? [] { if let v = Int(n) { irqs.insert(v) } }
        }
        let dev = host.link(base).map { String($0.split(separator: "/").last ?? "") } ?? ""
        let prefixes = [nic + "-", nic + "_", nic + "@"] + (dev.isEmpty ? [] : [dev + "-", dev + "_", dev + "@"])
        for (irq, name) in irqNames where name == nic || prefixes.contains(where: { name.hasPrefix($0) }) {
            if let v = Int(irq) { irqs.insert(v) }
        }
        return irqs.sorted()
    }
}

extension DoctorHost {
    /// The target of a symbolic link below the root, or nil.
    func link(_ absolute: String) -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink(root + absolute, &buf, buf.count - 1)
        if n <= 0 { return nil }
        return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
