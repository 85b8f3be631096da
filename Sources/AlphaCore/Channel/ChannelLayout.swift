import Glibc
import Synchronization

/// The layout of a channel's named shared region (version 1). Everything a process reads from
/// it is checked before use: the geometry is copied out once at open and checked against the
/// mapping; offsets into the ring are always `position & mask` of 32-byte aligned positions;
/// lengths are checked against the maximum message size and the end of the ring.
///
/// ```
/// 0      header line 0 (written once at creation): magic, version, geometry, ready
/// 64     line 1 (owner):     epoch, owner pid and start time, heartbeat, closed
/// 128    line 2 (producer):  tail, last seq, last publish time, epoch start position, last
///                            seq again (stored after tail: a reader pairs tail and seq)
/// 192    line 3 (waiting):   futex word, sleeper count
/// 256    line 4 (intent):    the end of what the producer may be writing, published ahead in
///                            steps of capacity/16, so that it is written once per step and the
///                            readers' lap checks hit their cache
/// 4096   consumer slots (backpressure registrations), 64 x 64 bytes
/// 8192   the ring: `capacity` bytes of records
/// ```
///
/// A record is a 32-byte header and the payload, padded to a multiple of 32 bytes; records
/// never wrap (a padding record fills the end of the ring). Header: seq (the commit word, 0
/// while being written), position (the record's own absolute byte position: a header from an
/// older lap at the same offset has another one), length, kind (message or padding), time.
///
/// The mechanism (per-message seqlock plus a lap check):
/// - The producer first makes sure `intent` covers what it is about to write (publishing it in
///   steps of capacity/16, never beyond the slowest registered reader in backpressure mode)
///   with a release fence, then at claim reads the clock and stores seq 0 in the header; the
///   caller writes the payload; commit writes length, kind, time and position, and stores
///   seq last with release ordering. Nothing is written where the next record goes: a reader
///   waiting there sees an older lap's bytes (another position) or the fresh ring's zeros. A reader more than capacity - capacity/16
///   behind may thus be told it was lapped slightly before the bytes are really overwritten.
/// - A reader at position C expecting seq E loads position then seq (acquire). Both match
///   only for the committed record of this lap. After reading a batch's headers it loads
///   `intent` again: if `intent - capacity > C` the producer has started overwriting the batch
///   and it is dropped (a lap), so poll never hands out a record that was torn when handed out.
/// - Zero-copy data stays valid until the producer laps the reader; `check` repeats the lap
///   test after the caller has read the bytes, and `poll_copy` does so after copying.
/// - A lapped reader scans forward from `intent - capacity` for the first header whose
///   position field is its own position (bounded), and reports `seq - E` lost exactly.
public enum ChannelLayout {
    public static let magic: UInt64 = 0x3130_4E43_4841_4341   // "ACHANC01" little-endian-ish
    public static let version: UInt32 = 1
    public static let headerSize = 8192
    @inlinable public static var recordHeader: Int { 32 }
    public static let slotCount = 64
    public static let slotsOffset = 4096
    public static let slotSize = 64
    public static let minCapacity = 4096
    public static let maxCapacity = 1 << 40

    // line 0
    static let oMagic = 0, oVersion = 8, oHeaderSize = 12, oCapacity = 16, oMaxMsg = 24, oFlags = 28
    static let oSlots = 32, oReady = 36, oRegionSize = 40
    // line 1
    static let oEpoch = 64, oOwnerPid = 72, oOwnerStart = 80, oHeartbeat = 88, oClosed = 96
    // line 2 (the hot path is inlined into the C exports: offsets it uses are computed
    // constants, so that no global's accessor is called there)
    @inlinable static var oTail: Int { 136 }
    @inlinable static var oSeq: Int { 144 }
    @inlinable static var oLastTime: Int { 152 }
    static let oStartPos = 160
    @inlinable static var oSeqAfter: Int { 168 }
    // line 3
    static let oFutex = 192
    @inlinable static var oSleepers: Int { 196 }
    // line 4
    static let oIntent = 256
    // slot fields
    static let sState = 0, sPid = 4, sStart = 8, sPosition = 16, sEpoch = 24
    // record fields
    @inlinable static var rSeq: Int { 0 }
    @inlinable static var rPos: Int { 8 }
    @inlinable static var rLen: Int { 16 }
    static let rKind = 20
    @inlinable static var rTime: Int { 24 }

    static let kindMessage: UInt32 = 0
    static let kindPadding: UInt32 = 1

