// The memory capability's values: a Region, its backing tiers, options, refusals and flags.
import CAlphaCoreShims
import Glibc

/// What backs a region, best first: the ladder's tiers.
public enum Backing: Int32, Sendable, CaseIterable {
    case huge1G = 0   // hugetlb, 1 GiB pages
    case huge2M = 1   // hugetlb, 2 MiB pages
    case thp = 2      // transparent huge pages (madvise), verified in /proc/self/smaps
    case base = 3     // the base page size (4 KiB)

    /// The hugetlb page size of a hugetlb tier.
    var hugetlbSize: Int? {
        switch self {
        case .huge1G: 1 << 30
        case .huge2M: 1 << 21
        default: nil
        }
    }

    public var name: String {
        switch self {
        case .huge1G: "1 GiB hugetlb"
        case .huge2M: "2 MiB hugetlb"
        case .thp: "transparent huge pages"
        case .base: "\(HugePages.sizeText(Region.basePageSize)) pages"
        }
    }
}

/// Options of `Region.allocate` (the C struct alphacore_mem_opts).
public struct MemOptions: Sendable {
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Hugetlb pages or -ENOMEM: no fallback to THP or base pages.
        public static let requireHuge = Flags(rawValue: 1 << 0)
        /// Skip the THP tier (and advise MADV_NOHUGEPAGE on base pages).
        public static let noTHP = Flags(rawValue: 1 << 1)
        /// Fault every page in now with MADV_POPULATE_WRITE (an error, never SIGBUS).
        public static let prefault = Flags(rawValue: 1 << 2)
        /// mlock the region (checks RLIMIT_MEMLOCK and CAP_IPC_LOCK first).
        public static let lock = Flags(rawValue: 1 << 3)
        /// Pages only from the chosen node (MPOL_BIND); otherwise the node is preferred.
        public static let nodeStrict = Flags(rawValue: 1 << 4)
        public static let all: Flags = [.requireHuge, .noTHP, .prefault, .lock, .nodeStrict]
    }

    /// -1: the local node (first touch; with nodeStrict, bound to the calling CPU's node).
    public var node: Int32
    /// 0: best available; otherwise the largest page size to try (1 GiB, 2 MiB or the base size).
    public var pageSize: Int
    public var flags: Flags

    public init(node: Int32 = -1, pageSize: Int = 0, flags: Flags = []) {
        self.node = node; self.pageSize = pageSize; self.flags = flags
    }
}

/// Per tier: 0, or the errno (positive) for which that tier was refused.
public struct Refusals: Sendable, Equatable {
    public var codes: (Int32, Int32, Int32, Int32) = (0, 0, 0, 0)
    public init() {}
    public subscript(_ b: Backing) -> Int32 {
        get {
            switch b {
            case .huge1G: codes.0
            case .huge2M: codes.1
            case .thp: codes.2
            case .base: codes.3
            }
        }
        set {
            switch b {
            case .huge1G: codes.0 = newValue
            case .huge2M: codes.1 = newValue
            case .thp: codes.2 = newValue
            case .base: codes.3 = newValue
            }
        }
    }
    public static func == (a: Refusals, b: Refusals) -> Bool {
        a.codes.0 == b.codes.0 && a.codes.1 == b.codes.1 && a.codes.2 == b.codes.2 && a.codes.3 == b.codes.3
    }
}

/// State flags of a region (the C ALPHACORE_REGION_* bits).
public struct RegionFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let prefaulted = RegionFlags(rawValue: 1 << 0)
    public static let locked = RegionFlags(rawValue: 1 << 1)
    public static let shared = RegionFlags(rawValue: 1 << 2)
    public static let nodeBound = RegionFlags(rawValue: 1 << 3)
    public static let thpProbed = RegionFlags(rawValue: 1 << 4)
}

/// A memory region the library mapped. A plain value: `free()` unmaps it once; a copy freed a
/// second time (or a forged value) is refused with EINVAL, because the library keeps a registry
/// of the regions it has mapped, keyed by `cookie`.
public struct Region: @unchecked Sendable {
    /// nil only in a plan (`Region.plan`), never in an allocated region.
    public var address: UnsafeMutableRawPointer?
    /// The mapped size: the request rounded up to `pageSize`.
    public var size: Int
    public var requested: Int
    /// The page size backing the region (THP: 2 MiB when verified, else the base size).
    public var pageSize: Int
    /// Bytes verified to sit in huge pages (hugetlb: all; THP: AnonHugePages from smaps).
    public var hugeBytes: Int
    public var backing: Backing
    /// The node the pages were verified on (-1: unknown, not faulted in, or spread over nodes).
    public var node: Int32
    public var refused: Refusals
    public var flags: RegionFlags
    /// Shared regions: the open file (-1 otherwise).
    public var fd: Int32
    /// Identifies the live region in the library's registry (0 in a plan).
    public var cookie: UInt64

    /// Rebuilds a value from its fields (the C layer; `free` checks it against the registry).
    public init(address: UnsafeMutableRawPointer?, size: Int, requested: Int, pageSize: Int, hugeBytes: Int,
                backing: Backing, node: Int32, refused: Refusals, flags: RegionFlags, fd: Int32, cookie: UInt64) {
        self.address = address; self.size = size; self.requested = requested; self.pageSize = pageSize
        self.hugeBytes = hugeBytes; self.backing = backing; self.node = node; self.refused = refused
        self.flags = flags; self.fd = fd; self.cookie = cookie
    }

    init(size: Int, requested: Int) {
        address = nil; self.size = size; self.requested = requested; pageSize = Region.basePageSize
        hugeBytes = 0; backing = .base; node = -1; refused = Refusals(); flags = []; fd = -1; cookie = 0
    }

    public var bytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: address, count: address == nil ? 0 : size)
    }

    /// Walks the ladder 1 GiB -> 2 MiB -> THP -> base pages and maps the best the host gives.
    public static func allocate(size: Int, options: MemOptions = MemOptions()) throws(Errno) -> Region {
        try walkLadder(size: size, options: options, files: nil)
    }
}
