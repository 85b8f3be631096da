import CAlphaCoreShims
import Glibc
import Synchronization

/// Thread pinning: validate against the allowed set, set, confirm, remember (for `verify`).
///
/// What "confirm" means: for a single CPU the kernel either installs exactly that CPU or fails
/// (the mask it installs is the request intersected with the cpuset; a one-CPU request cannot
/// shrink without becoming empty, which is EINVAL), so the library checks the thread now runs
/// there (`sched_getcpu`, no system call). For a set of CPUs it reads the mask back with
/// `sched_getaffinity`; a set the kernel shrank (the cgroup cpuset changed after the topology
/// was loaded) is undone (the previous mask is restored) and reported as EINVAL.
public enum Pinning {
    /// Pins the calling thread to one CPU.
    @inline(__always)
    public static func pinCurrentThread(cpu: Int) throws(Errno) {
        guard let table = FastTable.current, table.allows(cpu) else {
            return try pinCurrentThreadSlow(cpu: cpu)
        }
        let words = Int(table.maskWords)
        try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { (mask) throws(Errno) in
            mask.initialize(repeating: 0)
            mask[cpu &>> 6] = 1 &<< UInt64(cpu & 63)
            if acshim_sched_setaffinity(0, words &* 8, mask.baseAddress!) != 0 {
                throw setFailure(errno, CPUSet(words: mask), thread: "the calling thread")
            }
            if acshim_current_cpu() != Int32(cpu) {
                // Another thread changed this thread's mask in between, or the kernel did not
                // move us: read the mask back to tell.
                var now = [UInt64](repeating: 0, count: words)
                if acshim_sched_getaffinity(0, words &* 8, &now) != 0 || CPUSet(words: now) != CPUSet([cpu]) {
                    throw Errno.fail(EAGAIN, "pinned to cpu \(cpu), but the thread's mask is now \(CPUSet(words: now).cpulist): another thread changed it")
                }
            }
            remember(UnsafeBufferPointer(mask))
        }
    }

    @inline(never)
    static func pinCurrentThreadSlow(cpu: Int) throws(Errno) {
        let t = try Topology.current
        if let e = t.problem(cpu: cpu) { throw e }
        // Allowed by a topology published after our table load: take the general path.
        try pinCurrentThread(to: CPUSet([cpu]))
    }

    /// Pins the calling thread to a set of CPUs (validated as a whole).
    public static func pinCurrentThread(to set: CPUSet) throws(Errno) {
        let t = try Topology.current
        try t.validate(set)
        if set.count == 1, let only = set.first, FastTable.current?.allows(only) == true {
            return try pinCurrentThread(cpu: only)
        }
        let words = t.maskWords
        let before = try affinity(words: words)
        var mask = set.words(count: words)
        if acshim_sched_setaffinity(0, words * 8, &mask) != 0 {
            throw setFailure(errno, set, thread: "the calling thread")
        }
        let after = try affinity(words: words)
        if after != set {
            var old = before.words(count: words)
            _ = acshim_sched_setaffinity(0, words * 8, &old)
            throw Errno.fail(EINVAL, "the kernel applied only \(after.cpulist) of the requested \(set.cpulist): the cgroup cpuset changed after the topology was loaded (alphacore_topology_reload); the previous mask \(before.cpulist) is restored")
        }
        mask.withUnsafeBufferPointer { remember($0) }
    }

    /// Pins another thread of this process (a live pthread_t) to a set of CPUs. ESRCH for 0 and
    /// for a thread that has exited.
    public static func pin(thread: pthread_t, to set: CPUSet) throws(Errno) {
        let t = try Topology.current
        try t.validate(set)
        let tid = try liveThreadID(thread)
        let words = t.maskWords
        var before = [UInt64](repeating: 0, count: words)
        if acshim_sched_getaffinity(tid, words * 8, &before) != 0 { throw Errno.fromErrno("sched_getaffinity of thread \(tid)") }
        var mask = set.words(count: words)
        if acshim_sched_setaffinity(tid, words * 8, &mask) != 0 { throw setFailure(errno, set, thread: "thread \(tid)") }
        var after = [UInt64](repeating: 0, count: words)
        if acshim_sched_getaffinity(tid, words * 8, &after) != 0 {
            throw Errno.fromErrno("sched_getaffinity of thread \(tid) after pinning")
        }
        if CPUSet(words: after) != set {
            _ = acshim_sched_setaffinity(tid, words * 8, &before)
            throw Errno.fail(EINVAL, "the kernel applied only \(CPUSet(words: after).cpulist) of the requested \(set.cpulist): the cgroup cpuset changed after the topology was loaded; the previous mask \(CPUSet(words: before).cpulist) is restored")
        }
    }

