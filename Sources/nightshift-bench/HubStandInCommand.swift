import Foundation
import StandIns
import Support

/// `nightshift-bench hub-standin`: runs `HubStandIn` on 127.0.0.1 behind a `CountingRelay` and reads commands
/// on stdin, one per line, so a shell script can drive clients at it and read what they sent.
///
/// It prints `endpoint=URL` (the relay, for `HF_ENDPOINT`) and `storage=URL` first. Commands:
/// `create REPO` makes a dataset repo, `stats [REPO]` prints one line of `key=value` counters, `requests` prints
/// one line per request received and then `end`, and `quit` (or the end of stdin) stops the servers and removes
/// their files.
enum HubStandInCommand {
    static func run(_ arguments: [String]) throws {
        var token = "hf_bench_token"
        var rest = arguments[...]
        while let flag = rest.first {
            rest = rest.dropFirst()
            guard flag == "--token", let value = rest.first else {
                fail("hub-standin: unknown option \(flag); the only option is --token TOKEN")
            }
            token = value
            rest = rest.dropFirst()
        }
        let standIn = HubStandIn(tokens: [token], user: "bench")
        try standIn.start()
        defer { standIn.stop() }
        guard let hubPort = UInt16(standIn.baseURL.split(separator: ":").last ?? "") else {
            fail("hub-standin: cannot read the port of \(standIn.baseURL)")
        }
        let relay = try CountingRelay(targetPort: hubPort)
        relay.start()
        self.reply("endpoint=\(relay.baseURL)\nstorage=\(standIn.storageBaseURL)")

        while let line = readLine() {
            let words = line.split(separator: " ").map(String.init)
            switch words.first {
            case "create" where words.count == 2:
                standIn.createRepo(repo: words[1], type: .dataset)
                self.reply("created \(words[1])")
            case "stats":
                self.reply(self.stats(standIn, relay: relay, repo: words.count > 1 ? words[1] : nil))
            case "requests":
                let lines = standIn.requests.map { record in
                    "\(record.isStorage ? "storage" : "hub") \(record.method) \(record.path) \(record.status)"
                }
                self.reply((lines + ["end"]).joined(separator: "\n"))
            case "quit":
                return
            default:
                self.reply("error: unknown command \(line); use create REPO, stats [REPO], requests or quit")
            }
        }
    }

    /// Returns the counters since the start: requests per server, LFS bytes stored by PUTs (the `size` that
    /// each upload URL carries), bytes through the relay each way, and the commits of `repo` when one is named.
    static func stats(_ standIn: HubStandIn, relay: CountingRelay, repo: String?) -> String {
        let requests = standIn.requests
        let hub = requests.filter { !$0.isStorage }
        let puts = requests.filter { $0.isStorage && $0.method == "PUT" }
        let gets = requests.filter { $0.isStorage && $0.method == "GET" }
        let putBytes = puts.reduce(Int64(0)) { sum, record in
            let size = decodeFormEncoded(record.query).first { $0.name == "size" }.flatMap { Int64($0.value) }
            return sum + (size ?? 0)
        }
        let counts = relay.counts.current
        var fields = [
            "hub_requests=\(hub.count)",
            "hub_posts=\(hub.filter { $0.method == "POST" }.count)",
            "hub_bytes_up=\(counts.up)",
            "hub_bytes_down=\(counts.down)",
            "storage_puts=\(puts.count)",
            "storage_put_bytes=\(putBytes)",
            "storage_gets=\(gets.count)",
        ]
        if let repo {
            // The initial commit that creates `.gitattributes` is not counted.
            fields.append("commits=\(max(0, standIn.commits(repo: repo, type: .dataset).count - 1))")
        }
        return fields.joined(separator: " ")
    }

    private static func reply(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
