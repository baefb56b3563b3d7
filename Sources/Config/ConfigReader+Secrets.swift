import Foundation

extension ConfigReader {
    /// The maximum size of a secret file in bytes. API keys, tokens and webhook URLs are far shorter, and the
    /// limit keeps a wrong path from pulling a large file into memory.
    static let maxSecretFileSize = 64 * 1024

    /// Reads a secret from `name` (inline or `${NAME}`) or from `name_file`. The secret is nil when neither key is
    /// present or the value is unusable, and `present` distinguishes the two so cross-checks do not report twice.
    ///
    /// No message written here contains the secret value or its literal text in the file.
    func secret(_ view: MappingView, _ name: String) -> (secret: Secret?, present: Bool) {
        let fileName = "\(name)_file"
        let inlineEntry = view.entry(name)
        let fileEntry = view.entry(fileName)
        if inlineEntry != nil, let fileEntry {
            self.error(
                fileEntry.key.position,
                view.path(of: fileName),
                "both `\(name)` and `\(fileName)` are set: expected only one source for the secret",
                fix: "remove `\(name)` or `\(fileName)`"
            )
            return (nil, true)
        }
        if let inlineEntry {
            return (self.inlineSecret(inlineEntry.value, path: view.path(of: name)), true)
        }
        if let fileEntry {
            return (self.fileSecret(fileEntry.value, path: view.path(of: fileName)), true)
        }
        return (nil, false)
    }

    private func inlineSecret(_ node: YAMLNode, path: String) -> Secret? {
        guard let expanded = self.scalar(node, path: path, expected: "a string", isSecret: true) else { return nil }
        guard !expanded.value.isEmpty else {
            let origin =
                expanded.variables.first.map { "environment variable `\($0)` is empty" } ?? "the value is empty"
            self.error(
                node.position,
                path,
                "expected a non-empty secret, but \(origin)",
                fix: "set the secret to its real value"
            )
            return nil
        }
        if let variable = expanded.variables.first, !expanded.usedDefault {
            return Secret(value: expanded.value, source: .environment(variable))
        }
        // A literal value and the `:-` default of a reference are both written in the file.
        self.inlineSecrets.append((node.position, path))
        return Secret(value: expanded.value, source: .inline)
    }

    private func fileSecret(_ node: YAMLNode, path: String) -> Secret? {
        guard case .scalar(let raw, _, _) = node.content, !node.isNull else {
            self.error(
                node.position,
                path,
                "expected a file path, got \(node.kindDescription)",
                fix: "write the path of the file that contains the secret, such as `${CREDENTIALS_DIRECTORY}/name`"
            )
            return nil
        }
        let expanded: VariableExpansion.Expanded
        switch VariableExpansion.expandAll(raw, environment: self.environment) {
        case .success(let value):
            expanded = value
        case .failure(let failure):
            self.reportExpansionFailure(failure, position: node.position, path: path, isSecret: false)
            return nil
        }
        guard !expanded.value.isEmpty else {
            self.error(
                node.position,
                path,
                "expected a file path, got an empty string",
                fix: "write the path of the file"
            )
            return nil
        }
        let filePath =
            expanded.value.hasPrefix("/")
            ? expanded.value
            : URL(fileURLWithPath: self.baseDirectory).appendingPathComponent(expanded.value).path

        switch ConfigReader.readSecretFile(filePath) {
        case .success(let contents):
            var value = contents
            // `echo` and many editors end a file with one newline, so exactly one is dropped and any more stay.
            if value.last == "\n" || value.last == "\r\n" {
                value.removeLast()
            }
            guard !value.isEmpty else {
                self.error(
                    node.position,
                    path,
                    "secret file `\(filePath)` is empty: expected the secret in it",
                    fix: "write the secret into `\(filePath)`"
                )
                return nil
            }
            return Secret(value: value, source: .file(filePath))
        case .failure(let reason):
            self.error(
                node.position,
                path,
                "failed to read secret file `\(filePath)`: \(reason.message)",
                fix: reason.fix
            )
            return nil
        }
    }

    struct SecretFileProblem: Error {
        var message: String
        var fix: String
    }

    /// Reads a whole secret file as UTF-8 text. The failure message and fix never contain the file contents.
    static func readSecretFile(_ path: String) -> Result<String, SecretFileProblem> {
        switch RegularFile.read(path, maxSize: ConfigReader.maxSecretFileSize) {
        case .failure(let problem):
            let fix =
                switch problem.errorCode {
                case ENOENT: "create the file, or with systemd add `LoadCredential=` for it and check the path"
                case EACCES: "let the user nightshift runs as read the file, or pass it with systemd `LoadCredential=`"
                case nil: "check that the path names the file that contains the secret"
                default: "check the path and the file"
                }
            return .failure(SecretFileProblem(message: problem.message, fix: fix))
        case .success(let contents):
            guard let text = String(validating: contents.bytes, as: UTF8.self) else {
                return .failure(
                    SecretFileProblem(message: "it is not valid UTF-8 text", fix: "store the secret as plain text")
                )
            }
            return .success(text)
        }
    }

    /// Adds one warning per inline secret when the config file can be read by group or others.
    func warnAboutInlineSecrets(fileMode: mode_t?) {
        guard let fileMode, fileMode & 0o077 != 0 else { return }
        let mode = String(fileMode & 0o777, radix: 8)
        for (position, path) in self.inlineSecrets {
            let components = path.split(separator: ".").map(String.init)
            let name = components.last ?? path
            let credential = components.suffix(2).joined(separator: "-").replacingOccurrences(of: "_", with: "-")
            self.warning(
                position,
                path,
                "secret written inline in a config file that group or others can read (mode 0\(mode))",
                fix: "run `chmod 600 \(self.file)`, or move the secret out of the file: "
                    + "`\(name): ${ENV_VAR}` or `\(name)_file: ${CREDENTIALS_DIRECTORY}/\(credential)`"
            )
        }
    }
}
