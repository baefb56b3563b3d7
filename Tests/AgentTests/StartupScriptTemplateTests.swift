import Config
import Foundation
import Support
import Testing

@testable import Agent

private func makeJob(
    name: String = "nightly",
    repository: String = "https://example.invalid/repo.git",
    ref: String = "main",
    setup: String = "true",
    train: String = "true",
    dataset: String = "me/data",
    model: String = "me/model",
    outputs: [String] = ["model.json"],
    environment: [(name: String, value: String)] = []
) -> TrainingJob {
    TrainingJob(
        name: name,
        schedule: "@daily",
        machine: MachineSpec(type: "C5", template: "t0nspur5", region: "ny2"),
        repositoryURL: repository,
        repositoryRef: ref,
        setupCommand: setup,
        datasetRepo: dataset,
        trainCommand: train,
        modelRepo: model,
        outputs: outputs,
        environment: environment,
        maxDuration: 3600
    )
}

private func runProcess(_ arguments: [String], environment: [String: String]? = nil, directory: String? = nil) throws
    -> (Int32, String)
{
    try Subprocess.run(arguments, environment: environment, directory: directory)
}

private let hostileValues = [
    "$(touch PWNED)",
    "`touch PWNED`",
    "'; touch PWNED; echo '",
    "\"; touch PWNED; \"",
    "a\nb; touch PWNED",
    "$HOME ${PATH} \\ * ? [x]",
]

@Test func scriptPassesBashSyntaxCheck() throws {
    let script = StartupScriptTemplate.render(
        job: makeJob(),
        runId: "r1",
        hubEndpoint: "https://huggingface.co",
        hubToken: "hf_x"
    )
    let path = NSTemporaryDirectory() + "nightshift-script-\(UUID().uuidString).sh"
    try script.write(toFile: path, atomically: true, encoding: .utf8)
    let (status, output) = try runProcess(["/bin/bash", "-n", path])
    #expect(status == 0, "bash -n: \(output)")
}

@Test(arguments: hostileValues)
func hostileValuesPassSyntaxCheck(value: String) throws {
    let job = makeJob(
        repository: value,
        ref: value,
        dataset: value,
        model: value,
        outputs: [value],
        environment: [("NS_VALUE", value)]
    )
    let script = StartupScriptTemplate.render(job: job, runId: "r1", hubEndpoint: value, hubToken: value)
    let path = NSTemporaryDirectory() + "nightshift-script-\(UUID().uuidString).sh"
    try script.write(toFile: path, atomically: true, encoding: .utf8)
    let (status, output) = try runProcess(["/bin/bash", "-n", path])
    #expect(status == 0, "bash -n: \(output)")
}

/// Runs the script with recording stand-ins for git, hf, python3 and poweroff first on PATH, and returns the
/// scratch directory.
private func executeScript(_ script: String) throws -> String {
    let root = NSTemporaryDirectory() + "nightshift-exec-\(UUID().uuidString)"
    let bin = root + "/bin"
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    // Each stand-in appends its arguments, one per line, to calls.log, then does the least work the script needs.
    let recorder = """
        #!/bin/bash
        { echo "CALL $(basename "$0")"; for a in "$@"; do printf 'ARG %s\\n' "$a"; done; } >> "\(root)/calls.log"
        """
    let tools: [String: String] = [
        "git": recorder + "\nif [ \"$1\" = clone ]; then mkdir -p \"${@: -1}\"; fi\nexit 0\n",
        "hf": recorder + "\nexit 0\n",
        "poweroff": recorder + "\nexit 0\n",
    ]
    for (name, body) in tools {
        try body.write(toFile: "\(bin)/\(name)", atomically: true, encoding: .utf8)
        chmod("\(bin)/\(name)", 0o755)
    }
    try script.write(toFile: root + "/script.sh", atomically: true, encoding: .utf8)
    let environment = ["PATH": "\(bin):/usr/bin:/bin", "HOME": root, "NIGHTSHIFT_POWEROFF": "\(bin)/poweroff"]
    let (status, output) = try runProcess(
        ["/bin/bash", root + "/script.sh"],
        environment: environment,
        directory: root
    )
    #expect(status == 0, "script output: \(output)")
    return root
}

@Test func hostileValuesStayLiteralWhenRun() throws {
    let value = "x$(touch PWNED)`touch PWNED`'\"; touch PWNED"
    let job = makeJob(repository: value, ref: value, dataset: value, model: value, outputs: ["out.txt"])
    let script = StartupScriptTemplate.render(job: job, runId: "r1", hubEndpoint: "http://127.0.0.1:9", hubToken: "t")
    let root = try executeScript(script)
    let log = try String(contentsOfFile: root + "/calls.log", encoding: .utf8)
    #expect(log.contains("ARG \(value)"))
    #expect(!FileManager.default.fileExists(atPath: root + "/PWNED"))
    #expect(!FileManager.default.fileExists(atPath: root + "/nightshift-run/repo/PWNED"))
}

@Test func scriptRecordsFailedStepAndPowersOff() throws {
    let job = makeJob(train: "exit 7", outputs: ["out.txt"])
    let script = StartupScriptTemplate.render(job: job, runId: "r9", hubEndpoint: "http://127.0.0.1:9", hubToken: "t")
    let root = try executeScript(script)
    let status = try String(contentsOfFile: root + "/nightshift-run/status.json", encoding: .utf8)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any])
    #expect(json["exit_code"] as? Int == 7)
    #expect(json["failed_step"] as? String == "train")
    #expect(json["run_id"] as? String == "r9")
    let log = try String(contentsOfFile: root + "/calls.log", encoding: .utf8)
    #expect(log.contains("CALL poweroff"))
    // Outputs were not uploaded after the failure, but the status record was.
    #expect(log.contains("ARG .nightshift/runs/r9/status.json"))
    #expect(!log.contains("ARG nightshift: nightly run r9 outputs"))
}

@Test func scriptUploadsOutputsInOneCommit() throws {
    let job = makeJob(
        train: "mkdir -p ckpt && echo 1 > ckpt/a && echo 2 > metrics.json",
        outputs: ["ckpt", "metrics.json"]
    )
    let script = StartupScriptTemplate.render(job: job, runId: "r3", hubEndpoint: "http://127.0.0.1:9", hubToken: "t")
    let root = try executeScript(script)
    let status = try String(contentsOfFile: root + "/nightshift-run/status.json", encoding: .utf8)
    #expect(status.contains("\"exit_code\":0"))
    #expect(FileManager.default.fileExists(atPath: root + "/nightshift-run/stage/ckpt/a"))
    #expect(FileManager.default.fileExists(atPath: root + "/nightshift-run/stage/metrics.json"))
    let log = try String(contentsOfFile: root + "/calls.log", encoding: .utf8)
    #expect(log.components(separatedBy: "ARG nightshift: nightly run r3 outputs").count == 2)
}

@Test func tokenIsExportedNotPassedAsArgument() throws {
    let script = StartupScriptTemplate.render(
        job: makeJob(),
        runId: "r1",
        hubEndpoint: "https://huggingface.co",
        hubToken: "hf_secret_token_value"
    )
    #expect(script.contains("export HF_TOKEN=hf_secret_token_value"))
    #expect(script.components(separatedBy: "hf_secret_token_value").count == 2)
}
