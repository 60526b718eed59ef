import Foundation

/// The datasets directory (`jobs.data_dir`, default `<data_dir>/datasets`): the only place a
/// job's `dataset` file may come from. A dataset is named by its plain file name; anything that
/// could reach outside the directory (`/`, `\`, `..`, a leading `.`, control characters, an
/// absolute path) is refused before the file system is touched.
struct DatasetDirectory {
    /// The directory.
    let path: String

    /// True for a plain file name that stays inside the directory.
    static func isSafeName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255, !name.hasPrefix(".") else { return false }
        return !name.contains("..")
            && !name.unicodeScalars.contains { $0 == "/" || $0 == "\\" || $0.value < 32 || $0.value == 127 }
    }

    /// The regular files in the directory, sorted (for error messages).
    func names() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return entries.filter { name in
            var isDir: ObjCBool = false
            return DatasetDirectory.isSafeName(name)
                && FileManager.default.fileExists(atPath: path + "/" + name, isDirectory: &isDir) && !isDir.boolValue
        }.sorted()
    }

    /// The full path of dataset `name`, or `BAD_REQUEST` naming the valid files.
    func resolve(_ name: String) throws -> String {
        guard DatasetDirectory.isSafeName(name) else {
            throw APIError(
                .badRequest,
                "dataset must be a file name inside the datasets directory (no '/', '..' or leading '.'), got \"\(name)\"")
        }
        let full = path + "/" + name
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue else {
            let available = names()
            let list = available.isEmpty ? "none" : available.prefix(50).joined(separator: ", ")
            throw APIError(.badRequest, "dataset \"\(name)\" does not exist; valid: \(list)")
        }
        return full
    }
}
