import Glibc

/// The cgroup cpuset that bounds this process, found the way Seastar does it: the process's
/// cgroup path from /proc/self/cgroup, the hierarchy's mount from /proc/self/mountinfo, then
/// the cpuset files read from the process's own cgroup directory upwards until one names CPUs.
/// Every path is read below a prefix (`SystemRoot`), so fixture trees can stand in for a container.
public struct CgroupCpuset: Sendable, Equatable {
    /// 1 or 2.
    public let version: Int
    /// The CPUs the cgroup allows.
    public let cpus: CPUSet
    /// The file the set was read from (under the system root prefix).
    public let file: String

    /// Words for a detail: "cgroup v2 cpuset 0-3 (/sys/fs/cgroup/app/cpuset.cpus.effective)".
    public var summary: String { "cgroup v\(version) cpuset \(cpus.cpulist) (\(file))" }

    /// Finds the cpuset bounding this process, or nil when no cpuset controller is visible
    /// (no cgroup fs, controller not enabled): then only the affinity mask bounds it.
    public static func find(prefix: String) -> CgroupCpuset? {
        guard let cgroupText = try? SysFile.read(prefix + "/proc/self/cgroup"),
              let mountText = try? SysFile.read(prefix + "/proc/self/mountinfo") else { return nil }
        let mounts = parseMountinfo(mountText)
        var v1Path: String?
        var v2Path: String?
        for line in SysfsValue.lines(cgroupText) {
            // hierarchy-id:controllers:path (the path may itself contain ':').
            let parts = line.split(separator: 0x3A, maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[0].elementsEqual("0".utf8) && parts[1].isEmpty {
                v2Path = SysfsValue.string(parts[2])
            } else if parts[1].split(separator: 0x2C).contains(where: { $0.elementsEqual("cpuset".utf8) }) {
                v1Path = SysfsValue.string(parts[2])
            }
        }
        // The cpuset controller is bound to one hierarchy: v1 if a v1 line names it.
        if let path = v1Path,
           let mount = mounts.first(where: { $0.fstype == "cgroup" && $0.superOptions.split(separator: ",").contains("cpuset") }),
           let found = walk(prefix: prefix, mount: mount, path: path, version: 1, files: ["cpuset.effective_cpus", "cpuset.cpus"]) {
            return found
        }
        if let path = v2Path, let mount = mounts.first(where: { $0.fstype == "cgroup2" }),
           let found = walk(prefix: prefix, mount: mount, path: path, version: 2, files: ["cpuset.cpus.effective", "cpuset.cpus"]) {
            return found
        }
        return nil
    }

    struct Mount {
        let root: String
        let mountPoint: String
        let fstype: String
        let superOptions: String
    }

    /// mountinfo: "id parent maj:min root mountpoint opts [optional...] - fstype source superopts".
    static func parseMountinfo(_ text: String) -> [Mount] {
        var mounts: [Mount] = []
        for line in SysfsValue.lines(text) {
            let fields = line.split(separator: 0x20)
            guard fields.count >= 10, let dash = fields.firstIndex(where: { $0.elementsEqual("-".utf8) }),
                  dash >= 6, dash + 3 < fields.count else { continue }
            // Only cgroup mounts matter here: skip the rest without building strings.
            guard fields[dash + 1].starts(with: "cgroup".utf8) else { continue }
            mounts.append(Mount(root: unescape(Substring(fields[3])), mountPoint: unescape(Substring(fields[4])),
                                fstype: SysfsValue.string(fields[dash + 1]),
                                superOptions: SysfsValue.string(fields[dash + 3])))
        }
        return mounts
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    static func unescape(_ s: Substring) -> String {
        guard s.containsText("\\") else { return String(s) }
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == 0x5C, i + 3 < b.count, b[(i + 1)..<(i + 4)].allSatisfy({ $0 >= 0x30 && $0 <= 0x37 }) {
                out.append(UInt8(truncatingIfNeeded: (Int(b[i + 1]) - 0x30) * 64 + (Int(b[i + 2]) - 0x30) * 8 + Int(b[i + 3]) - 0x30))
                i += 4
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The directory of cgroup `path` (as /proc/self/cgroup names it) under a mount of its
    /// hierarchy, without the system root prefix.
    static func directory(mount: Mount, path: String) -> String {
        let components = relativeComponents(mount: mount, path: path)
        return components.isEmpty ? mount.mountPoint : mount.mountPoint + "/" + components.joined(separator: "/")
    }

    /// The path relative to what the mount shows (`mount.root` of the hierarchy: a container
    /// sees its own cgroup as the mount's root), split into components.
    static func relativeComponents(mount: Mount, path: String) -> [String] {
        var relative = path
        if mount.root != "/" {
            if relative == mount.root {
                relative = "/"
            } else if relative.hasPrefix(mount.root + "/") {
                relative = String(relative.dropFirst(mount.root.count))
            }
        }
        return relative.split(separator: "/").map(String.init)
    }

    /// From the process's cgroup directory up to the mount point: the first file of `files`
    /// that holds a non-empty cpulist. (In v2 `cpuset.cpus` is empty when a group inherits; a
    /// container may show its own cgroup's files only.)
    static func walk(prefix: String, mount: Mount, path: String, version: Int, files: [String]) -> CgroupCpuset? {
        var components = relativeComponents(mount: mount, path: path)
        let base = prefix + mount.mountPoint
        while true {
            let dir = components.isEmpty ? base : base + "/" + components.joined(separator: "/")
            for name in files {
                let file = dir + "/" + name
                if let text = SysfsValue.text(file), !text.isEmpty,
                   let cpus = try? CPUSet.parse(text, what: file) {
                    return CgroupCpuset(version: version, cpus: cpus, file: file)
                }
            }
            if components.isEmpty { return nil }
            components.removeLast()
        }
    }
}
