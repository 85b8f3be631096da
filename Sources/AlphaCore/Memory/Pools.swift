import Glibc
import Synchronization

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

    /// Whether NUMA node `node` exists below `root` (the doctor checks fixture trees with it).
    public static func nodeExists(_ node: Int32, root: String = SystemRoot.prefix) -> Bool {
        node >= 0 && SysFile.exists(root + "\(nodeDir)/node\(node)")
    }

    /// The global pool for one page size; throws EOPNOTSUPP if the kernel lacks that size.
    public static func pool(pageSize: Int, root: String = SystemRoot.prefix) throws(Errno) -> HugePagePool {
        let files = counters.files(root: root, pageSize: pageSize, node: -1)
        guard let total = files.read(.total) else {
            throw Errno.fail(EOPNOTSUPP, "the kernel has no \(sizeText(pageSize)) huge pages (\(files.dir) missing)")
        }
        let free = files.read(.free) ?? 0
        let resv = files.read(.reserved) ?? 0
        let surplus = files.read(.surplus) ?? 0
        let over = files.read(.overcommit) ?? 0
        let usable = max(0, free - resv) + max(0, over - surplus)
        return HugePagePool(pageSize: pageSize, node: -1, total: total, free: free, reserved: resv,
                            surplus: surplus, overcommit: over, usable: usable)
    }

    /// One node's pool for one page size; `global` is the global pool of the same size.
    public static func pool(pageSize: Int, node: Int32, global: HugePagePool,
                            root: String = SystemRoot.prefix) throws(Errno) -> HugePagePool {
        let files = counters.files(root: root, pageSize: pageSize, node: node)
        guard let total = files.read(.total) else {
            throw Errno.fail(EOPNOTSUPP, "node \(node) has no \(sizeText(pageSize)) pool (\(files.dir) missing)")
        }
        let free = files.read(.free) ?? 0
        let surplus = files.read(.surplus) ?? 0
        let headroom = max(0, global.overcommit - global.surplus)
        let usable = min(free + headroom, global.usable)
        return HugePagePool(pageSize: pageSize, node: node, total: total, free: free, reserved: 0,
                            surplus: surplus, overcommit: 0, usable: usable)
    }

    /// The ladder's check: whether `need` pages of `pageSize` are usable (globally, or on `node`
    /// when >= 0): free - reserved + (overcommit - surplus), and on a node min(node free +
    /// overcommit headroom, global usable). Throws EOPNOTSUPP (no such page size) or ENOMEM with
    /// the counts in the detail.
    ///
    /// Each counter read costs 1.5-2 us here (sysfs), so a yes may come from a snapshot of the
    /// counters younger than `snapshotAge` that this process has not invalidated by mapping or
    /// unmapping hugetlb memory since: mmap's own reservation is the authority after a yes. A no
    /// is never taken from a snapshot: the counters are re-read before refusing.
    /// `words: false` (a plan) refuses without composing the detail (about a microsecond).
    static func requireUsable(pageSize: Int, pages need: Int, node: Int32, root: String = SystemRoot.prefix,
                              words: Bool = true) throws(Errno) {
        let files = counters.files(root: root, pageSize: pageSize, node: -1)
        let nodeFiles = node >= 0 ? counters.files(root: root, pageSize: pageSize, node: node) : nil
        let now = Clock.nowNanoseconds()
        let gen = generation.load(ordering: .relaxed)
        if let g = files.snapshot(now: now, generation: gen), g.usable >= need {
            if let nodeFiles {
                if let n = nodeFiles.snapshot(now: now, generation: gen), min(n.free + g.headroom, g.usable) >= need { return }
            } else {
                return
            }
        }
        guard let free = files.read(.free) else {
            throw Errno.fail(EOPNOTSUPP, "the kernel has no \(sizeText(pageSize)) huge pages (\(files.dir) missing)")
        }
        // As few reads as the answer needs: reserved pages are part of free (no free, no
        // reserved), and overcommit only adds, so free - reserved >= need is already a yes.
        let resv = free > 0 ? (files.read(.reserved) ?? 0) : 0
        var usable = max(0, free - resv)
        var over = -1, surplus = 0
        if usable < need {
            over = files.read(.overcommit) ?? 0
            if over > 0 { surplus = files.read(.surplus) ?? 0 }
            usable += max(0, over - surplus)
        }
        if usable >= need {
            files.store(Snapshot(free: free, usable: usable, headroom: max(0, over - surplus)), at: now, generation: gen)
        }
        var whereText = ""
        if let nodeFiles, usable >= need {
            guard let nodeFree = nodeFiles.read(.free) else {
                throw Errno.fail(EOPNOTSUPP, "node \(node) has no \(sizeText(pageSize)) pool (\(nodeFiles.dir) missing)")
            }
            nodeFiles.store(Snapshot(free: nodeFree, usable: 0, headroom: 0), at: now, generation: gen)
            if nodeFree < need && over < 0 {   // the overcommit headroom may still serve the node
                over = files.read(.overcommit) ?? 0
                if over > 0 { surplus = files.read(.surplus) ?? 0 }
                usable = max(0, free - resv) + max(0, over - surplus)
            }
            usable = min(nodeFree + max(0, over - surplus), usable)
            whereText = " on node \(node) (\(nodeFree) free there)"
        }
        if usable < need {
            if !words { throw Errno(ENOMEM) }
            throw Errno.fail(ENOMEM, "needs \(need) x \(sizeText(pageSize)) pages, \(usable) usable\(whereText) (free \(free), reserved \(resv), overcommit \(max(over, 0)), surplus \(surplus))")
        }
    }

    struct Snapshot { var free: Int; var usable: Int; var headroom: Int }

    /// How long a snapshot of the counters may serve a yes.
    static let snapshotAge: UInt64 = 20_000_000

    /// Bumped whenever this process maps or unmaps hugetlb memory: snapshots taken before are void.
    static let generation = Atomic<UInt64>(0)

    static func invalidateSnapshots() { generation.add(1, ordering: .relaxed) }

    static let counters = CounterFiles()

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

    /// "1 GiB", "2 MiB", "4 KiB", or bytes.
    public static func sizeText(_ bytes: Int) -> String {
        if bytes >= 1 << 30 && bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }
}

