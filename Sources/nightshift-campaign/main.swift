import Agent
import Foundation
import Support

/// Runs the randomized leak campaign: many runs against the stand-ins with faults at random points, then prints a
/// markdown table of what leaked and how fast teardown reacted.
let usage = """
    usage: nightshift-campaign [--runs N] [--seed N] [--workers N]
    Runs N runs (default 1000) with faults drawn from the seed (default: random, printed) on N workers (default 4),
    each with its own stand-ins on 127.0.0.1. The same seed draws the same faults for each run; timings differ.
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

/// The parsed command line.
struct CampaignOptions {
    var runs = 1000
    var seed = UInt64.random(in: 1...999_999)
    var workers = 4

    init(arguments: [String]) {
        var rest = arguments[...]
        while let flag = rest.first {
            rest = rest.dropFirst()
            guard let value = rest.first, let number = UInt64(value) else { fail("\(flag) needs a number\n\(usage)") }
            rest = rest.dropFirst()
            switch flag {
            case "--runs": self.runs = Int(number)
            case "--seed": self.seed = number
            case "--workers": self.workers = Int(number)
            default: fail("unknown option \(flag)\n\(usage)")
            }
        }
        guard self.runs >= 1, self.workers >= 1 else { fail("--runs and --workers must be at least 1\n\(usage)") }
    }
}

/// Runs the campaign on one thread per worker and returns the report once every worker is done.
func runCampaign(_ options: CampaignOptions) -> CampaignReport {
    let root = NSTemporaryDirectory() + "nightshift-campaign-\(options.seed)-\(UUID().uuidString)"
    let measurements = Protected<[RunMeasurement]>([])
    let started = Date()
    let finishedWorkers = DispatchGroup()
    for worker in 0..<options.workers {
        finishedWorkers.enter()
        Thread {
            defer { finishedWorkers.leave() }
            let world: CampaignWorld
            do {
                world = try CampaignWorld(root: root + "/worker-\(worker)")
            } catch {
                fail("worker \(worker) could not start its stand-ins: \(error)")
            }
            let runner = CampaignRunner(world: world)
            for index in stride(from: worker, to: options.runs, by: options.workers) {
                let measurement = runner.run(CampaignPlan(index: index, seed: options.seed), seed: options.seed)
                measurements.withLock { $0.append(measurement) }
            }
            world.shutdown()
        }.start()
    }
    finishedWorkers.wait()
    let end = Date()
    try? FileManager.default.removeItem(atPath: root)
    return CampaignReport(measurements: measurements.current, end: end, seconds: end.timeIntervalSince(started))
}

let options = CampaignOptions(arguments: Array(CommandLine.arguments.dropFirst()))
print("seed \(options.seed), \(options.runs) runs, \(options.workers) workers")
print(runCampaign(options).markdown)
