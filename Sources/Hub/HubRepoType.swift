/// The kind of a Hugging Face Hub repository, which decides its API and web URL paths.
public enum HubRepoType: String, Sendable, CaseIterable {
    case model
    case dataset
    case space

    /// The segment after `/api/`: `models`, `datasets` or `spaces`.
    public var apiSegment: String {
        self.rawValue + "s"
    }

    /// The prefix before the repo id in web URLs: empty for models, `datasets/` and `spaces/` otherwise.
    public var webPrefix: String {
        switch self {
        case .model: ""
        case .dataset: "datasets/"
        case .space: "spaces/"
        }
    }
}
