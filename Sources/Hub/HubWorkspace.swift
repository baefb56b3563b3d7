import Foundation
import Support

/// The workspace's files as Hub uploads see them: which local files go to which repo paths.
public enum HubWorkspace {
    /// Local data that an upload needs and that is not there.
    public enum MissingData: Error, CustomStringConvertible, Equatable {
        case directory(String)
        /// Required training files, relative to `root`.
        case trainingFiles(root: String, paths: [String])

        public var description: String {
            switch self {
            case .directory(let path):
                "local directory \(path) does not exist"
            case .trainingFiles(let root, let paths):
                "missing training data under \(root): \(paths.joined(separator: ", ")); run the feature "
                    + "preparation first"
            }
        }
    }

    /// Returns every file under `directory` with repo paths under `repoFolder`; a missing directory is an error.
    public static func directoryFiles(_ directory: String, repoFolder: String) throws -> [HubLocalFile] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MissingData.directory(directory)
        }
        return try HubSync.localFiles(in: directory, repoPrefix: repoFolder)
    }

    /// Returns the training files under `root`: the three CSVs (all required), the excluded-features list when it
    /// exists, and the scalers and cache when asked. Repo paths keep their `workspace/...` names.
    public static func trainingFiles(root: String, scalers: Bool, cache: Bool) throws -> [HubLocalFile] {
        let missing = WorkspaceLayout.trainingCSVs.filter { !FileManager.default.fileExists(atPath: root + "/" + $0) }
        guard missing.isEmpty else {
            throw MissingData.trainingFiles(root: root, paths: missing)
        }
        var files = WorkspaceLayout.trainingCSVs.map { HubLocalFile(localPath: root + "/" + $0, repoPath: $0) }
        if FileManager.default.fileExists(atPath: root + "/" + WorkspaceLayout.excludedFeaturesFile) {
            files.append(
                HubLocalFile(
                    localPath: root + "/" + WorkspaceLayout.excludedFeaturesFile,
                    repoPath: WorkspaceLayout.excludedFeaturesFile
                )
            )
        }
        var folders: [String] = []
        if scalers { folders.append(WorkspaceLayout.scalersDirectory) }
        if cache { folders.append(WorkspaceLayout.cacheDirectory) }
        for folder in folders where FileManager.default.fileExists(atPath: root + "/" + folder) {
            files += try HubSync.localFiles(in: root + "/" + folder, repoPrefix: folder)
        }
        return files
    }

    /// Returns the feature-analysis files under `directory`: the CSVs and HTML report at its top level and
    /// everything under `plots/`, with repo paths under `analysis-of-features/`.
    public static func analysisFiles(_ directory: String) throws -> [HubLocalFile] {
        try self.directoryFiles(directory, repoFolder: WorkspaceLayout.analysisRepoFolder).filter { file in
            let name = String(file.repoPath.dropFirst(WorkspaceLayout.analysisRepoFolder.count + 1))
            let isReport = !name.contains("/") && (name.hasSuffix(".csv") || name.hasSuffix(".html"))
            return isReport || name.hasPrefix("plots/")
        }
    }
}
