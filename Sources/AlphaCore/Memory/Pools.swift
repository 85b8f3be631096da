import Glibc

/// One huge-page pool: a page size, globally (`node == -1`) or on one NUMA node.
///
/// `usable` is what a new mapping can still get, as DPDK computes it:
/// free - reserved + (overcommit - surplus). Per-node sysfs has no reserved or overcommit
/// counts, so a node's usable is `min(node free + global overcommit headroom, global usable)`.
public struct HugePagePool: Equatable, Sendable {
    public var pageSize: Int
    public var node: Int32
    public var total: Int
    public var free: Int
    public var reserved: Int
    public var surplus: Int
    public var overcommit: Int
    public var usable: Int

    public init(pageSize: Int, node: Int32, total: Int, free: Int, reserved: Int, surplus: Int,
                overcommit: Int, usable: Int) {
        self.pageSize = pageSize; self.node = node; self.total = total; self.free = free
        self.reserved = reserved; self.surplus = surplus; self.overcommit = overcommit; self.usable = usable
    }
}

/// Reading the kernel's huge-page pools (below SystemRoot, so fixture trees work).
public enum HugePages {
    static let globalDir = "/sys/kernel/mm/hugepages"
    static let nodeDir = "/sys/devices/system/node"

    /// The huge page sizes the kernel offers, in bytes, largest first.
    public static func sizes(root: String = SystemRoot.prefix) -> [Int] {
        guard let names = SysFile.list(root + globalDir) else { return [] }
        var out: [Int] = []
        for n in names {
            if let kb = pageKB(fromDirectoryName: n) { out.append(kb &* 1024) }
        }
        return out.sorted(by: >)
    }

    /// "hugepages-2048kB" -> 2048.
    static func pageKB(fromDirectoryName n: String) -> Int? {
        guard n.hasPrefix("hugepages-"), n.hasSuffix("kB") else { return nil }
        let digits = n.dropFirst(10).dropLast(2)
        guard let v = Int(digits), v > 0, v < (1 << 40) else { return nil }
        return v
    }

    /// The nodes that exist (from /sys/devices/system/node/nodeN), ascending.
    public static func nodes(root: String = SystemRoot.prefix) -> [Int32] {
        guard let names = SysFile.list(root + nodeDir) else { return [] }
        var out: [Int32] = []
        for n in names where n.hasPrefix("node") {
            if let v = Int32(n.dropFirst(4)), v >= 0 { out.append(v) }
        }
        return out.sorted()
    }

    /// Whether NUMA node `node` exists on this system (or in the fixture root).
    public static func nodeExists(_ node: Int32, root: String = SystemRoot.prefix) -> Bool {
        node >= 0 && SysFile.exists(root + "\(nodeDir)/node\(node)")
    }

    /// The global pool for one page size; throws EOPNOTSUPP if the kernel lacks that size.
    public static func pool(pageSize: Int, root: String = SystemRoot.prefix) throws(Errno) -> HugePagePool {
        let dir = root + ("\(globalDir)/hugepages-\(pageSize / 1024)kB")
        guard let total = readCount("\(dir)/nr_hugepages") else {
            throw Errno.fail(EOPNOTSUPP, "the kernel has no \(sizeText(pageSize)) huge pages (\(dir) missing)")
        }
        let free = readCount("\(dir)/free_hugepages") ?? 0
        let resv = readCount("\(dir)/resv_hugepages") ?? 0
        let surplus = readCount("\(dir)/surplus_hugepages") ?? 0
        let over = readCount("\(dir)/nr_overcommit_hugepages") ?? 0
        let usable = max(0, free - resv) + max(0, over - surplus)
        return HugePagePool(pageSize: pageSize, node: -1, total: total, free: free, reserved: resv,
                            surplus: surplus, overcommit: over, usable: usable)
    }

    /// One node's pool for one page size; `global` is the global pool of the same size.
    public static func pool(pageSize: Int, node: Int32, global: HugePagePool,
                            root: String = SystemRoot.prefix) throws(Errno) -> HugePagePool {
        let dir = root + ("\(nodeDir)/node\(node)/hugepages/hugepages-\(pageSize / 1024)kB")
        guard let total = readCount("\(dir)/nr_hugepages") else {
            throw Errno.fail(EOPNOTSUPP, "node \(node) has no \(sizeText(pageSize)) pool (\(dir) missing)")
        }
        let free = readCount("\(dir)/free_hugepages") ?? 0
        let surplus = readCount("\(dir)/surplus_hugepages") ?? 0
        let headroom = max(0, global.overcommit - global.surplus)
        let usable = min(free + headroom, global.usable)
        return HugePagePool(pageSize: pageSize, node: node, total: total, free: free, reserved: 0,
                            surplus: surplus, overcommit: 0, usable: usable)
    }

    /// Every pool: for each page size (largest first) the global pool, then each node's.
    public static func allPools(root: String = SystemRoot.prefix) -> [HugePagePool] {
        var out: [HugePagePool] = []
        let nodes = nodes(root: root)
        for size in sizes(root: root) {
            guard let g = try? pool(pageSize: size, root: root) else { continue }
            out.append(g)
            for n in nodes {
                if let p = try? pool(pageSize: size, node: n, global: g, root: root) { out.append(p) }
            }
        }
        return out
    }

    /// Reads a small decimal counter file without building Strings (a stack buffer).
    static func readCount(_ path: String) -> Int? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buf -> Int? in
            guard let base = buf.baseAddress else { return nil }
            var n = 0
            repeat { n = Glibc.read(fd, base, 31) } while n < 0 && errno == EINTR
            if n <= 0 { return nil }
            var v = 0
            var seen = false
            for i in 0..<n {
                let c = buf[i]
                if c >= 0x30 && c <= 0x39 {
                    if v > (Int.max - 9) / 10 { return nil }
                    v = v &* 10 &+ Int(c &- 0x30)
                    seen = true
                } else { break }
            }
            return seen ? v : nil
        }
    }

    /// "1 GiB", "2 MiB", "4 KiB", or bytes.
    public static func sizeText(_ bytes: Int) -> String {
        if bytes >= 1 << 30 && bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }
}