    /// The record size of a payload of `len` bytes (header plus payload, 32-byte multiple).
    /// 64-byte multiples (no cache line shared by two records) were tried: SPSC +8% (within
    /// the noise), the Python numpy consumer -20% and a quarter fewer 64-byte messages per ring.
    @inlinable @inline(__always) static func recordSize(_ len: Int) -> Int { (recordHeader &+ len &+ 31) & ~31 }
}

/// Flags stored in the header (the C ALPHACORE_CHANNEL_* creation flags).
public struct ChannelFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The producer waits for (or refuses with EAGAIN) the slowest registered consumer.
    public static let backpressure = ChannelFlags(rawValue: 1 << 0)
    /// Publish times are cycle counts (alphacore_cycles) instead of CLOCK_MONOTONIC ns.
    public static let cycles = ChannelFlags(rawValue: 1 << 1)
    /// Backpressure: refuse with EAGAIN instead of waiting.
    public static let nonblock = ChannelFlags(rawValue: 1 << 2)
    /// Messages carry no publish time (ts 0): the producer reads no clock per message.
    public static let noTime = ChannelFlags(rawValue: 1 << 3)
    /// Bits kept in the shared header.
    static let stored: ChannelFlags = [.backpressure, .cycles, .noTime]
    public static let all: ChannelFlags = [.backpressure, .cycles, .nonblock, .noTime]
}

/// Slot states of a consumer registration.
enum SlotState: UInt32 {
    case free = 0
    case claiming = 1
    case active = 2
}

/// Typed access to the shared header and records: one home for every offset.
@usableFromInline struct SharedView {
    @usableFromInline let base: UnsafeMutableRawPointer

    @inlinable @inline(__always) init(_ base: UnsafeMutableRawPointer) { self.base = base }

    @inlinable @inline(__always) func word(_ off: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        (base + off).assumingMemoryBound(to: Atomic<UInt64>.self)
    }
    @inlinable @inline(__always) func word32(_ off: Int) -> UnsafeMutablePointer<Atomic<UInt32>> {
        (base + off).assumingMemoryBound(to: Atomic<UInt32>.self)
    }
    @inline(__always) func load(_ off: Int) -> UInt64 { word(off).pointee.load(ordering: .acquiring) }
    @inline(__always) func store(_ off: Int, _ v: UInt64) { word(off).pointee.store(v, ordering: .releasing) }
    @inline(__always) func load32(_ off: Int) -> UInt32 { word32(off).pointee.load(ordering: .acquiring) }
    @inline(__always) func store32(_ off: Int, _ v: UInt32) { word32(off).pointee.store(v, ordering: .releasing) }

    func slot(_ i: Int) -> SharedView { SharedView(base + ChannelLayout.slotsOffset + i * ChannelLayout.slotSize) }
}

/// What the producer and every reader keep of a mapped channel: the shared header, the ring
/// and its geometry (checked once at create/open). Offsets into the ring are `position & mask`.
@usableFromInline struct ChannelRing {
    @usableFromInline let view: SharedView
    @usableFromInline let records: UnsafeMutableRawPointer
    @usableFromInline let mask: UInt64
    @usableFromInline let capacity: UInt64
    @usableFromInline let maxMessage: Int

    init(base: UnsafeMutableRawPointer, geometry g: ChannelGeometry) {
        view = SharedView(base)
        records = base + ChannelLayout.headerSize
        capacity = UInt64(g.capacity)
        mask = UInt64(g.capacity - 1)
        maxMessage = g.maxMessage
    }

    /// The record header at absolute byte position `position`.
    @inlinable @inline(__always) func header(_ position: UInt64) -> SharedView {
        SharedView(records + Int(truncatingIfNeeded: position & mask))
    }
}

/// The geometry a process trusts: read once, checked against its mapping.
public struct ChannelGeometry: Sendable, Equatable {
    public var capacity: Int
    public var maxMessage: Int
    public var flags: ChannelFlags

    public init(capacity: Int, maxMessage: Int, flags: ChannelFlags) {
        self.capacity = capacity
        self.maxMessage = maxMessage
        self.flags = flags
    }

    public static func == (a: ChannelGeometry, b: ChannelGeometry) -> Bool {
        a.capacity == b.capacity && a.maxMessage == b.maxMessage && a.flags.rawValue == b.flags.rawValue
    }

