import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The datasets directory (`jobs.data_dir`, default `<data_dir>/datasets`): the only place a
/// job's `dataset` file may come from. A dataset is named by its plain file name; anything that
/// could reach outside the directory (`/`, `\`, `..`, a leading `.`, control characters, an
/// absolute path) is refused before the file system is touched. A name that is a symbolic link
/// is resolved (`realpath`) and accepted only when the file it leads to is a regular file inside
/// the directory. Errors name the dataset as the client gave it, never a server path.
struct DatasetDirectory {
    /// The directory.
    let path: String

    /// True for a plain file name that stays inside the directory.
    static func isSafeName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255, !name.hasPrefix(".") else { return false }
        return !name.contains("..")
            && !name.unicodeScalars.contains { $0 == "/" || $0 == "\\" || $0.value < 32 || $0.value == 127 }
    }

    /// Where a name leads.
    enum Entry: Equatable {
        /// A regular file inside the directory, at this resolved (link-free) path.
        case file(String)
        /// Nothing by that name (or not a regular file).
        case missing
        /// A link (or chain of links) whose target is outside the directory.
        case outside
    }

    /// Resolves `name` (already `isSafeName`) and checks that it stays inside the directory.
    func entry(_ name: String) -> Entry {
        guard let root = Self.realPath(path), let target = Self.realPath(path + "/" + name) else { return .missing }
        guard target.hasPrefix(root.hasSuffix("/") ? root : root + "/") else { return .outside }
        var info = stat()
        guard stat(target, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return .missing }
        return .file(target)
    }

    /// The regular files in the directory that stay inside it, sorted (for error messages).
    func names() -> [String] { files().map(\.name) }

    /// The names a job may give (`isSafeName`, resolving inside the directory) with their resolved
    /// paths, sorted by name: what `resolve` accepts, listed.
    func files() -> [(name: String, path: String)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return entries.compactMap { name in
            guard DatasetDirectory.isSafeName(name), case .file(let target) = entry(name) else { return nil }
            return (name, target)
        }.sorted { $0.name < $1.name }
    }

    /// The resolved path of dataset `name`, or `BAD_REQUEST` naming the valid files.
    func resolve(_ name: String) throws -> String {
        guard DatasetDirectory.isSafeName(name) else {
            throw APIError(
                .badRequest,
                "dataset must be a file name inside the datasets directory (no '/', '..' or leading '.'), got \"\(name)\"")
        }
        switch entry(name) {
        case .file(let target): return target
        case .outside:
            throw APIError(.badRequest, "dataset \"\(name)\" is a link that leads outside the datasets directory")
        case .missing:
            let available = names()
            let list = available.isEmpty ? "none" : available.prefix(50).joined(separator: ", ")
            throw APIError(.badRequest, "dataset \"\(name)\" does not exist; valid: \(list)")
        }
    }

    /// `realpath(3)`: the absolute path with every link, `.` and `..` resolved; nil when it does
    /// not exist.
    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
