import CAlphaCoreShims
import Glibc

/// Nice values, real-time policies and thread names of the calling thread. Each change is
/// one system call: it happens entirely or not at all; a refusal says why in the detail.
public enum Scheduling {
    /// Scheduling policies (the kernel's SCHED_* values).
    public enum Policy: Int32, Sendable {
        case other = 0
        case fifo = 1
        case roundRobin = 2

        var name: String {
            switch self {
            case .other: "SCHED_OTHER"
            case .fifo: "SCHED_FIFO"
            case .roundRobin: "SCHED_RR"
            }
        }
    }

    /// The calling thread's nice value.
    public static func nice() throws(Errno) -> Int {
        errno = 0
        let v = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(acshim_gettid()))
        if v == -1 && errno != 0 { throw Errno.fromErrno("getpriority") }
        return Int(v)
    }

    /// Sets the calling thread's nice value (-20...19). Lowering it (raising priority),
    /// including undoing an earlier increase, needs CAP_SYS_NICE or a high enough RLIMIT_NICE:
    /// EACCES otherwise, with the reason.
    public static func setNice(_ value: Int) throws(Errno) {
        guard (-20...19).contains(value) else {
            throw Errno.fail(EINVAL, "nice value \(value) is outside -20...19")
        }
        let tid = id_t(acshim_gettid())
        let result = SystemCall.valueOrErrno { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid, Int32(value)) }
        guard case .failure(let error) = result else { return }
        let e = error.code
        let before = (try? nice()).map(String.init) ?? "?"
        if e == EACCES || e == EPERM {
            var lim = rlimit()
            getrlimit(__rlimit_resource_t(__RLIMIT_NICE.rawValue), &lim)
            let soft = lim.rlim_cur == rlim_t.max ? "unlimited" : "\(lim.rlim_cur)"
            throw Errno.fail(e, "setting nice \(value) (now \(before)) needs CAP_SYS_NICE (\(capSysNiceWords)) or RLIMIT_NICE >= \(20 - value) (soft limit \(soft)); nothing was changed")
        }
        throw Errno.fail(e, "setpriority(\(value)): \(Errno(e))")
    }

    /// Sets the calling thread's policy: `.fifo`/`.roundRobin` with priority 1...99, or
    /// `.other` with priority 0. EPERM when denied, with the reason: CAP_SYS_NICE missing and
    /// RLIMIT_RTPRIO too low, or the thread's cgroup has no real-time budget.
    public static func setRealtime(policy: Policy, priority: Int) throws(Errno) {
        let lo = policy == .other ? 0 : Int(sched_get_priority_min(policy.rawValue))
        let hi = policy == .other ? 0 : Int(sched_get_priority_max(policy.rawValue))
        guard priority >= lo && priority <= hi else {
            throw Errno.fail(EINVAL, "priority \(priority) is outside \(lo)...\(hi) for \(policy.name)")
        }
        var param = sched_param()
        param.sched_priority = Int32(priority)
        guard case .failure(let error) = SystemCall.valueOrErrno({ sched_setscheduler(0, policy.rawValue, &param) }) else { return }
        let e = error.code
        let now = currentPolicyName
        guard e == EPERM || e == EACCES else {
            throw Errno.fail(e, "sched_setscheduler(\(policy.name), \(priority)): \(Errno(e)); still \(now)")
        }
        var lim = rlimit()
        getrlimit(__rlimit_resource_t(__RLIMIT_RTPRIO.rawValue), &lim)
        let rtprio = lim.rlim_cur == rlim_t.max ? Int.max : Int(clamping: lim.rlim_cur)
        if !hasCapSysNice && policy != .other && rtprio < priority {
            throw Errno.fail(e, "\(policy.name) priority \(priority) needs CAP_SYS_NICE (\(capSysNiceWords)) or RLIMIT_RTPRIO >= \(priority) (soft limit \(rtprio)); still \(now)")
        }
        if policy != .other, let budget = rtBudget(), budget.value == 0 {
            throw Errno.fail(e, "\(policy.name) refused: \(budget.file) is 0, so this cgroup has no real-time budget (kernel RT group scheduling); still \(now)")
        }
        if policy != .other, let global = SysFile.trimmed(SystemRoot.path("/proc/sys/kernel/sched_rt_runtime_us")), global == "0" {
            throw Errno.fail(e, "\(policy.name) refused: kernel.sched_rt_runtime_us is 0 (no real-time budget); still \(now)")
        }
        throw Errno.fail(e, "sched_setscheduler(\(policy.name), \(priority)) was refused (\(capSysNiceWords), RLIMIT_RTPRIO \(rtprio)); still \(now)")
    }

    /// Names the calling thread (at most 15 bytes: ERANGE beyond).
    public static func setThreadName(_ name: String) throws(Errno) {
        if name.utf8.count > 15 {
            throw Errno.fail(ERANGE, "thread name \"\(CPUSet.quoted(name))\" is \(name.utf8.count) bytes; Linux keeps at most 15")
        }
        let rc = acshim_pthread_setname(acshim_pthread_self(), name)
        if rc != 0 { throw Errno.fail(rc, "pthread_setname_np: \(Errno(rc))") }
    }

    /// The calling thread's name.
    public static func threadName() throws(Errno) -> String {
        var buf = [CChar](repeating: 0, count: 32)
        let rc = acshim_pthread_getname(acshim_pthread_self(), &buf, buf.count)
        if rc != 0 { throw Errno.fail(rc, "pthread_getname_np: \(Errno(rc))") }
        return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    // MARK: reasons

    /// CAP_SYS_NICE (bit 23) in the calling thread's effective set (/proc/thread-self/status).
    static var hasCapSysNice: Bool { ProcStatus.has(.sysNice, thread: true) }

    static var capSysNiceWords: String {
        hasCapSysNice ? "present in this thread's effective set" : "not in this thread's effective set"
    }

    static var currentPolicyName: String {
        let p = sched_getscheduler(0)
        var param = sched_param()
        sched_getparam(0, &param)
        let name = Policy(rawValue: p & 0xFF)?.name ?? "policy \(p)"
        return "\(name) priority \(param.sched_priority)"
    }

    /// The cgroup v1 `cpu.rt_runtime_us` of the calling process's cpu cgroup, when the kernel
    /// has RT group scheduling (cgroup v2 has no RT budget per group).
    static func rtBudget() -> (file: String, value: Int)? {
        guard let cgroups = try? SysFile.readSystem("/proc/self/cgroup"),
              let mountText = try? SysFile.readSystem("/proc/self/mountinfo") else { return nil }
        var path: String?
        for line in cgroups.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count == 3, parts[1].split(separator: ",").contains("cpu") { path = String(parts[2]) }
        }
        guard let path,
              let mount = CgroupCpuset.parseMountinfo(mountText).first(where: {
                  $0.fstype == "cgroup" && $0.superOptions.split(separator: ",").contains("cpu")
              }) else { return nil }
        let file = SystemRoot.path(CgroupCpuset.directory(mount: mount, path: path)) + "/cpu.rt_runtime_us"
        guard let text = SysFile.trimmed(file), let v = Int(text) else { return nil }
        return (file, v)
    }
}
