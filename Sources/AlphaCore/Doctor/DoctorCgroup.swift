// Where the process sits in the cgroup hierarchy (v1 or v2) and what its cpuset, CPU quota and
// real-time budget are, for the doctor's reports.
struct DoctorCgroup {
    enum Version { case v1, v2 }

    struct Cpuset {
        /// The effective CPUs (nil: no cpuset controller in reach).
        var cpus: [Int]?
        var source: String
    }

    struct Quota {
        /// Quota and period in microseconds, at `source`.
        var quota: Int64
        var period: Int64
        var source: String
        var throttled: Int64?
        var cpus: Double { Double(quota) / Double(period) }
    }

    let host: DoctorHost
    /// v1/v2, or why unknown.
    let version: Result<Version, DoctorProblem>
    /// controller -> path inside that hierarchy ("" for v2's unified line).
    let paths: [String: String]

    init(host: DoctorHost) {
        self.host = host
        guard let text = host.read("/proc/self/cgroup").text else {
            version = .failure(DoctorProblem(host.read("/proc/self/cgroup").reason))
            paths = [:]
            return
        }
        var p: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard f.count == 3 else { continue }
            let path = String(f[2])
            if f[1].isEmpty { p[""] = path; continue }
            for c in f[1].split(separator: ",") { p[String(c)] = path }
        }
        paths = p
        if host.exists("/sys/fs/cgroup/cgroup.controllers") {
            version = .success(.v2)
        } else if host.exists("/sys/fs/cgroup/cpuset") || host.exists("/sys/fs/cgroup/cpu") || p["cpuset"] != nil {
            version = .success(.v1)
        } else if p[""] != nil && p.count == 1 {
            version = .success(.v2)
        } else {
            version = .failure(DoctorProblem("no cgroup hierarchy under /sys/fs/cgroup"))
        }
    }

    var versionName: String {
        switch version {
        case .success(.v1): "cgroup v1"
        case .success(.v2): "cgroup v2"
        case .failure: "cgroup (unknown version)"
        }
    }

    /// The directories from the process's cgroup up to the mount root, for one v1 controller
    /// (or v2 when controller is nil). A namespaced container's path may not exist under the
    /// mount: its own cgroup is then the mount root.
    func chain(_ controller: String?) -> [String] {
        let base: String
        let path: String
        if let controller {
            var mount = "/sys/fs/cgroup/\(controller)"
            if !host.exists(mount) {
                // Joined hierarchies: cpu,cpuacct.
                if let joined = host.list("/sys/fs/cgroup")?.first(where: { $0.split(separator: ",").contains(Substring(controller)) }) {
                    mount = "/sys/fs/cgroup/\(joined)"
                }
            }
            base = mount
            path = paths[controller] ?? "/"
        } else {
            base = "/sys/fs/cgroup"
            path = paths[""] ?? "/"
        }
        var dirs: [String] = []
        var parts = path.split(separator: "/").map(String.init)
        while !parts.isEmpty {
            let dir = base + "/" + parts.joined(separator: "/")
            if host.exists(dir) { dirs.append(dir) }
            parts.removeLast()
        }
        dirs.append(base)
        return dirs
    }

    var cpusetSource: String {
        if case .success(let c) = cpuset { return c.source }
        return "cgroup cpuset (unreadable)"
    }

    /// The effective cpuset: the nearest cgroup (walking up) that states one.
    var cpuset: Result<Cpuset, DoctorProblem> {
        switch version {
        case .failure(let p): return .failure(p)
        case .success(.v2):
            for dir in chain(nil) {
                for f in ["cpuset.cpus.effective"] where host.exists("\(dir)/\(f)") {
                    switch host.cpuList("\(dir)/\(f)") {
                    case .success(let cpus) where !cpus.isEmpty: return .success(Cpuset(cpus: cpus, source: "\(dir)/\(f)"))
                    case .success: continue
                    case .failure(let p): return .failure(p)
                    }
                }
            }
            return .success(Cpuset(cpus: nil, source: "no cpuset controller in /sys/fs/cgroup"))
        case .success(.v1):
            for dir in chain("cpuset") {
                for f in ["cpuset.effective_cpus", "cpuset.cpus"] where host.exists("\(dir)/\(f)") {
                    switch host.cpuList("\(dir)/\(f)") {
                    case .success(let cpus) where !cpus.isEmpty: return .success(Cpuset(cpus: cpus, source: "\(dir)/\(f)"))
                    case .success: continue
                    case .failure(let p): return .failure(p)
                    }
                }
            }
            return .success(Cpuset(cpus: nil, source: "no cpuset hierarchy under /sys/fs/cgroup"))
        }
    }

    /// Every CPU quota between the process's cgroup and the root (the tightest first).
    var quotas: Result<[Quota], DoctorProblem> {
        var found: [Quota] = []
        switch version {
        case .failure(let p): return .failure(p)
        case .success(.v2):
            for dir in chain(nil) where host.exists("\(dir)/cpu.max") {
                guard let t = host.trimmed("\(dir)/cpu.max") else {
                    return .failure(DoctorProblem(host.read("\(dir)/cpu.max").reason))
                }
                let f = t.split(whereSeparator: DoctorHost.isBlank)
                if f.count == 2 && f[0] == "max" { continue }
                guard f.count == 2, let q = Int64(f[0]), let per = Int64(f[1]), q > 0, per > 0 else {
                    return .failure(DoctorProblem("\(dir)/cpu.max holds '\(DoctorHost.excerpt(t))', not 'QUOTA PERIOD'"))
                }
                found.append(Quota(quota: q, period: per, source: "\(dir)/cpu.max", throttled: throttled("\(dir)/cpu.stat")))
            }
        case .success(.v1):
            for dir in chain("cpu") where host.exists("\(dir)/cpu.cfs_quota_us") {
                let q: Int64, per: Int64
                switch (host.integer("\(dir)/cpu.cfs_quota_us"), host.integer("\(dir)/cpu.cfs_period_us")) {
                case (.success(let a), .success(let b)): q = a; per = b
                case (.failure(let p), _), (_, .failure(let p)): return .failure(p)
                }
                if q < 0 { continue }
                guard q > 0, per > 0 else {
                    return .failure(DoctorProblem("\(dir)/cpu.cfs_quota_us is \(q) with period \(per)"))
                }
                found.append(Quota(quota: q, period: per, source: "\(dir)/cpu.cfs_quota_us", throttled: throttled("\(dir)/cpu.stat")))
            }
        }
        return .success(found.sorted { $0.cpus < $1.cpus })
    }

    private func throttled(_ path: String) -> Int64? {
        guard let t = host.read(path).text else { return nil }
        return DoctorHost.keyValues(t, separator: " ")["nr_throttled"].flatMap { Int64($0) }
    }
}
