/// Where the training workspace keeps each kind of data, on disk and in the Hub repository.
///
/// Local paths are relative to the directory the commands run in; repository paths are relative to the
/// repository root. Training data keeps its `workspace/...` paths in the repository, so a download restores the
/// same layout. Ticks go under `ticks/` and the feature analysis under `analysis-of-features/`.
public enum WorkspaceLayout {
    /// The local directory of raw tick files.
    public static let ticksDirectory = "workspace/raw_data/ticks"
    /// The repository folder of the tick files.
    public static let ticksRepoFolder = "ticks"

    /// The prepared feature CSVs a training run needs, in the order train, validation, test.
    public static let trainingCSVs = [
        "workspace/prepared/features/gold_train.csv",
        "workspace/prepared/features/gold_val.csv",
        "workspace/prepared/features/gold_test.csv",
    ]
    /// The fitted scalers that go with the CSVs.
    public static let scalersDirectory = "workspace/prepared/scalers"
    /// The feature cache that saves recomputing features.
    public static let cacheDirectory = "workspace/raw_data/cache"
    /// The list of features excluded from training.
    public static let excludedFeaturesFile = "workspace/excluded_features.txt"

    /// The local directory of the feature-analysis results: CSVs, the HTML report and `plots/`.
    public static let analysisDirectory = "workspace/analysis-of-features"
    /// The repository folder of the feature-analysis results.
    public static let analysisRepoFolder = "analysis-of-features"

    /// The directories of training results that the results archive collects.
    public static let resultDirectories = [
        "workspace/checkpoints",
        "workspace/metrics",
        "workspace/prepared/scalers",
        "workspace/logs",
    ]
}
