import CAlphaCoreShims
import CLibURing
import Glibc

/// A typed view of liburing's `struct io_uring`, with named helpers in liburing's spirit
/// (io_uring_sq_ready, io_uring_cq_ready, io_uring_cq_advance, ...) over the kernel-shared
/// indexes: acquire loads of what the kernel writes, release stores of what we publish.
struct RingView {
    let ring: UnsafeMutablePointer<io_uring>

    var fd: Int32 { ring.pointee.ring_fd }

    /// A free SQE, or nil when the SQ is full (io_uring_get_sqe).
    @inline(__always)
    func getSQE() -> UnsafeMutablePointer<io_uring_sqe>? { io_uring_get_sqe(ring) }

    /// Whether SQEs wait that the kernel has not taken yet.
    @inline(__always)
    var sqPending: Bool { ring.pointee.sq.sqe_tail != acshim_load_acquire_u32(ring.pointee.sq.khead.unsafelyUnwrapped) }

    /// Publishes the locally queued SQEs to the kernel's tail (liburing's __io_uring_flush_sq);
    /// returns how many the kernel has not taken.
    @inline(__always)
    func flushSQ() -> UInt32 {
        let tail = ring.pointee.sq.sqe_tail
        if ring.pointee.sq.sqe_head != tail {
            ring.pointee.sq.sqe_head = tail
            acshim_store_release_u32(ring.pointee.sq.ktail.unsafelyUnwrapped, tail)
        }
        return tail &- acshim_load_acquire_u32(ring.pointee.sq.khead.unsafelyUnwrapped)
    }

    /// The SQ ring's flags (IORING_SQ_NEED_WAKEUP, IORING_SQ_CQ_OVERFLOW, IORING_SQ_TASKRUN).
    @inline(__always)
    var sqFlags: UInt32 { acshim_load_acquire_u32(ring.pointee.sq.kflags.unsafelyUnwrapped) }

    /// Our CQ head (only we write it).
    @inline(__always)
    var cqHead: UInt32 { ring.pointee.cq.khead.unsafelyUnwrapped.pointee }

    /// The kernel's CQ tail.
    @inline(__always)
    var cqTail: UInt32 { acshim_load_acquire_u32(ring.pointee.cq.ktail.unsafelyUnwrapped) }

    /// Whether CQEs wait to be harvested (io_uring_cq_ready != 0).
    @inline(__always)
    var cqReady: Bool { cqHead != cqTail }

    /// The CQE at position `head`.
    @inline(__always)
    func cqe(_ head: UInt32) -> UnsafeMutablePointer<io_uring_cqe> {
        ring.pointee.cq.cqes.unsafelyUnwrapped + Int(head & ring.pointee.cq.ring_mask)
    }

    /// Gives the CQEs before `head` back to the kernel (io_uring_cq_advance).
    @inline(__always)
    func cqAdvance(to head: UInt32) { acshim_store_release_u32(ring.pointee.cq.khead.unsafelyUnwrapped, head) }

    /// Whether deferred work waits in the kernel (IORING_SQ_TASKRUN, an overflow) or the CQ
    /// holds entries.
    @inline(__always)
    var hasWork: Bool {
        if cqReady { return true }
        return sqFlags & (UInt32(IORING_SQ_TASKRUN) | UInt32(IORING_SQ_CQ_OVERFLOW)) != 0
    }

    /// Hands each CQE the kernel posted to `body`, then gives them all back.
    @inline(__always)
    func forEachCQE(_ body: (UnsafeMutablePointer<io_uring_cqe>) -> Void) {
        var head = cqHead
        let tail = cqTail
        while head != tail {
            body(cqe(head))
            head &+= 1
        }
        cqAdvance(to: head)
    }

    /// One io_uring_enter with the EXT_ARG form (timeout `ts` when `waitNs` >= 0, the wait's
    /// signal mask when given, min_wait in µs where the kernel has it). -1 and errno on failure.
    @inline(__always)
    static func enter(_ fd: Int32, toSubmit: UInt32, wait: UInt32, flags: UInt32, waitNs: Int64,
                      minWaitUs: UInt32 = 0, mask: UnsafePointer<UInt64>? = nil) -> Result<Int, Errno> {
        var ts = __kernel_timespec(tv_sec: waitNs / 1_000_000_000, tv_nsec: waitNs % 1_000_000_000)
        var arg = io_uring_getevents_arg()
        return withUnsafeMutablePointer(to: &ts) { tsp in
            if waitNs >= 0 { arg.ts = UInt64(UInt(bitPattern: tsp)) }
            if let m = mask {
                arg.sigmask = UInt64(UInt(bitPattern: m))
                arg.sigmask_sz = UInt32(ACSHIM_KERNEL_SIGSET_BYTES)
            }
            arg.pad = minWaitUs   // struct io_uring_getevents_arg.min_wait_usec (6.12) is liburing 2.3's `pad`
            return SystemCall.valueOrErrnoOnce {   // EINTR ends the wait: no retry
                acshim_io_uring_enter(fd, toSubmit, wait, flags | UInt32(IORING_ENTER_EXT_ARG), &arg,
                                      MemoryLayout<io_uring_getevents_arg>.size)
            }
        }
    }
}

/// The provided-buffer ring (`struct io_uring_buf_ring`: entries of 16 bytes, the tail in the
/// first entry's last 2 bytes): liburing's io_uring_buf_ring_add and _advance.
struct BufRingView {
    let base: UnsafeMutableRawPointer
    let bytes: Int
    let mask: UInt16
    var tail: UInt16 = 0
    /// Entries added since the last `advance`.
    var pending = 0

    init(base: UnsafeMutableRawPointer, bytes: Int, entries: Int) {
        self.base = base
        self.bytes = bytes
        mask = UInt16(truncatingIfNeeded: entries - 1)
    }

    /// io_uring_buf_ring_add: the entry after the last added one names buffer `bid`.
    @inline(__always)
    mutating func add(_ addr: UnsafeMutableRawPointer, _ len: UInt32, _ bid: UInt16) {
        let e = base + Int((tail &+ UInt16(truncatingIfNeeded: pending)) & mask) &* 16
        e.storeBytes(of: UInt64(UInt(bitPattern: addr)), toByteOffset: 0, as: UInt64.self)
        e.storeBytes(of: len, toByteOffset: 8, as: UInt32.self)
        e.storeBytes(of: bid, toByteOffset: 12, as: UInt16.self)
        pending &+= 1
    }

    /// io_uring_buf_ring_advance: publishes the added entries with one release store of the
    /// tail. Returns how many.
    @inline(__always)
    mutating func advance() -> Int {
        let added = pending
        if added == 0 { return 0 }
        tail &+= UInt16(truncatingIfNeeded: added)
        acshim_store_release_u16((base + 14).assumingMemoryBound(to: UInt16.self), tail)
        pending = 0
        return added
    }
}
