import Glibc
import Testing
@testable import AlphaCore

private func netFixture(_ name: String) -> String {
    var path = #filePath
    for _ in 0..<3 { while let last = path.last, last != "/" { path.removeLast() }; path.removeLast() }
    return path + "/Tests/fixtures/doctor/" + name
}

/// A driver that answers what the test says, and counts the questions.
private final class FakeEthtool: DoctorEthtool {
    var asked: [String] = []
    let coalesceAnswer: Result<EthtoolCoalesce, DoctorProblem>
    init(_ c: Result<EthtoolCoalesce, DoctorProblem>) { coalesceAnswer = c }
    func coalesce(_ nic: String) -> Result<EthtoolCoalesce, DoctorProblem> { asked.append("coalesce \(nic)"); return coalesceAnswer }
    func ring(_ nic: String) -> Result<EthtoolRing, DoctorProblem> { asked.append("ring \(nic)"); return .success(EthtoolRing(rx: 100, rxMax: 200)) }
    func offload(_ nic: String, _ name: String) -> Result<Bool, DoctorProblem> {
        asked.append("\(name) \(nic)")
        return .failure(DoctorProblem("SIOCETHTOOL 0x2b on \(nic): the driver does not report it (EOPNOTSUPP)"))
    }
}

@Suite struct DoctorNetTests {
    @Test func driverAnswersComeOnlyFromTheProvider() throws {
        let fake = FakeEthtool(.success(EthtoolCoalesce(rxUsecs: 3, adaptiveRx: true)))
        let r = try Doctor.run(DoctorOptions(cpus: "2-5", nics: ["eth0"]), root: netFixture("feed-untuned"), ethtool: fake)
        #expect(fake.asked == ["coalesce eth0", "ring eth0", "gro eth0", "lro eth0"])
        #expect(r.check("net.coalesce.eth0")?.severity == .warn)   // adaptive, though the fixture's file says otherwise
        #expect(r.check("net.ring.eth0")?.saw == "rx ring 100 of 200: a burst of more than 100 packets between two softirq runs is dropped")
        #expect(r.check("net.gro.eth0")?.severity == .info)        // not supported is information
        let calm = FakeEthtool(.failure(DoctorProblem("SIOCETHTOOL 0xe on eth0: No such device")))
        let r2 = try Doctor.run(DoctorOptions(cpus: "2-5", nics: ["eth0"]), root: netFixture("feed-untuned"), ethtool: calm)
        #expect(r2.check("net.coalesce.eth0")?.severity == .unknown)
    }

    @Test func theIoctlPathAnswersOnThisMachinesInterfaces() throws {
        let io = EthtoolIoctl()
        for nic in SysFile.list("/sys/class/net") ?? [] {
            // Every answer is a value or a reason; nothing else (no crash, no hang, no root needed).
            switch io.ring(nic) {
            case .success(let r): #expect(r.rx >= 0 && r.rxMax >= 0, "\(nic)")
            case .failure(let p): #expect(p.reason.contains(nic), "\(p.reason)")
            }
            _ = io.coalesce(nic)
            _ = io.offload(nic, "gro")
            _ = io.offload(nic, "lro")
        }
        if case .failure(let p) = io.ring("lo") { #expect(p.reason.contains("EOPNOTSUPP")) }
        for bad in ["", "0123456789abcdef", "a/b", "x\u{0}y"] {
            guard case .failure(let p) = io.ring(bad) else { Issue.record("'\(bad)' answered"); continue }
            #expect(p.reason.contains("not an interface name"))
        }
        guard case .failure(let p) = io.ring("nosuchnic0") else { Issue.record("nosuchnic0 answered"); return }
        #expect(p.reason.contains("ENODEV") || p.reason.contains("No such device"), "\(p.reason)")
    }

    @Test func ethtoolOutputFilesParse() {
        let t = "Ring parameters for eth0:\nPre-set maximums:\nRX:\t\t4096\nTX:\t4096\nCurrent hardware settings:\nRX:\t\t512\n"
        #expect(EthtoolFiles.field(t, "RX", after: "Pre-set maximums") == "4096")
        #expect(EthtoolFiles.field(t, "RX", after: "Current hardware settings") == "512")
        #expect(EthtoolFiles.field("Adaptive RX: on  TX: off\nrx-usecs: 8\n", "Adaptive RX") == "on")
        #expect(EthtoolFiles.field("large-receive-offload: off [fixed]\n", "large-receive-offload") == "off")
    }

    @Test func nicsComeFromTheDefaultRouteAndThePidsSockets() throws {
        let r = try Doctor.run(DoctorOptions(cpus: "2-5", pid: 4242), root: netFixture("feed-untuned"))
        #expect(r.check("net.nics")?.saw == "eth0 (default route), eth1 (tcp socket of pid 4242)")
        let lo = try Doctor.run(DoctorOptions(cpus: "2-5", nics: ["lo", "br0"]), root: netFixture("feed-untuned"))
        #expect(lo.check("net.irq.lo")?.severity == .info && lo.check("net.ring.br0")?.saw.contains("eth1") == true)
    }

    @Test func badNetworkOptionsAreEINVAL() {
        for o in [DoctorOptions(nics: [""]), DoctorOptions(nics: ["a/b"]), DoctorOptions(nics: ["0123456789abcdef"]),
                  DoctorOptions(pid: 0), DoctorOptions(burstBytes: 0), DoctorOptions(nicCPUs: "x")] {
            #expect(throws: Errno(EINVAL)) { try Doctor.run(o, root: netFixture("tuned")) }
        }
    }

    @Test func masksFormatAsSysfsWritesThem() throws {
        #expect(CPUMaskParsing.format([0, 33]) == "2,00000001")
        #expect(CPUMaskParsing.format([]) == "0")
        #expect(CPUMaskParsing.format([2, 3]) == "c")
        #expect(try CPUMaskParsing.parse(CPUMaskParsing.format([1, 40, 70])) == [1, 40, 70])
    }

    @Test func tunedProfilesMergeIncludes() throws {
        let host = DoctorHost(root: netFixture("empty"))
        guard case .success(let (s, files))? = TunedProfiles.load("cpu-partitioning", host: host) else { Issue.record("no table"); return }
        #expect(files.count == 3 && files[0].contains("latency-performance"))
        #expect(s.contains { $0.name == "sysctl:vm.swappiness" && $0.value == "10" && $0.profile == "latency-performance" })
        #expect(s.contains { $0.name == "sysctl:kernel.numa_balancing" && $0.profile == "network-latency" })
        let boot = TunedProfiles.bootParameters(s.map { var x = $0; x.value = TunedProfiles.expand(x.value, hot: [2, 3], online: [0, 1, 2, 3]); return x })
        #expect(boot.contains { $0.name == "bootloader:nohz_full" && $0.value == "2-3" })
        #expect(boot.contains { $0.name == "bootloader:nosoftlockup" && $0.value == "" })
        #expect(boot.contains { $0.name == "bootloader:tuned.non_isolcpus" && $0.value == "3" })
        #expect(TunedProfiles.load("no-such-profile", host: host) == nil)
    }
}
