import Foundation
import Support

/// The data commands: Hub sync, archives, SSH transfers, machines by hand and checksums.
extension CommandTable {
    static let hubOptions: [OptionSpec] = [
        .value("--repo-id", "ID", "The Hub repo, `namespace/name` (default: $NIGHTSHIFT_HUB_REPO)."),
        .value("--repo-type", "TYPE", "`dataset` (default) or `model`."),
        .value("--revision", "BRANCH", "The branch to read or commit to (default main)."),
        .secret("--token", "TOKEN", "The Hub token (default: $HF_TOKEN, then the hf CLI's token file)."),
    ]

    static func uploadOptions(localDir: String, message: String) -> [OptionSpec] {
        [
            .value("--local-dir", "DIR", "The local directory (default \(localDir))."),
            .value("--commit-message", "TEXT", "The commit message (default \"\(message)\")."),
        ] + Self.hubOptions
    }

    static let hub: [CommandSpec] = [
        CommandSpec(
            path: ["hub", "upload", "ticks"],
            summary: """
                Upload the new or changed tick files to `ticks/` in the repo.
                Files whose content the repo already has are not sent again, and an upload with nothing new makes
                no commit. Each commit is atomic, so a failure leaves the repo at its previous commit.
                """,
            options: Self.uploadOptions(localDir: WorkspaceLayout.ticksDirectory, message: "Upload tick data"),
            run: HubCommands.uploadTicks
        ),
        CommandSpec(
            path: ["hub", "upload", "training"],
            summary: """
                Upload the prepared training data: the three feature CSVs, the scalers and, if asked, the cache.
                Paths keep their `workspace/...` names in the repo. The three CSVs are required.
                """,
            options: [
                .value("--local-dir", "DIR", "The directory that contains `workspace/` (default .)."),
                .value("--commit-message", "TEXT", "The commit message (default \"Upload training data\")."),
                .flag("--no-scalers", "Leave out \(WorkspaceLayout.scalersDirectory)/."),
                .flag("--include-cache", "Include \(WorkspaceLayout.cacheDirectory)/."),
            ] + Self.hubOptions,
            run: HubCommands.uploadTraining
        ),
        CommandSpec(
            path: ["hub", "upload", "analysis"],
            summary: """
                Upload the feature-analysis results (CSVs, the HTML report and plots/) to `analysis-of-features/`.
                """,
            options: Self.uploadOptions(
                localDir: WorkspaceLayout.analysisDirectory,
                message: "Upload feature analysis results"
            ),
            run: HubCommands.uploadAnalysis
        ),
        CommandSpec(
            path: ["hub", "download", "ticks"],
            summary: """
                Download the tick files from `ticks/` in the repo.
                Files that already match are skipped; a broken download resumes where it stopped, and a file takes
                its final name only after its hash is verified.
                """,
            options: [.value("--local-dir", "DIR", "Where to put them (default \(WorkspaceLayout.ticksDirectory)).")]
                + Self.hubOptions,
            run: HubCommands.downloadTicks
        ),
        CommandSpec(
            path: ["hub", "download", "training"],
            summary: "Download the training data, restoring the `workspace/...` layout.",
            options: [.value("--local-dir", "DIR", "The directory to restore `workspace/` in (default .).")]
                + Self.hubOptions,
            run: HubCommands.downloadTraining
        ),
        CommandSpec(
            path: ["hub", "download", "analysis"],
            summary: "Download the feature-analysis results.",
            options: [
                .value("--local-dir", "DIR", "Where to put them (default \(WorkspaceLayout.analysisDirectory)).")
            ] + Self.hubOptions,
            run: HubCommands.downloadAnalysis
        ),
        CommandSpec(
            path: ["hub", "delete", "ticks"],
            summary: "Delete `ticks/` from the repo in one commit.",
            options: Self.hubOptions,
            run: HubCommands.deleteTicks
        ),
        CommandSpec(
            path: ["hub", "delete", "training"],
            summary: """
                Delete the training data from the repo in one commit.
                Removes the CSVs, the scalers, the cache and \(WorkspaceLayout.excludedFeaturesFile).
                """,
            options: [
                .flag("--no-scalers", "Keep the scalers."),
                .flag("--no-cache", "Keep the cache."),
            ] + Self.hubOptions,
            run: HubCommands.deleteTraining
        ),
        CommandSpec(
            path: ["hub", "delete", "analysis"],
            summary: "Delete `analysis-of-features/` from the repo in one commit.",
            options: Self.hubOptions,
            run: HubCommands.deleteAnalysis
        ),
        CommandSpec(
            path: ["hub", "delete", "all"],
            summary: """
                Delete every file in the repo except `.gitattributes`, in one commit.
                Lists what it will remove and asks for `yes` on a terminal; without a terminal it refuses unless
                --yes is given.
                """,
            options: [.flag("--yes", "Delete without asking.")] + Self.hubOptions,
            run: HubCommands.deleteAll
        ),
    ]
}
