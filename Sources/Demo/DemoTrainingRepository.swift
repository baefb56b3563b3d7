import Foundation
import Support

/// The files of the example training repository that `nightshift demo` and the end-to-end tests clone on the
/// stand-in machine: a real least-squares model of the next tick price, in standard-library Python.
enum DemoTrainingRepository {
    static let requirements = """
        # The demo model needs only the Python standard library.

        """

    static let trainScript = #"""
        """Fit price[t+1] = a + b * price[t] on the tick CSVs in data/ and write model/ and metrics.json."""
        import csv
        import glob
        import json
        import math
        import os
        import sys

        rows = []
        for path in sorted(glob.glob(os.path.join("data", "ticks", "*.csv"))):
            with open(path, newline="") as handle:
                for row in csv.DictReader(handle):
                    rows.append(float(row["price"]))
        if len(rows) < 10:
            sys.exit("not enough ticks in data/ticks: found %d rows" % len(rows))

        pairs = list(zip(rows[:-1], rows[1:]))
        split = int(len(pairs) * 0.8)
        train, validation = pairs[:split], pairs[split:]
        mean_x = sum(x for x, _ in train) / len(train)
        mean_y = sum(y for _, y in train) / len(train)
        covariance = sum((x - mean_x) * (y - mean_y) for x, y in train)
        variance = sum((x - mean_x) ** 2 for x, _ in train)
        slope = covariance / variance
        intercept = mean_y - slope * mean_x
        rmse = math.sqrt(sum((intercept + slope * x - y) ** 2 for x, y in validation) / len(validation))

        os.makedirs("model", exist_ok=True)
        with open(os.path.join("model", "model.json"), "w") as handle:
            json.dump({"intercept": intercept, "slope": slope}, handle, indent=2)
        with open("metrics.json", "w") as handle:
            metrics = {"train_rows": len(train), "validation_rows": len(validation), "validation_rmse": rmse}
            json.dump(metrics, handle, indent=2)
        print("trained on %d pairs, validation RMSE %.5f" % (len(train), rmse))
        if os.environ.get("DEMO_TRAIN_EXIT"):
            sys.exit(int(os.environ["DEMO_TRAIN_EXIT"]))
        """#

    /// Creates the repository at `path` with one commit on `main`.
    static func create(at path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Self.requirements.write(toFile: path + "/requirements_linux.txt", atomically: true, encoding: .utf8)
        try Self.trainScript.write(toFile: path + "/train.py", atomically: true, encoding: .utf8)
        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": path,
            "GIT_AUTHOR_NAME": "nightshift demo", "GIT_AUTHOR_EMAIL": "demo@localhost",
            "GIT_COMMITTER_NAME": "nightshift demo", "GIT_COMMITTER_EMAIL": "demo@localhost",
        ]
        for arguments in [
            ["git", "init", "--quiet", "--initial-branch=main", path],
            ["git", "-C", path, "add", "--all"],
            ["git", "-C", path, "commit", "--quiet", "--message", "Add the demo training script"],
        ] {
            let (status, output) = try Subprocess.run(arguments, environment: environment)
            guard status == 0 else {
                throw DemoError.setup("\(arguments.prefix(3).joined(separator: " ")) failed: \(output)")
            }
        }
    }
}

/// Generates the sample tick data: a deterministic random walk of gold prices.
enum DemoTickData {
    /// Returns CSV files keyed by their path in the dataset repo.
    static func files(days: Int = 3, ticksPerDay: Int = 400) -> [String: Data] {
        var generator = SplitMix64(seed: 20_261_204)
        var price = 2650.0
        var result: [String: Data] = [:]
        for day in 1...days {
            var csv = "timestamp,price\n"
            for tick in 0..<ticksPerDay {
                let step = (Double(generator.next() % 2001) - 1000) / 1000 * 0.8
                price = max(1, price + step)
                let seconds = tick * 60
                csv += String(
                    format: "2026-12-%02dT%02d:%02d:00Z,%.2f\n",
                    day,
                    seconds / 3600,
                    (seconds / 60) % 60,
                    price
                )
            }
            result[String(format: "ticks/gold-2026-12-%02d.csv", day)] = Data(csv.utf8)
        }
        return result
    }
}

/// A small deterministic pseudo-random generator, so the sample data is the same on every machine.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var value = self.state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

public enum DemoError: Error, CustomStringConvertible {
    case setup(String)
    case toolMissing(String)

    public var description: String {
        switch self {
        case .setup(let message): "demo setup failed: \(message)"
        case .toolMissing(let message): message
        }
    }
}
