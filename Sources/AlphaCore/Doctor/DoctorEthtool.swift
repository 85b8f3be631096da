// What the NIC checks ask the driver: interrupt coalescing, ring sizes, GRO and LRO. On the live
// system the answers come from SIOCETHTOOL get-ioctls, which need no privilege; over a fixture
// tree they come from files under /ethtool/<nic>/ holding what `ethtool -c`, `ethtool -g` and
// `ethtool -k` print, so tests can stand in for a driver. Nothing else in the doctor talks to a
// driver.
import Glibc

struct EthtoolCoalesce: Equatable {
    var rxUsecs: Int64
    var adaptiveRx: Bool
}

struct EthtoolRing: Equatable {
    var rx: Int64
    var rxMax: Int64
}

/// The one source of driver answers.
protocol DoctorEthtool: AnyObject {
    func coalesce(_ nic: String) -> Result<EthtoolCoalesce, DoctorProblem>
    func ring(_ nic: String) -> Result<EthtoolRing, DoctorProblem>
    /// "gro" or "lro": whether the offload is on.
    func offload(_ nic: String, _ name: String) -> Result<Bool, DoctorProblem>
}

/// SIOCETHTOOL on an AF_INET datagram socket (opened on first use, closed with the provider).
final class EthtoolIoctl: DoctorEthtool {
    static let SIOCETHTOOL: UInt = 0x8946
    static let GCOALESCE: UInt32 = 0x0e, GRINGPARAM: UInt32 = 0x10, GFLAGS: UInt32 = 0x25, GGRO: UInt32 = 0x2b
    static let flagLRO: UInt32 = 1 << 15

    private var fd: Int32 = -1
    private var openErrno: Int32 = 0

    deinit { if fd >= 0 { close(fd) } }

    /// Runs one get-command: `words` 32-bit words with the command in the first; the answer or why not.
    func get(_ nic: String, _ cmd: UInt32, words: Int) -> Result<[UInt32], DoctorProblem> {
        let name = Array(nic.utf8)
        if name.isEmpty || name.count >= 16 || name.contains(0) || name.contains(UInt8(ascii: "/")) {
            return .failure(DoctorProblem("'\(DoctorHost.excerpt(nic))' is not an interface name"))
        }
        if fd < 0 && openErrno == 0 {
            fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 { openErrno = errno }
        }
        if fd < 0 { return .failure(DoctorProblem("socket(AF_INET, SOCK_DGRAM) failed: \(Errno(openErrno).description)")) }
        var data = [UInt32](repeating: 0, count: words)
        data[0] = cmd
        var ifr = [UInt8](repeating: 0, count: max(40, MemoryLayout<ifreq>.size))
        for (i, b) in name.enumerated() { ifr[i] = b }
        let done: Result<Int32, Errno> = data.withUnsafeMutableBytes { d in
            ifr.withUnsafeMutableBytes { r in
                guard let base = r.baseAddress else { return .failure(Errno(EINVAL)) }
                r.storeBytes(of: d.baseAddress, toByteOffset: 16, as: UnsafeMutableRawPointer?.self)
                return SystemCall.valueOrErrno { ioctl(fd, Self.SIOCETHTOOL, base) }
            }
        }
        if case .failure(let failure) = done {
            let e = failure.code
            let what = e == EOPNOTSUPP ? "the driver does not report it (EOPNOTSUPP)" : e == ENODEV ? "no such interface (ENODEV)" : Errno(e).description
            return .failure(DoctorProblem("SIOCETHTOOL 0x\(String(cmd, radix: 16)) on \(nic): \(what)"))
        }
        return .success(data)
    }

    func coalesce(_ nic: String) -> Result<EthtoolCoalesce, DoctorProblem> {
        // struct ethtool_coalesce: 23 u32; rx_coalesce_usecs is [1], use_adaptive_rx_coalesce [10].
        get(nic, Self.GCOALESCE, words: 23).map { EthtoolCoalesce(rxUsecs: Int64($0[1]), adaptiveRx: $0[10] != 0) }
    }

    func ring(_ nic: String) -> Result<EthtoolRing, DoctorProblem> {
        // struct ethtool_ringparam: cmd, rx_max_pending [1], ..., rx_pending [5], ...
        get(nic, Self.GRINGPARAM, words: 9).map { EthtoolRing(rx: Int64($0[5]), rxMax: Int64($0[1])) }
    }

    func offload(_ nic: String, _ name: String) -> Result<Bool, DoctorProblem> {
        if name == "gro" { return get(nic, Self.GGRO, words: 2).map { $0[1] != 0 } }
        return get(nic, Self.GFLAGS, words: 2).map { $0[1] & Self.flagLRO != 0 }
    }
}

/// `ethtool` output saved under <root>/ethtool/<nic>/{coalesce,ring,features} (fixtures).
final class EthtoolFiles: DoctorEthtool {
    let host: DoctorHost
    init(host: DoctorHost) { self.host = host }

    private func text(_ nic: String, _ file: String) -> Result<String, DoctorProblem> {
        let path = "/ethtool/\(nic)/\(file)"
        guard let t = host.read(path).text else { return .failure(DoctorProblem(host.read(path).reason)) }
        if t.containsText("Operation not supported") { return .failure(DoctorProblem("\(path): the driver does not report it (EOPNOTSUPP)")) }
        return .success(t)
    }

    /// "key: value" with the value's first word, for lines of one section (nil: all).
    static func field(_ t: String, _ key: String, after section: String? = nil) -> Substring? {
        var inSection = section == nil
        for line in t.split(separator: "\n") {
            let l = Substring(SysFile.trim(line))
            if let section, l.hasPrefix(section) { inSection = true; continue }
            guard inSection, l.hasPrefix(key + ":") else { continue }
            return l.dropFirst(key.count + 1).split(whereSeparator: DoctorHost.isBlank).first
        }
        return nil
    }

    func coalesce(_ nic: String) -> Result<EthtoolCoalesce, DoctorProblem> {
        text(nic, "coalesce").flatMap { t in
            guard let u = Self.field(t, "rx-usecs").flatMap({ Int64($0) }), let a = Self.field(t, "Adaptive RX"), a == "on" || a == "off" else {
                return .failure(DoctorProblem("/ethtool/\(nic)/coalesce holds '\(DoctorHost.excerpt(t))', not `ethtool -c` output"))
            }
            return .success(EthtoolCoalesce(rxUsecs: u, adaptiveRx: a == "on"))
        }
    }

    func ring(_ nic: String) -> Result<EthtoolRing, DoctorProblem> {
        text(nic, "ring").flatMap { t in
            guard let mx = Self.field(t, "RX", after: "Pre-set maximums").flatMap({ Int64($0) }),
                  let cur = Self.field(t, "RX", after: "Current hardware settings").flatMap({ Int64($0) }) else {
                return .failure(DoctorProblem("/ethtool/\(nic)/ring holds '\(DoctorHost.excerpt(t))', not `ethtool -g` output"))
            }
            return .success(EthtoolRing(rx: cur, rxMax: mx))
        }
    }

    func offload(_ nic: String, _ name: String) -> Result<Bool, DoctorProblem> {
        let key = name == "gro" ? "generic-receive-offload" : "large-receive-offload"
        return text(nic, "features").flatMap { t in
            guard let v = Self.field(t, key), v == "on" || v == "off" else {
                return .failure(DoctorProblem("/ethtool/\(nic)/features has no '\(key): on|off' line (`ethtool -k` output)"))
            }
            return .success(v == "on")
        }
    }
}
