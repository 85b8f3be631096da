import CAlphaCoreShims
import Glibc

/// The reader's buffers: `count` buffers of `size` bytes in one mapping. `refs[b]` counts the
/// caller's completions that point into buffer b; at 0 the buffer goes back to the kernel's
/// provided-buffer ring (io_uring) or to the free list (epoll).
struct BufferPool {
    let base: UnsafeMutableRawPointer
    let mapBytes: Int
    let size: Int
    let count: Int
    let hugePages: Bool
    var refs: UnsafeMutablePointer<UInt32>
    /// Buffers the caller holds a piece of (refs > 0).
    var held = 0
    /// epoll: the free buffers.
    var freeList: UnsafeMutablePointer<UInt32>
    var freeCount = 0
    /// io_uring: the provided-buffer ring the kernel picks buffers from (nil on epoll).
    var kernelRing: BufRingView?
    /// io_uring: buffers the kernel holds (published to it and not yet completed).
    var kernelBufs = 0
    /// Incremental consumption (IOU_PBUF_RING_INC; nil when not in use): per buffer, where the
    /// kernel's next piece starts, and `BufferPool.inKernel` while the kernel owns it.
    var pieceOffset: UnsafeMutablePointer<UInt32>?

    /// `pieceOffset` bit: the kernel still owns the buffer.
    static let inKernel: UInt32 = 1 &<< 31

    init(base: UnsafeMutableRawPointer, mapBytes: Int, size: Int, count: Int, hugePages: Bool) {
        self.base = base
        self.mapBytes = mapBytes
        self.size = size
        self.count = count
        self.hugePages = hugePages
        refs = ReaderMemory.allocate(count, 0)
        freeList = ReaderMemory.allocate(count, 0)
    }

    /// Frees the bookkeeping (the mapping is the core's: it may be a memory-capability region).
    func deallocate() {
        refs.deallocate()
        freeList.deallocate()
        pieceOffset?.deallocate()
    }

    @inline(__always)
    func address(_ bid: Int) -> UnsafeMutableRawPointer { base + bid &* size }

    /// Gives a buffer back to the kernel ring (published by `publish`) or the free list.
    @inline(__always)
    mutating func recycle(_ bid: Int) {
        if kernelRing != nil {
            if let offsets = pieceOffset { offsets[bid] = BufferPool.inKernel }
            let addr = address(bid), length = UInt32(truncatingIfNeeded: size)
            kernelRing?.add(addr, length, UInt16(truncatingIfNeeded: bid))
        } else {
            freeList[freeCount] = UInt32(truncatingIfNeeded: bid)
            freeCount &+= 1
        }
    }

    /// epoll: a free buffer (the caller checked `freeCount` > 0).
    @inline(__always)
    mutating func popFree() -> Int {
        freeCount &-= 1
        return Int(freeList[freeCount])
    }

    /// Incremental buffers: whether the kernel may still put data into buffer `bid`.
    @inline(__always)
    func kernelOwns(_ bid: Int) -> Bool {
        guard let offsets = pieceOffset else { return false }
        return offsets[bid] & BufferPool.inKernel != 0
    }

    /// A buffer piece nobody will see (a removed fd, a read without data): the buffer goes
    /// back once the kernel is done with it and the caller holds no piece of it.
    @inline(__always)
    mutating func drop(_ bid: Int) {
        if refs[bid] == 0 && !kernelOwns(bid) { recycle(bid) }
    }

    /// The caller got one more piece of buffer `bid`.
    @inline(__always)
    mutating func hold(_ bid: Int) {
        if refs[bid] == 0 { held &+= 1 }
        refs[bid] &+= 1
    }

    /// Makes recycled buffers visible to the kernel with one release store of the ring tail.
    @inline(__always)
    mutating func publish() {
        guard let added = kernelRing?.advance(), added > 0 else { return }
        kernelBufs &+= added
    }

    /// Gives back one piece of buffer `bid` the caller held; false if it holds none.
    @inline(__always)
    mutating func release(_ bid: UInt32) -> Bool {
        let b = Int(bid)
        if b >= count || refs[b] == 0 { return false }
        refs[b] &-= 1
        if refs[b] == 0 {
            held &-= 1
            if !kernelOwns(b) { recycle(b) }
        }
        return true
    }
}

/// Memory for the reader's tables and buffers.
enum ReaderMemory {
    /// The base page size (mappings are rounded up to it).
    static var pageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }

    /// Anonymous, prefaulted, private 4 KiB-page memory (huge-page buffers come from the memory
    /// capability's `Region.allocate`). Returns the mapping, its length and false (not huge).
    static func map(_ bytes: Int, what: String) throws(Errno) -> (UnsafeMutableRawPointer, Int, Bool) {
        guard let length = RoundUp.multiple(bytes, of: pageSize) else {
            throw Errno.fail(ENOMEM, "\(bytes) bytes for \(what) do not fit a mapping")
        }
        let p = try mapAnonymous(length, what: "cannot map \(length) bytes for \(what)")
        // Prefault so that the first reads take no page faults (failure only costs speed).
        _ = madvise(p, length, MADV_POPULATE_WRITE)
        return (p, length, false)
    }

    /// mmap of `length` private anonymous bytes (not prefaulted).
    static func mapAnonymous(_ length: Int, what: @autoclosure () -> String) throws(Errno) -> UnsafeMutableRawPointer {
        let at = try SystemCall.check(what()) {
            Int(bitPattern: mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        }
        return UnsafeMutableRawPointer(bitPattern: at).unsafelyUnwrapped   // mmap never maps page 0 here
    }

    static func allocate<T>(_ count: Int, _ value: T) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
        p.initialize(repeating: value, count: max(count, 1))
        return p
    }
}
