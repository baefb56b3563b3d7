import Foundation
import HTTP
import Hub
import StandIns
import Support
import Testing

/// Tests that move a 1 GiB file or start the official client; serialized so that they do not share the cores.
@Suite(.serialized) struct HubSyncLargeTests {
    @Test func gigabyteRoundTrip() throws {
        let harness = try SyncHarness()
        defer { harness.stop() }
        let size: Int64 = 1 << 30
        let source = harness.scratch + "/big"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        let path = source + "/ticks.bin"
        #expect(FileManager.default.createFile(atPath: path, contents: Data("header".utf8)))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
        let peak = Protected(residentKiB())
        let done = Signal()
        let sampler = Thread {
            while !done.wait(seconds: 0.05) {
                let now = residentKiB()
                peak.withLock { $0 = max($0, now) }
            }
        }
        sampler.start()
        defer { done.raise() }

        let started = Date()
        let upload = try harness.upload(source, repo: "alice/big")
        let uploaded = Date()
        let download = try harness.sync.download(
            HubDownloadRequest(repo: "alice/big", paths: ["ticks.bin"], destination: harness.scratch + "/copy")
        )
        let finished = Date()
        done.raise()

        #expect(upload.bytesSent == size)
        #expect(download.bytesReceived == size)
        #expect(download.downloaded == 1)
        let copy = harness.scratch + "/copy/ticks.bin"
        let attributes = try FileManager.default.attributesOfItem(atPath: copy)
        #expect((attributes[.size] as? Int64) == size)
        let stored = try #require(harness.hub.fileSummaries(repo: "alice/big", type: .dataset)?["ticks.bin"])
        #expect(stored.size == Int(size))
        // The download was verified against this SHA-256 before the rename, so equal names mean equal bytes.
        #expect(harness.hub.files(repo: "alice/big", type: .dataset) != nil)
        // This is the whole test process, where other suites run at the same time, so it only reports the peak;
        // HubCommandTests bounds the RSS of the nightshift process alone.
        let peakMiB = peak.current / 1024
        let up = Double(size) / 1_048_576 / uploaded.timeIntervalSince(started)
        let down = Double(size) / 1_048_576 / finished.timeIntervalSince(uploaded)
        print(
            String(format: "hub-sync 1 GiB: upload %.0f MiB/s, download %.0f MiB/s, peak RSS %d MiB", up, down, peakMiB)
        )
        guard ProcessInfo.processInfo.environment["NIGHTSHIFT_HUB_BENCH"] == "1" else { return }
        // The same PUT and GET with curl, for comparison; only on request, since it adds two 1 GiB transfers.
        let oid = stored.sha256
        let curl = try #require(findOnPath("curl"))
        let objectURL = "\(harness.hub.storageBaseURL)/objects/datasets/alice/big/\(oid)"
        let putURL = "\(harness.hub.storageBaseURL)/upload/datasets/alice/big/\(oid)?size=\(size)"
        let putStart = Date()
        let put = try Subprocess.run([curl, "-sS", "-f", "-T", path, "-H", "Expect:", putURL])
        let putEnd = Date()
        let get = try Subprocess.run([curl, "-sS", "-f", "-o", harness.scratch + "/curl.bin", objectURL])
        let getEnd = Date()
        #expect(put.status == 0, "curl PUT failed: \(put.output)")
        #expect(get.status == 0, "curl GET failed: \(get.output)")
        let curlUp = Double(size) / 1_048_576 / putEnd.timeIntervalSince(putStart)
        let curlDown = Double(size) / 1_048_576 / getEnd.timeIntervalSince(putEnd)
        print(String(format: "curl 1 GiB: PUT %.0f MiB/s, GET %.0f MiB/s", curlUp, curlDown))
    }

    @Test func officialClientReadsOurUpload() throws {
        let harness = try SyncHarness()
        defer { harness.stop() }
        harness.hub.lfsThreshold = 32 * 1024
        let files = ["train.csv": patterned(2000), "model/weights.safetensors": patterned(100_000, seed: 3)]
        let source = try harness.directory("source", files)
        _ = try harness.upload(source, repo: "alice/cross")
        let target = harness.scratch + "/python"
        let script = """
            import hashlib, json, os, sys
            from huggingface_hub import snapshot_download
            root = snapshot_download("alice/cross", repo_type="dataset", local_dir=sys.argv[1])
            out = {}
            for base, _, names in os.walk(root):
                if ".cache" in base: continue
                for name in names:
                    full = os.path.join(base, name)
                    out[os.path.relpath(full, root)] = hashlib.sha256(open(full, "rb").read()).hexdigest()
            print(json.dumps(out))
            """

        let result = try officialClient(harness, ["python3", "-c", script, target])

        #expect(result.status == 0, "snapshot_download failed: \(result.output)")
        let line = result.output.split(separator: "\n").last.map(String.init) ?? ""
        let hashes = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        for (path, data) in files {
            #expect(hashes[path] == Digest.sha256(data).hexString, "\(path) differs in huggingface_hub's copy")
        }
    }

    @Test func weReadOfficialUpload() throws {
        let harness = try SyncHarness()
        defer { harness.stop() }
        let files = ["daily/part-0.csv": patterned(3000), "daily/model.bin": patterned(40_000, seed: 5)]
        let source = try harness.directory("source", files)

        let result = try officialClient(
            harness,
            ["hf", "upload", "alice/from-hf", source, ".", "--repo-type", "dataset", "--commit-message", "hf"]
        )

        #expect(result.status == 0, "hf upload failed: \(result.output)")
        let report = try harness.download(repo: "alice/from-hf", to: "copy", folder: "daily")
        #expect(report.downloaded == 2)
        for (path, data) in files {
            #expect(harness.read("copy", path) == data, "\(path) differs after our download")
        }
    }
}

/// Runs the official client against the harness's stand-in with its own `HF_HOME` and Xet disabled.
private func officialClient(_ harness: SyncHarness, _ arguments: [String]) throws -> (status: Int32, output: String) {
    var environment = ProcessInfo.processInfo.environment.filter { name, _ in
        !name.hasPrefix("HF_") && !name.hasPrefix("HUGGING") && !name.lowercased().hasSuffix("_proxy")
    }
    environment["HF_ENDPOINT"] = harness.hub.baseURL
    environment["HF_HOME"] = harness.scratch + "/hf-home"
    environment["HF_TOKEN"] = testToken
    environment["HF_HUB_DISABLE_XET"] = "1"
    environment["HF_HUB_DISABLE_TELEMETRY"] = "1"
    environment["NO_COLOR"] = "1"
    let executable = arguments[0].hasPrefix("/") ? arguments[0] : try #require(findOnPath(arguments[0]))
    return try Subprocess.run([executable] + arguments.dropFirst(), environment: environment)
}

func findOnPath(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}
