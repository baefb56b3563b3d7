/// A 1-based line and column in the config file, taken from a libyaml mark.
struct SourcePosition: Equatable, Sendable {
    var line: Int
    var column: Int

    /// The position used for problems that concern the whole file.
    static let wholeFile = SourcePosition(line: 0, column: 0)
}

/// One node of a parsed YAML document, with the position where it starts.
///
/// A class, so that an alias can share the node its anchor names instead of copying it.
final class YAMLNode {
    enum Content {
        /// `isPlain` is false for quoted and block scalars, which are always strings.
        case scalar(String, isPlain: Bool, tag: String?)
        case mapping([(key: YAMLNode, value: YAMLNode)])
        case sequence([YAMLNode])
    }

    var content: Content
    let position: SourcePosition

    init(_ content: Content, position: SourcePosition) {
        self.content = content
        self.position = position
    }

    /// True for an empty plain scalar or one spelled `~` or `null`, unless a tag makes it a string.
    var isNull: Bool {
        guard case .scalar(let value, let isPlain, let tag) = self.content, isPlain else { return false }
        if let tag, tag != "tag:yaml.org,2002:null" {
            return false
        }
        return ["", "~", "null", "Null", "NULL"].contains(value)
    }

    /// The scalar text, or nil for a mapping or sequence.
    var scalarValue: String? {
        if case .scalar(let value, _, _) = self.content {
            return value
        }
        return nil
    }

    /// A short description of the node's kind for "expected ..., got ..." messages. It never shows the value.
    var kindDescription: String {
        switch self.content {
        case .mapping: "a map"
        case .sequence: "a list"
        case .scalar:
            self.isNull ? "an empty value" : "a single value"
        }
    }
}
