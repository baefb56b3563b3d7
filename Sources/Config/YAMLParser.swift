import CYAML

/// A problem that stops YAML parsing, with libyaml's own wording where it has one.
struct YAMLSyntaxError: Error {
    var position: SourcePosition
    /// The problem, for example libyaml's "mapping values are not allowed in this context".
    var problem: String
    /// The construct libyaml was parsing, for example "while parsing a block mapping", and where it began.
    var context: String?
    var contextPosition: SourcePosition?
}

/// Builds a `YAMLNode` tree from libyaml's event stream, keeping the start mark of every node.
///
/// The event API is used instead of `yaml_parser_load` because events carry the marks directly and
/// let aliases point at the anchored node. Merge keys (`<<`) are left for the reader to expand.
enum YAMLParser {
    /// Parses `bytes` as one YAML document. Returns nil when the stream contains no document or only an empty one.
    static func parse(_ bytes: [UInt8]) throws(YAMLSyntaxError) -> YAMLNode? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) != 0 else {
            throw YAMLSyntaxError(position: .wholeFile, problem: "libyaml could not allocate a parser")
        }
        defer { yaml_parser_delete(&parser) }

        let result: Result<YAMLNode?, YAMLSyntaxError> = bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = TreeBuilder()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) != 0 else {
                    return .failure(YAMLParser.syntaxError(from: parser))
                }
                defer { yaml_event_delete(&event) }
                do throws(YAMLSyntaxError) {
                    if try builder.consume(event) {
                        return .success(builder.root)
                    }
                } catch {
                    return .failure(error)
                }
            }
        }
        return try result.get()
    }

    private static func syntaxError(from parser: yaml_parser_t) -> YAMLSyntaxError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown libyaml error"
        var error = YAMLSyntaxError(position: SourcePosition(parser.problem_mark), problem: problem)
        if let context = parser.context {
            error.context = String(cString: context)
            error.contextPosition = SourcePosition(parser.context_mark)
        }
        return error
    }
}

extension SourcePosition {
    /// Converts libyaml's 0-based mark to a 1-based position.
    init(_ mark: yaml_mark_t) {
        self.init(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }
}

/// The stack of open collections while events arrive.
private struct TreeBuilder {
    /// A mapping or sequence whose end event has not arrived yet. A class, so appending does not copy it.
    private final class OpenCollection {
        let isMapping: Bool
        let position: SourcePosition
        let anchor: String?
        var pairs: [(key: YAMLNode, value: YAMLNode)] = []
        var pendingKey: YAMLNode?
        var items: [YAMLNode] = []

        init(isMapping: Bool, position: SourcePosition, anchor: String?) {
            self.isMapping = isMapping
            self.position = position
            self.anchor = anchor
        }
    }

    /// The deepest nesting accepted; deeper input is rejected before it can exhaust the stack.
    static let maxDepth = 64
    private var stack: [OpenCollection] = []
    private var anchors: [String: YAMLNode] = [:]
    private var documentCount = 0
    private(set) var root: YAMLNode?

    /// Handles one event. Returns true at the end of the stream.
    mutating func consume(_ event: yaml_event_t) throws(YAMLSyntaxError) -> Bool {
        let position = SourcePosition(event.start_mark)
        switch event.type {
        case YAML_STREAM_END_EVENT:
            return true
        case YAML_DOCUMENT_START_EVENT:
            self.documentCount += 1
            if self.documentCount > 1 {
                throw YAMLSyntaxError(
                    position: position,
                    problem: "found a second YAML document, but a config file contains exactly one"
                )
            }
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let value = TreeBuilder.string(scalar.value, length: scalar.length)
            let isPlain = scalar.style == YAML_PLAIN_SCALAR_STYLE
            let tag = scalar.tag.map { String(cString: $0) }
            let node = YAMLNode(.scalar(value, isPlain: isPlain, tag: tag), position: position)
            self.add(node, anchor: scalar.anchor.map { String(cString: $0) })
        case YAML_ALIAS_EVENT:
            let name = event.data.alias.anchor.map { String(cString: $0) } ?? ""
            guard let node = self.anchors[name] else {
                throw YAMLSyntaxError(position: position, problem: "found undefined alias `*\(name)`")
            }
            self.add(node, anchor: nil)
        case YAML_MAPPING_START_EVENT where self.stack.count >= TreeBuilder.maxDepth,
            YAML_SEQUENCE_START_EVENT where self.stack.count >= TreeBuilder.maxDepth:
            throw YAMLSyntaxError(
                position: position,
                problem: "found collections nested more than \(TreeBuilder.maxDepth) levels deep, which no config needs"
            )
        case YAML_MAPPING_START_EVENT:
            let anchor = event.data.mapping_start.anchor.map { String(cString: $0) }
            self.stack.append(OpenCollection(isMapping: true, position: position, anchor: anchor))
        case YAML_SEQUENCE_START_EVENT:
            let anchor = event.data.sequence_start.anchor.map { String(cString: $0) }
            self.stack.append(OpenCollection(isMapping: false, position: position, anchor: anchor))
        case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
            guard let open = self.stack.popLast() else { break }
            let content: YAMLNode.Content = open.isMapping ? .mapping(open.pairs) : .sequence(open.items)
            self.add(YAMLNode(content, position: open.position), anchor: open.anchor)
        default:
            break
        }
        return false
    }

    private mutating func add(_ node: YAMLNode, anchor: String?) {
        if let anchor {
            self.anchors[anchor] = node
        }
        guard let parent = self.stack.last else {
            self.root = node.isNull ? nil : node
            return
        }
        if !parent.isMapping {
            parent.items.append(node)
        } else if let key = parent.pendingKey {
            parent.pairs.append((key: key, value: node))
            parent.pendingKey = nil
        } else {
            parent.pendingKey = node
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int) -> String {
        guard let pointer else { return "" }
        let buffer = UnsafeBufferPointer(start: pointer, count: length)
        return String(decoding: buffer, as: UTF8.self)
    }
}
