import Glibc
import Testing
@testable import AlphaCore

/// The fixture trees written by Tests/fixtures/doctor/make_fixtures.py.
private func doctorFixture(_ name: String) -> String {
    var path = #filePath
    for _ in 0..<3 { while let last = path.last, last != "/" { path.removeLast() }; path.removeLast() }
    return path + "/Tests/fixtures/doctor/" + name
}

@Suite struct HugePageNeedTests {
    @Test func parsesSizesCountsAndNodes() throws {
        let needs = try HugePageNeed.parseList("2M:512@0, 1G:4,64K:3")
        #expect(needs == [HugePageNeed(pageKiB: 2048, count: 512, node: 0), HugePageNeed(pageKiB: 1 << 20, count: 4),
                          HugePageNeed(pageKiB: 64, count: 3)])
        #expect(needs.map(\.description) == ["2M:512@0", "1G:4", "64K:3"])
    }

    @Test func rejectsMalformedNeeds() {
        for bad in ["", "2M", "2M:", ":4", "2:4", "2X:4", "2MiB:4", "2M:0", "2M:-1", "2M:4@", "2M:4@x", "2M:4@1@2",
                    "99999999999999G:1", "2M:1,", "0M:1"] {
            #expect(throws: Errno(EINVAL), "\(bad)") { try HugePageNeed.parseList(bad) }
        }
    }
}

@Suite struct DoctorTests {
    @Test func tunedFixtureIsClean() throws {
        let r = try Doctor.run(DoctorOptions(cpus: "2-5", hugepages: [HugePageNeed(pageKiB: 2048, count: 512, node: 0)]),
                               root: doctorFixture("tuned"))
        #expect(r.count(.fail) == 0 && r.count(.warn) == 0 && r.count(.unknown) == 0, "\(r.checks.filter { $0.severity > .info })")
        #expect(r.hotCPUs == "2-5")
        #expect(r.check("mem.hugepages.2M:512@0")?.severity == .ok)
    }

    @Test func laptopFixtureIsFlagged() throws {
        let r = try Doctor.run(DoctorOptions(cpus: "2-3"), root: doctorFixture("laptop"))
        for id in ["cpu.isolated", "cpu.nohz_full", "cpu.smt", "cpu.governor", "cpu.cstates", "irq.irqbalance", "mem.swap"] {
            #expect(r.check(id)?.severity == .warn, "\(id): \(String(describing: r.check(id)))")
        }
        #expect(r.check("cpu.smt")?.saw.contains("2 with 6") == true)
    }

    @Test func missingRootGivesUnknownNeverAThrow() throws {
        let r = try Doctor.run(DoctorOptions(cpus: "0"), root: "/nonexistent-alphacore-root")
        #expect(r.checks.count >= 30)
        #expect(r.count(.unknown) >= 20)
        #expect(r.worst == .fail || r.worst == .unknown)
    }

    @Test func badCPUListThrowsWithDetail() {
        #expect(throws: Errno(EINVAL)) { try Doctor.run(DoctorOptions(cpus: "4-2"), root: doctorFixture("tuned")) }
        #expect(Detail.current.contains("4-2"))
        #expect(throws: Errno(EINVAL)) { try Doctor.run(DoctorOptions(cpus: " "), root: doctorFixture("tuned")) }
    }

    @Test func isolcpusFlagsAndListsParse() throws {
        #expect(try DoctorCPUs.parseIsolcpus("managed_irq,domain,2-3,6").get() == [2, 3, 6])
        #expect(try DoctorCPUs.parseIsolcpus("4-5").get() == [4, 5])
        #expect(DoctorCPUs.isolcpusFlags("nohz,domain,1") == ["nohz", "domain"])
        #expect(try DoctorCPUs.parse("(null)") == [])
        #expect(try DoctorCPUs.parseMask("00000001,80000000") == [31, 32])
    }

    @Test func jsonEscapesControlAndQuoteCharacters() {
        #expect(JSON.string("a\"b\\c\n\u{1}é") == "\"a\\\"b\\\\c\\n\\u0001é\"")
    }

    @Test func reportJSONHasTheSchemaAndOneLinePerCheck() throws {
        let r = try Doctor.run(DoctorOptions(cpus: "2-5"), root: doctorFixture("container"))
        let json = r.json()
        #expect(json.contains("\"schema\": \"alphacore-doctor/1\""))
        #expect(json.split(separator: "\n").filter { $0.hasPrefix("    {\"id\": ") }.count == r.checks.count)
        #expect(r.table(colour: false).contains("FAIL    cgroup.cpu_quota"))
    }
}
