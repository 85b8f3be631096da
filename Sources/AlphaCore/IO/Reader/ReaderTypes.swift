import Glibc

/// Which mechanism a reader uses (the C values of `ALPHACORE_READER_AUTO/_IO_URING/_EPOLL`).
public enum ReaderBackend: UInt32, Sendable {
    /// io_uring if the probe passes, else epoll (and the reader says why).
    case auto = 0
    /// io_uring, or fail with the errno that refused it.
    case ioURing = 1
    /// Edge-triggered epoll.
    case epoll = 2
}

/// Reader flags (the C `ALPHACORE_READER_*` bits).
public struct ReaderFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// io_uring: a kernel submission thread (pinned to `sqpollCPU` when >= 0).
    public static let sqpoll = ReaderFlags(rawValue: 1 << 0)
    /// Polls spin without sleeping until data or the timeout.
    public static let busyPoll = ReaderFlags(rawValue: 1 << 1)
    /// Buffers on huge pages where the pool allows (else 4 KiB pages, reported).
    public static let hugePages = ReaderFlags(rawValue: 1 << 2)
    /// With `.auto`: fail instead of falling back to epoll.
    public static let noFallback = ReaderFlags(rawValue: 1 << 3)
    public static let known: ReaderFlags = [.sqpoll, .busyPoll, .hugePages, .noFallback]
}

/// Message framing: completions carry whole messages only (the C `ALPHACORE_FRAME_*` values).
public enum ReaderFraming: UInt32, Sendable {
    case none = 0
    /// Messages of exactly `frameSize` bytes.
    case fixed = 1
    /// A 2-byte length (little- or big-endian), then that many bytes.
    case u16le = 2, u16be = 3
    /// A 4-byte length (little- or big-endian), then that many bytes.
    case u32le = 4, u32be = 5

    /// Bytes of the length prefix (0 for none and fixed).
    @inlinable public var prefixBytes: Int {
        switch self {
        case .none, .fixed: return 0
        case .u16le, .u16be: return 2
        case .u32le, .u32be: return 4
        }
    }
}

/// How a poll waits (the C `ALPHACORE_READER_PROFILE_*` values).
public enum ReaderProfile: UInt32, Sendable {
    /// Batching: min_complete and min_wait as the caller gives them.
    case throughput = 0
    /// Return as soon as one completion is ready (min_complete counts as 1, min_wait as 0).
    case latency = 1
    /// Never sleep in the kernel while waiting, up to the spin budget, then block.
    case spin = 2

    /// The spin budget of `spinMicros` 0, and the largest allowed (µs).
    public static let defaultSpinMicros: UInt32 = 100
    public static let maxSpinMicros: UInt32 = 1_000_000
    /// `ReaderDetails.spinMicros` for BUSY_POLL: the budget is each poll's timeout.
    public static let spinUntilTimeout: UInt32 = 0xFFFF_FFFF
}

/// Options of `Reader.create` (the C `alphacore_reader_opts` without its envelope).
public struct ReaderOptions: Sendable {
    public var backend: ReaderBackend = .auto
    public var flags: ReaderFlags = []
    /// SQPOLL thread CPU; -1 = not pinned.
    public var sqpollCPU: Int32 = -1
    /// Most fds added at once (1...65536).
    public var capacity: UInt32 = 1024
    /// Bytes per buffer (64...1 MiB, a multiple of 64).
    public var bufferSize: UInt32 = 4096
    /// Number of buffers (a power of two, 2...32768).
    public var bufferCount: UInt32 = 2048
    public var framing: ReaderFraming = .none
    /// `.fixed`: the message size (1...bufferSize). Must be 0 for the other framings.
    public var frameSize: UInt32 = 0
    /// SQPOLL idle time in ms before the thread sleeps (0 = 1000).
    public var sqpollIdleMs: UInt32 = 0
    public var profile: ReaderProfile = .throughput
    /// `.spin`: the spin budget per poll in µs (0 = `ReaderProfile.defaultSpinMicros`).
    public var spinMicros: UInt32 = 0
    public init() {}
}

/// One completion; the same layout as the C `alphacore_completion` (32 bytes).
public struct ReaderCompletion {
    /// As given to `add` (for `readBatch`: the index).
    public var userData: UInt64
    /// The bytes, in a buffer the reader owns; nil when `result <= 0`.
    public var data: UnsafeRawPointer?
    /// Bytes (> 0), 0 at end of stream, or -errno for this fd alone.
    public var result: Int32
    /// Give back with `release`; `ReaderCompletion.noBuffer` if there is none.
    public var bufferID: UInt32
    public var fd: Int32
    /// `ReaderCompletion.reassembled`, `.last`.
    public var flags: UInt32

    public static let noBuffer: UInt32 = 0xFFFF_FFFF
    /// One message the reader put back together from two or more reads.
    public static let reassembled: UInt32 = 1 << 0
    /// The fd's last completion.
    public static let last: UInt32 = 1 << 1

    @inlinable
    public init(userData: UInt64, data: UnsafeRawPointer?, result: Int32, bufferID: UInt32, fd: Int32, flags: UInt32) {
        self.userData = userData
        self.data = data
        self.result = result
        self.bufferID = bufferID
        self.fd = fd
        self.flags = flags
    }

    /// The bytes as a buffer (empty when there are none).
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: result > 0 ? data : nil, count: result > 0 ? Int(result) : 0)
    }
}

/// The stages of the io_uring probe, named in `ReaderDetails.uringStage`.
public enum ReaderProbeStage: String, Sendable {
    case setup = "io_uring_setup"
    case opcodes = "opcode probe"
    case nop = "nop round trip"
    case bufferRing = "buffer ring"
}

/// What a reader runs on and why (the C `alphacore_reader_details` without its envelope).
public struct ReaderDetails: Sendable {
    public var backend: ReaderBackend = .epoll
    public var requested: ReaderBackend = .auto
    /// 0, or the errno that refused io_uring.
    public var uringErrno: Int32 = 0
    /// Where io_uring was refused ("" if it was not).
    public var uringStage: String = ""
    /// The choice in words.
    public var reason: String = ""
    public var setupFlags: UInt32 = 0
    public var features: UInt32 = 0
    public var sqEntries: UInt32 = 0
    public var cqEntries: UInt32 = 0
    public var capacity: UInt32 = 0
    public var bufferSize: UInt32 = 0
    public var bufferCount: UInt32 = 0
    /// The flags in effect (`.hugePages` only if huge pages back the buffers).
    public var flags: ReaderFlags = []
    public var framing: ReaderFraming = .none
    public var frameSize: UInt32 = 0
    public var bufferBytes: UInt64 = 0
    /// The profile in effect (`.spin` for BUSY_POLL) and its spin budget in µs
    /// (`ReaderProfile.spinUntilTimeout` for BUSY_POLL).
    public var profile: ReaderProfile = .throughput
    public var spinMicros: UInt32 = 0
    public init() {}
}

/// Counters since creation (the C `alphacore_reader_counters` without its envelope).
public struct ReaderCounters: Sendable {
    public var fds: UInt32 = 0
    public var polls: UInt64 = 0
    public var syscalls: UInt64 = 0
    public var completions: UInt64 = 0
    public var bytes: UInt64 = 0
    public var messages: UInt64 = 0
    public var reassembled: UInt64 = 0
    public var enobufs: UInt64 = 0
    public var rearms: UInt64 = 0
    public var overflows: UInt64 = 0
    public var eofs: UInt64 = 0
    public var errors: UInt64 = 0
    public var buffersHeld: UInt64 = 0
    public init() {}
}