    /// The checks of a producer's request.
    public func validate() throws(Errno) {
        if capacity < ChannelLayout.minCapacity || capacity > ChannelLayout.maxCapacity || capacity & (capacity - 1) != 0 {
            throw Errno.fail(EINVAL, "capacity \(capacity) is not a power of two between \(ChannelLayout.minCapacity) and 2^40")
        }
        if maxMessage < 1 || ChannelLayout.recordSize(maxMessage) > capacity / 4 {
            throw Errno.fail(EINVAL, "max_msg \(maxMessage) does not fit: a record (32-byte header + message) must be at most capacity/4 = \(capacity / 4) bytes")
        }
        if flags.rawValue & ~ChannelFlags.all.rawValue != 0 {
            throw Errno.fail(EINVAL, "unknown channel flags 0x\(String(flags.rawValue, radix: 16))")
        }
        if flags.isSuperset(of: [.cycles, .noTime]) {
            throw Errno.fail(EINVAL, "ALPHACORE_CHANNEL_CYCLES and ALPHACORE_CHANNEL_NO_TIME exclude each other")
        }
    }

    var regionSize: Int { ChannelLayout.headerSize + capacity }

    /// Reads and checks the header of a mapped region: EPROTO for anything that is not a
    /// channel of this layout version, EAGAIN while its creator is still writing it.
    static func read(_ base: UnsafeMutableRawPointer, mappedSize: Int) throws(Errno) -> ChannelGeometry {
        if mappedSize < ChannelLayout.headerSize {
            throw Errno.fail(EPROTO, "the region is \(mappedSize) bytes: too small to be a channel")
        }
        let v = SharedView(base)
        if v.load(ChannelLayout.oMagic) != ChannelLayout.magic {
            throw Errno.fail(EPROTO, "the region is not a channel (no channel magic)")
        }
        let version = base.load(fromByteOffset: ChannelLayout.oVersion, as: UInt32.self)
        if version != ChannelLayout.version {
            throw Errno.fail(EPROTO, "the channel has layout version \(version); this library reads version \(ChannelLayout.version)")
        }
        if v.load32(ChannelLayout.oReady) != 1 {
            throw Errno.fail(EAGAIN, "the channel is still being created")
        }
        let cap = base.load(fromByteOffset: ChannelLayout.oCapacity, as: UInt64.self)
        let maxMsg = base.load(fromByteOffset: ChannelLayout.oMaxMsg, as: UInt32.self)
        let flags = ChannelFlags(rawValue: base.load(fromByteOffset: ChannelLayout.oFlags, as: UInt32.self))
        let headerSize = base.load(fromByteOffset: ChannelLayout.oHeaderSize, as: UInt32.self)
        guard cap <= UInt64(ChannelLayout.maxCapacity), headerSize == UInt32(ChannelLayout.headerSize) else {
            throw Errno.fail(EPROTO, "the channel header is corrupt (capacity \(cap), header size \(headerSize))")
        }
        let g = ChannelGeometry(capacity: Int(cap), maxMessage: Int(maxMsg), flags: flags)
        do throws(Errno) { try g.validate() } catch {
            throw Errno.fail(EPROTO, "the channel header is corrupt: \(Detail.current)")
        }
        if g.regionSize > mappedSize {
            throw Errno.fail(EPROTO, "the channel says \(g.regionSize) bytes but the region has \(mappedSize)")
        }
        return g
    }

    /// Writes line 0 (ready last, by the caller).
    func write(_ base: UnsafeMutableRawPointer, regionSize: Int) {
        base.storeBytes(of: UInt32(ChannelLayout.version), toByteOffset: ChannelLayout.oVersion, as: UInt32.self)
        base.storeBytes(of: UInt32(ChannelLayout.headerSize), toByteOffset: ChannelLayout.oHeaderSize, as: UInt32.self)
        base.storeBytes(of: UInt64(capacity), toByteOffset: ChannelLayout.oCapacity, as: UInt64.self)
        base.storeBytes(of: UInt32(maxMessage), toByteOffset: ChannelLayout.oMaxMsg, as: UInt32.self)
        base.storeBytes(of: flags.intersection(.stored).rawValue, toByteOffset: ChannelLayout.oFlags, as: UInt32.self)
        base.storeBytes(of: UInt32(ChannelLayout.slotCount), toByteOffset: ChannelLayout.oSlots, as: UInt32.self)
        base.storeBytes(of: UInt64(regionSize), toByteOffset: ChannelLayout.oRegionSize, as: UInt64.self)
        SharedView(base).store(ChannelLayout.oMagic, ChannelLayout.magic)
    }
}
