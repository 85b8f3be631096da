// tuned's profiles as data: every setting a profile would apply, read from its tuned.conf (with
// `include=` inheritance) when tuned is installed below the root, else from the built-in copy of
// tuned 2.20's four latency profiles (the same text, parsed the same way).
import Glibc

/// One setting a tuned profile applies.
public struct TunedSetting: Sendable, Equatable {
    /// The tuned plugin: sysctl, sysfs, bootloader, cpu, vm, systemd, irqbalance, net, scheduler.
    public var section: String
    /// The sysctl name, sysfs path (may hold `*`), boot parameter or plugin option.
    public var key: String
    /// The value as the profile writes it, variables expanded where the doctor can ("" for a
    /// bare boot parameter such as nosoftlockup).
    public var value: String
    /// The profile whose tuned.conf sets it.
    public var profile: String

    /// "section:key", the name docs/doctor.md uses.
    public var name: String { "\(section):\(key)" }
}

enum TunedProfiles {
    /// The profiles the doctor knows without tuned installed.
    static let builtIn = ["latency-performance", "network-latency", "cpu-partitioning", "realtime"]
    /// Where tuned keeps profiles (user profiles first, as tuned looks them up).
    static let dirs = ["/etc/tuned", "/usr/lib/tuned", "/usr/lib/tuned/profiles"]
    /// Options every tuned plugin takes that are not settings of the host.
    static let pluginOptions: Set<String> = ["priority", "type", "devices", "enabled", "replace", "drop", "devices_udev_regex",
                                             "uname_regex", "cpuinfo_regex", "initrd_remove_dir", "initrd_dst_img", "initrd_add_dir",
                                             "initrd_add_img", "boot_dir", "skip_grub_config"]
    /// Sections that are not settings: the profile's own metadata, variables and scripts.
    static let notSettings: Set<String> = ["main", "variables", "script", "rtentsk"]

    /// "[section]" and "key = value" lines in order ('#' comments; keys and values trimmed).
    static func parse(_ text: String) -> [(section: String, key: String, value: String)] {
        var out: [(String, String, String)] = []
        var section = ""
        for raw in text.split(separator: "\n") {
            let line = SysFile.trim(raw)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") { section = SysFile.trim(line.dropFirst().dropLast()); continue }
            guard let eq = line.firstIndex(of: "=") else { continue }
            out.append((section, SysFile.trim(line[..<eq]), SysFile.trim(line[line.index(after: eq)...])))
        }
        return out
    }

    /// The tuned.conf text of a profile: (text, path) from below the root, else the built-in copy.
    static func text(_ name: String, host: DoctorHost) -> (String, String)? {
        for d in dirs { if let t = host.read("\(d)/\(name)/tuned.conf").text { return (t, "\(d)/\(name)/tuned.conf") } }
        return builtInText[name].map { ($0, "built-in copy of tuned 2.20's \(name)/tuned.conf") }
    }

    /// The merged settings of a profile and the files read (parents first; a child's key
    /// replaces its parent's). nil: no such profile; a reason for an include loop.
    static func load(_ name: String, host: DoctorHost, depth: Int = 0) -> Result<([TunedSetting], [String]), DoctorProblem>? {
        if depth > 8 { return .failure(DoctorProblem("tuned profile includes nest deeper than 8 (a loop?)")) }
        guard let (text, path) = text(name, host: host) else { return nil }
        let lines = parse(text)
        var settings: [TunedSetting] = []
        var files: [String] = []
        for l in lines where l.section == "main" && l.key == "include" {
            for parent in l.value.split(separator: ",").map({ SysFile.trim($0) }) where !parent.isEmpty {
                switch load(parent, host: host, depth: depth + 1) {
                case .none: return .failure(DoctorProblem("\(path) includes '\(parent)', which is not installed"))
                case .some(.failure(let p)): return .failure(p)
                case .some(.success(let (s, f))): settings = merge(settings, s); files += f
                }
            }
        }
        let own = lines.filter { !notSettings.contains($0.section) && !pluginOptions.contains($0.key) }
            .map { TunedSetting(section: $0.section, key: $0.key, value: $0.value, profile: name) }
        return .success((merge(settings, own), files + [path]))
    }

    static func merge(_ base: [TunedSetting], _ over: [TunedSetting]) -> [TunedSetting] {
        let keys = Set(over.map(\.name))
        return base.filter { !keys.contains($0.name) } + over
    }

    /// Bootloader cmdline_* values split into one setting per boot parameter (after expansion).
    static func bootParameters(_ s: [TunedSetting]) -> [TunedSetting] {
        var out: [TunedSetting] = []
        for x in s {
            guard x.section == "bootloader" else { out.append(x); continue }
            guard x.key.hasPrefix("cmdline") else { continue }
            for word in x.value.split(whereSeparator: DoctorHost.isBlank) {
                var w = Substring(word)
                if w.hasPrefix("+") { w = w.dropFirst() }
                if w.isEmpty { continue }
                let eq = w.firstIndex(of: "=")
                out.append(TunedSetting(section: "bootloader", key: String(eq.map { w[..<$0] } ?? w),
                                        value: eq.map { String(w[w.index(after: $0)...]) } ?? "", profile: x.profile))
            }
        }
        return out
    }

    /// Replaces the variables the doctor can know from the hot CPUs: ${isolated_cores} are the
    /// hot CPUs; the not-isolated ones are the other online CPUs; optional parts tuned adds only
    /// when a variable is set (cmd_isolcpus, managed_irq) are empty.
    static func expand(_ v: String, hot: [Int], online: [Int]) -> String {
        let rest = DoctorCPUs.minus(online, hot)
        let vars: [(String, String)] = [
            ("isolated_cores_expanded", DoctorCPUs.format(hot)), ("isolated_cores_online_expanded", DoctorCPUs.format(hot)),
            ("isolated_cores", DoctorCPUs.format(hot)), ("isolated_cpumask", CPUMaskParsing.format(hot)),
            ("not_isolated_cores_expanded", DoctorCPUs.format(rest)), ("not_isolated_cores_online_expanded", DoctorCPUs.format(rest)),
            ("not_isolated_cpumask", CPUMaskParsing.format(rest)), ("cmd_isolcpus", ""), ("managed_irq", ""), ("no_balance_cores", ""),
        ]
        var s = v
        for (k, x) in vars { s = replacing("${\(k)}", with: x, in: s) }
        return s
    }

    static func replacing(_ needle: String, with x: String, in s: String) -> String {
        var out = ""
        var rest = Substring(s)
        while let r = rest.rangeOfText(needle) {
            out += rest[..<r.lowerBound] + x
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