    /// The kernel thread id behind a pthread_t of a live thread of this process, or ESRCH.
    ///
    /// Not glibc's pthread_{get,set}affinity_np: they apply the mask to the tid glibc keeps in
    /// the thread's descriptor, which is 0 once the thread has exited, and tid 0 is the calling
    /// thread, so pinning an exited (detached) thread silently re-pinned the caller.
    /// pthread_getcpuclockid refuses such a thread (ESRCH) and otherwise encodes the tid in
    /// the clock id (MAKE_THREAD_CPUCLOCK: ~tid << 3 | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED);
    /// tgkill(pid, tid, 0) then confirms the tid is a thread of this process right now.
    /// A pthread_t that never named a thread (other than 0) is a wild pointer: glibc reads it.
    static func liveThreadID(_ thread: pthread_t) throws(Errno) -> Int32 {
        if thread == 0 { throw Errno.fail(ESRCH, "pthread_t 0 names no thread") }
        var clock = clockid_t()
        let rc = pthread_getcpuclockid(thread, &clock)
        if rc != 0 { throw Errno.fail(rc == ESRCH ? ESRCH : rc, "the thread has exited (pthread_getcpuclockid: \(Errno(rc)))") }
        let tid = ~(clock >> 3)
        guard clock & 7 == 6, tid > 0 else {
            throw Errno.fail(ESRCH, "pthread_getcpuclockid gave clock \(clock), which names no thread")
        }
        if acshim_tgkill(getpid(), tid, 0) != 0 {
            throw Errno.fail(ESRCH, "thread \(tid) is not a live thread of this process")
        }
        return tid
    }

    /// Whether the calling thread runs inside the set it was last pinned to by this library:
    /// `sched_getcpu()` (the rseq cpu id, no system call) tested against a thread-local copy
    /// of that set. It catches anything that moved the thread out (another thread or taskset
    /// changing its mask, a cpuset change, CPU hotplug); it does not notice a mask that was
    /// widened while the thread still runs on a pinned CPU. ENOENT if this thread was never
    /// pinned by the library.
    @inline(__always)
    public static func verify() throws(Errno) -> Bool {
        let r = verifyCode()
        if r < 0 { throw Errno(0 &- r) }
        return r == 1
    }

    /// `verify()` as the C ABI returns it: 1, 0, or a negative errno (detail set). No throw,
    /// no call on the pinned path: two TLS loads, the rseq cpu id, one bit test.
    @inlinable @inline(__always)
    public static func verifyCode() -> Int32 {
        let state = acshim_pin_state()
        if state.pointee.state != PinState.pinned.rawValue { return verifySlow(state.pointee.state) }
        let cpu = Int(acshim_current_cpu())
        let w = cpu &>> 6
        if cpu < 0 || w >= Int(state.pointee.nwords) { return 0 }
        let words = UnsafeRawPointer(state).advanced(by: wordsOffset).assumingMemoryBound(to: UInt64.self)
        return Int32(truncatingIfNeeded: (words[w] &>> UInt64(cpu & 63)) & 1)
    }

    @usableFromInline @inline(never)
    static func verifySlow(_ state: Int32) -> Int32 {
        if state == PinState.never.rawValue {
            return Errno.fail(ENOENT, "this thread has not been pinned by alphacore_pin_thread, alphacore_pin_thread_list or alphacore_pin_role").negated
        }
        return Errno.fail(EOVERFLOW, "the pinned set names CPUs above 1023, beyond what pin_verify tracks").negated
    }

    /// The calling thread's CPU (sched_getcpu through the rseq area: no system call).
    @inline(__always)
    public static func currentCPU() -> Int32 { acshim_current_cpu() }

    /// The calling thread's affinity mask now.
    public static func currentAffinity() throws(Errno) -> CPUSet {
        try affinity(words: Topology.current.maskWords)
    }

    /// A thread's mask and the library's record of its pin, to put back later.
    public struct Saved: Sendable {
        public let mask: CPUSet
        let pin: acshim_pin_state
    }

    /// Saves the calling thread's mask (and pin record).
    public static func save() throws(Errno) -> Saved {
        Saved(mask: try currentAffinity(), pin: acshim_pin_state().pointee)
    }

    /// Puts back a saved mask on the calling thread exactly (it is not re-validated against
    /// the allowed set: it was the thread's own mask), and the pin record with it.
    public static func restore(_ saved: Saved) throws(Errno) {
        let words = try Topology.current.maskWords
        var mask = saved.mask.words(count: words)
        if acshim_sched_setaffinity(0, words * 8, &mask) != 0 {
            throw setFailure(errno, saved.mask, thread: "the calling thread")
        }
        acshim_pin_state().pointee = saved.pin
    }

    // MARK: helpers

    /// What the calling thread's pin record (`acshim_pin_state.state`) says.
    @usableFromInline
    enum PinState: Int32 {
        /// Never pinned by the library (pin_verify: ENOENT).
        case never = 0
        /// Pinned; the record's words hold the set.
        case pinned = 1
        /// Pinned to a set naming CPUs above 1023, which the record does not hold (EOVERFLOW).
        case beyondTrackedCPUs = 2
    }

    /// offsetof(struct acshim_pin_state, words) (a _Static_assert in shims.c holds it to 8).
    @inlinable @inline(__always) static var wordsOffset: Int { 8 }

