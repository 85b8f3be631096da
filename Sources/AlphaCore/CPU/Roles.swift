import Glibc
import Synchronization

/// A role spec such as `collector=2-4;orderbook=5-6;network=7-8`: named, disjoint CPU sets.
public struct RoleSpec: Sendable, Equatable {
    public struct Role: Sendable, Equatable {
        public let name: String
        public let cpus: CPUSet
    }

    public let roles: [Role]

    public func cpus(of name: String) -> CPUSet? { roles.first { $0.name == name }?.cpus }

    /// The spec as text (names in the given order, cpulists normalised).
    public var text: String { roles.map { "\($0.name)=\($0.cpus.cpulist)" }.joined(separator: ";") }

    /// Parses strictly: `name=cpulist` items joined by single ';', names of letters, digits,
    /// '_', '-' and '.', each name once, no CPU in two roles. No spaces.
    public static func parse(_ spec: String) throws(Errno) -> RoleSpec {
        if spec.isEmpty { throw Errno.fail(EINVAL, "the role spec is empty") }
        var roles: [Role] = []
        // Names seen and CPUs taken so far: each item is checked in time proportional to its
        // own size (a 64 KiB spec holds thousands of roles; pairwise checks took minutes).
        var names = Set<String>()
        var taken = CPUSet()
        for item in spec.split(separator: ";", omittingEmptySubsequences: false) {
            if item.isEmpty {
                throw Errno.fail(EINVAL, "role spec \"\(CPUSet.quoted(spec))\" has an empty item (';;' or a ';' at an end)")
            }
            guard let eq = item.firstIndex(of: "=") else {
                throw Errno.fail(EINVAL, "role spec item \"\(CPUSet.quoted(String(item)))\" has no '=' (expected name=cpulist)")
            }
            let name = String(item[..<eq])
            if name.isEmpty || name.utf8.count > 64 || !name.utf8.allSatisfy(isNameByte) {
                throw Errno.fail(EINVAL, "role name \"\(CPUSet.quoted(name))\" must be 1-64 letters, digits, '_', '-' or '.'")
            }
            if !names.insert(name).inserted {
                throw Errno.fail(EINVAL, "role \(name) appears twice in the spec")
            }
            let cpus = try CPUSet.parse(String(item[item.index(after: eq)...]), what: "role \(name) cpulist")
            if !taken.isDisjoint(with: cpus) {
                for other in roles where !other.cpus.isDisjoint(with: cpus) {
                    throw Errno.fail(EINVAL, "roles \(other.name) (\(other.cpus.cpulist)) and \(name) (\(cpus.cpulist)) overlap on cpus \(other.cpus.intersection(cpus).cpulist)")
                }
            }
            taken = taken.union(cpus)
            roles.append(Role(name: name, cpus: cpus))
        }
        return RoleSpec(roles: roles)
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == 0x5F || b == 0x2D || b == 0x2E
    }

    /// Checks every role's CPUs against the topology (possible, online, allowed).
    public func validate(against t: Topology) throws(Errno) {
        for r in roles { try t.validate(r.cpus, what: "role \(r.name)") }
    }
}

/// The process's roles: set by a call or taken from `ALPHACORE_CPUS` on first use.
/// `pin(role:)` hands out the role's CPUs in turn: the k-th call for a role gets its
/// (k mod n)-th CPU, so threads spread over the role's CPUs and wrap when there are more
/// threads than CPUs.
public enum Roles {
    /// The environment variable read when no spec was set by a call.
    public static let environmentVariable = "ALPHACORE_CPUS"

    /// Validates `spec` as a whole (syntax, overlaps, every CPU allowed) and installs it,
    /// resetting the turn counters. Nothing changes on failure.
    public static func set(spec: String) throws(Errno) {
        let parsed = try RoleSpec.parse(spec)
        try parsed.validate(against: Topology.current)
        state.withLock { $0 = State(spec: parsed, next: [:]) }
    }

    /// Installs the spec from `ALPHACORE_CPUS` (ENOENT when it is not set).
    public static func setFromEnvironment() throws(Errno) {
        guard let value = getenv(environmentVariable) else {
            throw Errno.fail(ENOENT, "no role spec: \(environmentVariable) is not set and alphacore_roles_set was not called")
        }
        do {
            try set(spec: String(cString: value))
        } catch {
            throw Errno.fail(error.code, "\(environmentVariable): \(Detail.current)")
        }
    }

    /// The installed spec (loading `ALPHACORE_CPUS` if none was set yet).
    public static var current: RoleSpec {
        get throws(Errno) {
            if let s = state.withLock({ $0?.spec }) { return s }
            try setFromEnvironment()
            if let s = state.withLock({ $0?.spec }) { return s }
            throw Errno.fail(Errno.internal, "role spec vanished")
        }
    }

    /// The CPUs of a role.
    public static func cpus(of role: String) throws(Errno) -> CPUSet {
        let spec = try current
        guard let cpus = spec.cpus(of: role) else { throw unknown(role, spec) }
        return cpus
    }

    /// Pins the calling thread to the role's next CPU and returns that CPU.
    public static func pin(role: String) throws(Errno) -> Int {
        _ = try current
        return try state.withLock { (s) throws(Errno) -> Int in
            guard var st = s else { throw Errno.fail(Errno.internal, "role spec vanished") }
            guard let cpus = st.spec.cpus(of: role) else { throw unknown(role, st.spec) }
            let ids = cpus.ids
            let turn = st.next[role, default: 0]
            let cpu = ids[Int(UInt(bitPattern: turn) % UInt(ids.count))]
            try Pinning.pinCurrentThread(cpu: cpu)
            st.next[role] = turn &+ 1
            s = st
            return cpu
        }
    }

    static func unknown(_ role: String, _ spec: RoleSpec) -> Errno {
        Errno.fail(ENOENT, "unknown role \"\(CPUSet.quoted(role))\" (roles: \(spec.roles.map(\.name).joined(separator: ", ")))")
    }

    struct State {
        var spec: RoleSpec
        var next: [String: Int]
    }

    private static let state = Mutex<State?>(nil)

    /// Forgets the installed spec (tests).
    static func reset() { state.withLock { $0 = nil } }
}
