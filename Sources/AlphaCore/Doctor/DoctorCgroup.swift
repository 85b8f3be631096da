// The process's cgroup CPU quota and real-time budget (the cpu controller, v1 or v2), for the
// doctor's reports. The cpuset is the CPU capability's (Topology.cgroup).
struct DoctorCgroup {
    enum Version { case v1, v2 }

    struct Quota {
        /// Quota and period in microseconds, at `source`.
        var quota: Int64
        var period: Int64
        var source: String
        var throttled: Int64?
        var cpus: Double { Double(quota) / Double(period) }
    }

    let host: DoctorHost
    /// v1/v2 for the cpu controller, or why unknown.
    let version: Result<Version, DoctorProblem>
    /// The cpu controller's directories, from the process's cgroup up to the mount point.
    let cpuDirs: [String]

    /// Finds the cpu controller the way the CPU capability finds the cpuset (CgroupCpuset):
    /// /proc/self/cgroup for the path, /proc/self/mountinfo for the mount.
    init(host: DoctorHost) {
        self.host = host
        guard let text = host.read("/proc/self/cgroup").text else {
            version = .failure(DoctorProblem(host.read("/proc/self/cgroup").reason)); cpuDirs = []; return
        }
        guard let mountText = host.read("/proc/self/mountinfo").text else {
            version = .failure(DoctorProblem(host.read("/proc/self/mountinfo").reason)); cpuDirs = []; return
        }
        var v1Path: String?
        var v2Path: String?
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard f.count == 3 else { continue }
            if f[0] == "0" && f[1].isEmpty { v2Path = String(f[2]) }
            else if f[1].split(separator: ",").contains("cpu") { v1Path = String(f[2]) }
        }
        let mounts = CgroupCpuset.parseMountinfo(mountText)
        if let path = v1Path, let m = mounts.first(where: { $0.fstype == "cgroup" && $0.superOptions.split(separator: ",").contains("cpu") }) {
            version = .success(.v1)
            cpuDirs = Self.chain(m, path)
        } else if let path = v2Path, let m = mounts.first(where: { $0.fstype == "cgroup2" }) {
            version = .success(.v2)
            cpuDirs = Self.chain(m, path)
        } else {
            version = .failure(DoctorProblem("no cgroup cpu controller in /proc/self/mountinfo"))
            cpuDirs = []
        }
    }

    /// The directories from `path` (relative to the hierarchy root; the mount shows `m.root`
    /// of it) up to the mount point, as host paths.
    static func chain(_ m: CgroupCpuset.Mount, _ path: String) -> [String] {
        var relative = path
        if m.root != "/" {
            if relative == m.root { relative = "/" } else if relative.hasPrefix(m.root + "/") { relative = String(relative.dropFirst(m.root.count)) }
        }
        var parts = relative.split(separator: "/").map(String.init)
        var dirs: [String] = []
        while !parts.isEmpty {
            dirs.append(m.mountPoint + "/" + parts.joined(separator: "/"))
            parts.removeLast()
        }
        dirs.append(m.mountPoint)
        return dirs
    }

    var versionName: String {
        switch version {
        case .success(.v1): "cgroup v1"
        case .success(.v2): "cgroup v2"
        case .failure: "cgroup (unknown version)"
        }
    }

    /// Every CPU quota between the process's cgroup and the root (the tightest first).
    var quotas: Result<[Quota], DoctorProblem> {
        var found: [Quota] = []
        switch version {
        case .failure(let p): return .failure(p)
        case .success(.v2):
            for dir in cpuDirs where host.exists("\(dir)/cpu.max") {
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
            for dir in cpuDirs where host.exists("\(dir)/cpu.cfs_quota_us") {
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