    static func affinity(words: Int) throws(Errno) -> CPUSet {
        var mask = [UInt64](repeating: 0, count: words)
        if acshim_sched_getaffinity(0, words * 8, &mask) != 0 { throw Errno.fromErrno("sched_getaffinity") }
        return CPUSet(words: mask)
    }

    /// Records the set just installed on the calling thread for `verify`.
    @inline(__always)
    static func remember(_ mask: UnsafeBufferPointer<UInt64>) {
        let state = acshim_pin_state()
        var n = mask.count
        while n > 0 && mask[n &- 1] == 0 { n &-= 1 }
        if n > Int(ACSHIM_PIN_WORDS) {
            state.pointee.state = PinState.beyondTrackedCPUs.rawValue
            return
        }
        let words = UnsafeMutableRawPointer(state).advanced(by: wordsOffset).assumingMemoryBound(to: UInt64.self)
        for i in 0..<n { words[i] = mask[i] }
        state.pointee.nwords = UInt32(truncatingIfNeeded: n)
        state.pointee.state = PinState.pinned.rawValue
    }

    /// The error for a refused sched_setaffinity / pthread_setaffinity_np.
    @inline(never)
    static func setFailure(_ code: Int32, _ set: CPUSet, thread: String) -> Errno {
        switch code {
        case EINVAL:
            let now = CgroupCpuset.find(prefix: "")
            let bound = now.map { "; the \($0.summary) now" } ?? ""
            return Errno.fail(EINVAL, "the kernel refused \(set.cpulist) for \(thread): none of it is in the cpuset\(bound) (it changed after the topology was loaded: alphacore_topology_reload)")
        case EPERM:
            return Errno.fail(EPERM, "not permitted to set the affinity of \(thread) (another user's thread needs CAP_SYS_NICE)")
        default:
            return Errno.fail(code, "setting the affinity of \(thread) to \(set.cpulist): \(Errno(code))")
        }
    }
}

/// The hot-path view of the topology: an immutable block published with release ordering and
/// read with acquire ordering, never freed (a reload publishes a new one). Layout: the C header
/// `struct acshim_cpu_table` (cpu_count, mask_words; its size asserted in shims.c), then UInt64
/// allowed[mask_words], then Int32 node[cpu_count].
@usableFromInline
struct FastTable {
    @usableFromInline let base: UnsafeRawPointer

    @inlinable init(base: UnsafeRawPointer) { self.base = base }

    @inlinable @inline(__always) static var current: FastTable? {
        let raw = fastTable.load(ordering: .acquiring)
        guard let p = UnsafeRawPointer(bitPattern: raw) else { return nil }
        return FastTable(base: p)
    }

    @inlinable @inline(__always) var header: UnsafePointer<acshim_cpu_table> {
        base.assumingMemoryBound(to: acshim_cpu_table.self)
    }
    @inlinable @inline(__always) var cpuCount: UInt32 { header.pointee.cpu_count }
    @inlinable @inline(__always) var maskWords: UInt32 { header.pointee.mask_words }
    /// Where the allowed words start: right after the header.
    @inlinable @inline(__always) static var wordsOffset: Int { MemoryLayout<acshim_cpu_table>.size }

    @inlinable @inline(__always) func allows(_ cpu: Int) -> Bool {
        let w = cpu &>> 6
        guard cpu >= 0, w < Int(maskWords) else { return false }
        let word = base.load(fromByteOffset: FastTable.wordsOffset &+ w &* 8, as: UInt64.self)
        return (word &>> UInt64(cpu & 63)) & 1 != 0
    }

    /// The node of `cpu`, or -1 (unknown or out of range).
    @inlinable @inline(__always) func node(_ cpu: Int32) -> Int32 {
        guard cpu >= 0, UInt32(cpu) < cpuCount else { return -1 }
        let offset = FastTable.wordsOffset &+ Int(maskWords) &* 8 &+ Int(cpu) &* 4
        return base.load(fromByteOffset: offset, as: Int32.self)
    }

    static func publish(_ t: Topology) {
        let words = t.maskWords
        let size = wordsOffset + words * 8 + t.cpus.count * 4
        let p = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        p.initializeMemory(as: acshim_cpu_table.self,
                           repeating: acshim_cpu_table(cpu_count: UInt32(t.cpus.count), mask_words: UInt32(words)), count: 1)
        for (i, w) in t.allowed.words(count: words).enumerated() {
            p.storeBytes(of: w, toByteOffset: wordsOffset + i * 8, as: UInt64.self)
        }
        for (i, c) in t.cpus.enumerated() {
            p.storeBytes(of: Int32(c.node), toByteOffset: wordsOffset + words * 8 + i * 4, as: Int32.self)
        }
        fastTable.store(UInt(bitPattern: p), ordering: .releasing)
    }
}

/// 0 before the first load, else the address of the current FastTable block.
@usableFromInline let fastTable = Atomic<UInt>(0)
