import Foundation
import Support

/// The remote command behind `RemoteTransfer.list` and the parser of its output.
///
/// The command is a POSIX `sh` script run as `sh -c SCRIPT sh PATH MODE`, so the path reaches the remote side
/// only as a quoted positional parameter and the script works under any login shell. It writes one record per
/// entry, `TYPE<tab>SIZE<tab>MTIME<tab>NAME<NUL>`, so names with tabs or line breaks stay intact. GNU find's
/// `-printf` produces the records where it exists. Elsewhere (BusyBox, macOS) a shell loop produces them with
/// `stat -c '%s %Y'` (GNU, BusyBox) or `stat -f '%z %m'` (BSD, macOS). A path that is not a directory lists as
/// itself. Exit status 3 means the path does not exist.
enum RemoteListing {
    /// The way the script produces records. `portable` forces the shell loop, to test it on a GNU host.
    enum Mode: String {
        case automatic = "auto"
        case portable
    }

    static let notFoundStatus: Int32 = 3

    // One line, no single quote and no `!`, so that csh and fish as login shells pass it to sh unchanged.
    static let script = [
        #"p=$1; mode=$2; case $p in -*) p=./$p;; esac;"#,
        #"if [ -e "$p" ] || [ -L "$p" ]; then :; else echo "nightshift-list: $p: No such file or directory" >&2;"#,
        #"exit 3; fi;"#,
        #"if [ -d "$p" ]; then depth=1; else depth=0; fi;"#,
        #"if [ "$mode" = auto ] && find "$p" -maxdepth 0 -printf "" >/dev/null 2>&1; then"#,
        #"exec find -H "$p" -mindepth $depth -maxdepth $depth -printf "%y\t%s\t%T@\t%f\0"; fi;"#,
        #"emit() { if [ -L "$1" ]; then t=l; elif [ -d "$1" ]; then t=d; elif [ -f "$1" ]; then t=f; else t=o; fi;"#,
        #"s=$(stat -c "%s %Y" -- "$1" 2>/dev/null || stat -f "%z %m" -- "$1") || return 1;"#,
        #"printf "%s\t%s\t%s\t%s\0" "$t" "${s% *}" "${s#* }" "$2"; };"#,
        #"if [ $depth = 0 ]; then emit "$p" "${p##*/}"; exit; fi;"#,
        #"cd -- "$p" || exit 4;"#,
        #"for f in .* *; do case $f in .|..) continue;; esac;"#,
        #"if [ -e "$f" ] || [ -L "$f" ]; then emit "./$f" "$f" || exit 5; fi; done"#,
    ].joined(separator: " ")

    /// Returns the command string for ssh. Only `path` comes from the caller, and it is quoted.
    static func command(path: String, mode: Mode) -> String {
        "sh -c \(shellQuote(RemoteListing.script)) sh \(shellQuote(path)) \(mode.rawValue)"
    }

    /// Parses the records, sorted by name.
    static func parse(_ output: Data, path: String) throws -> [RemoteEntry] {
        var entries: [RemoteEntry] = []
        for record in output.split(separator: 0, omittingEmptySubsequences: true) {
            let text = String(decoding: record, as: UTF8.self)
            let fields = text.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4, let size = Int64(fields[1]), let seconds = Double(fields[2]) else {
                throw RemoteTransferError.invalidListing(
                    path: path,
                    detail: "unexpected record \(String(reflecting: String(text.prefix(200))))"
                )
            }
            entries.append(
                RemoteEntry(
                    name: String(fields[3]),
                    size: size,
                    kind: RemoteListing.kind(fields[0]),
                    modified: Date(timeIntervalSince1970: seconds)
                )
            )
        }
        return entries.sorted { $0.name < $1.name }
    }

    private static func kind<S: StringProtocol>(_ letter: S) -> RemoteEntry.Kind {
        switch letter {
        case "f": .file
        case "d": .directory
        case "l": .symlink
        default: .other
        }
    }
}
