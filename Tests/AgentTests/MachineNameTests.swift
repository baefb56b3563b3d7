import Testing

@testable import Agent

@Suite struct MachineNameTests {
    @Test func parsesPrefixJobAndRunId() throws {
        let name = try #require(MachineName.parse("ns-gold-demo-20271204-030000-3fa2", prefix: "ns"))
        #expect(name.prefix == "ns")
        #expect(name.job == "gold-demo")
        #expect(name.runId == "20271204-030000-3fa2")
        #expect(name.text == "ns-gold-demo-20271204-030000-3fa2")
    }

    @Test func prefixNeverMatchesLongerPrefix() {
        #expect(MachineName.parse("ns2-gold-20271204-030000-3fa2", prefix: "ns") == nil)
        #expect(MachineName.parse("ns-gold-20271204-030000-3fa2", prefix: "ns2") == nil)
        #expect(MachineName.parse("nsx-gold-20271204-030000-3fa2", prefix: "ns") == nil)
    }

    @Test func rejectsOtherNameForms() {
        for name in [
            "ns-20271204-030000-3fa2",  // no job
            "ns--20271204-030000-3fa2",  // empty job
            "ns-gold-20271204-030000-3FA2",  // upper-case hex
            "ns-gold-20271204-030000-3fa",  // short run id
            "ns-gold-2027120403000003fa2",  // no dashes in the run id
            "ns-gold20271204-030000-3fa2",  // no dash before the run id
            "ns-Gold-20271204-030000-3fa2",  // job not lowercase
            "ns-gold-20271204-030000-3fa2-copy",  // text after the run id
            "my-own-box",
        ] {
            #expect(MachineName.parse(name, prefix: "ns") == nil, "\(name)")
        }
    }

    @Test func defaultRunIdIsParsed() throws {
        let runId = Daemon.defaultRunId(.now)
        #expect(MachineName.isRunId(runId))
        #expect(MachineName.parse("nightshift-a-\(runId)", prefix: "nightshift")?.runId == runId)
    }
}