/// Open descriptors of the pool counter files, re-read with pread at offset 0 (sysfs produces
/// the current value on every read from offset 0). open() costs 5-13 us on the KVM machines
/// this library targets, pread about 1.3 us: without the cache the ladder's decision alone
/// would take 30-70 us. Each descriptor is checked with fstat against the file it was opened
/// for before use, so an application that closes it (and gets its number reused) never makes
/// us read another file; a mismatch reopens. The descriptors are O_CLOEXEC.
final class CounterFiles: @unchecked Sendable {
    enum Counter: Int, CaseIterable {
        case total, free, reserved, surplus, overcommit
        var file: String {
            switch self {
            case .total: "nr_hugepages"
            case .free: "free_hugepages"
            case .reserved: "resv_hugepages"
            case .surplus: "surplus_hugepages"
            case .overcommit: "nr_overcommit_hugepages"
            }
        }
    }

    struct Key: Hashable { var root: String; var pageSize: Int; var node: Int32 }

    final class Set: @unchecked Sendable {
        let dir: String
        private let files: [CachedSysFile]
        private var snap: HugePages.Snapshot? = nil
        private var snapAt: UInt64 = 0
        private var snapGeneration: UInt64 = 0
        private let lock = PThreadMutex()

        func snapshot(now: UInt64, generation: UInt64) -> HugePages.Snapshot? {
            lock.withLock {
                guard let s = snap, snapGeneration == generation, now &- snapAt < HugePages.snapshotAge else { return nil }
                return s
            }
        }

        func store(_ s: HugePages.Snapshot, at: UInt64, generation: UInt64) {
            lock.withLock { snap = s; snapAt = at; snapGeneration = generation }
        }

        init(dir: String) {
            self.dir = dir
            files = Counter.allCases.map { CachedSysFile("\(dir)/\($0.file)") }
        }

        /// The counter's current value, or nil if the file does not exist or holds no number.
        func read(_ c: Counter) -> Int? {
            files[c.rawValue].read { bytes -> Int? in
                var v = 0
                var seen = false
                for c in bytes {
                    guard c >= 0x30 && c <= 0x39 else { break }
                    if v > (Int.max - 9) / 10 { return nil }
                    v = v &* 10 &+ Int(c &- 0x30)
                    seen = true
                }
                return seen ? v : nil
            } ?? nil
        }
    }

    private var sets: [Key: Set] = [:]
    private let lock = PThreadMutex()

    func files(root: String, pageSize: Int, node: Int32) -> Set {
        let key = Key(root: root, pageSize: pageSize, node: node)
        return lock.withLock {
            if let s = sets[key] { return s }
            let dir = node < 0
                ? "\(root)\(HugePages.globalDir)/hugepages-\(pageSize / 1024)kB"
                : "\(root)\(HugePages.nodeDir)/node\(node)/hugepages/hugepages-\(pageSize / 1024)kB"
            let s = Set(dir: dir)
            sets[key] = s
            return s
        }
    }
}

/// One sysfs file kept open and re-read with pread at offset 0 (see CounterFiles for why).
/// Before each read the descriptor is checked with fstat against the file it was opened for.
final class CachedSysFile: @unchecked Sendable {
    let path: String
    private var fd: Int32 = -1
    private var dev: UInt = 0
    private var ino: UInt = 0
    private let lock = PThreadMutex()

    init(_ path: String) { self.path = path }

    /// Calls `body` with the file's current contents (up to 127 bytes); nil if unreadable.
    func read<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R? {
        lock.withLock { () -> R? in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { buf -> R? in
                guard let base = buf.baseAddress else { return nil }
                for attempt in 0..<2 {
                    if fd >= 0 {
                        var st = stat()
                        if fstat(fd, &st) != 0 || UInt(st.st_dev) != dev || UInt(st.st_ino) != ino {
                            fd = -1   // not ours any more (closed by the application): never close it
                        }
                    }
                    if fd < 0 {
                        let f = open(path, O_RDONLY | O_CLOEXEC)
                        if f < 0 { return nil }
                        var st = stat()
                        if fstat(f, &st) != 0 { close(f); return nil }
                        fd = f
                        dev = UInt(st.st_dev)
                        ino = UInt(st.st_ino)
                    }
                    let n = (try? SystemCall.valueOrErrno({ pread(fd, base, 127, 0) }).get()) ?? -1
                    if n > 0 { return body(UnsafeRawBufferPointer(start: base, count: n)) }
                    if attempt == 0 { close(fd); fd = -1 }   // reopen once
                }
                return nil
            }
        }
    }
}

/// CachedSysFile per path (one per system root).
final class CachedFiles: @unchecked Sendable {
    private var files: [String: CachedSysFile] = [:]
    private let lock = PThreadMutex()

    func file(_ path: String) -> CachedSysFile {
        lock.withLock {
            if let f = files[path] { return f }
            let f = CachedSysFile(path)
            files[path] = f
            return f
        }
    }
}
