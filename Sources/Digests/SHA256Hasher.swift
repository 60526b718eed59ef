import CCrypto

extension SHA256 {
    /// An incremental SHA-256 (OpenSSL's EVP interface): feed bytes in pieces with `update`, then
    /// `finalize` once. For inputs too large to hold at once (a backup file).
    ///
    /// Owns its `EVP_MD_CTX` and frees it in `deinit` and nowhere else. Used by one thread at a
    /// time (not `Sendable`).
    public final class Hasher {
        private let context: OpaquePointer

        /// A fresh hasher.
        public init() {
            // EVP_MD_CTX_new and EVP_DigestInit_ex fail only when memory cannot be allocated.
            guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed") }
            precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "EVP_DigestInit_ex(SHA-256) failed")
            self.context = context
        }

        deinit { EVP_MD_CTX_free(context) }

        /// Adds `bytes` to the input.
        public func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            precondition(EVP_DigestUpdate(context, base, bytes.count) == 1, "EVP_DigestUpdate failed")
        }

        /// Adds the elements of `bytes` to the input.
        public func update(_ bytes: some Collection<UInt8>) {
            let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
            if done == nil { Array(bytes).withUnsafeBytes { update($0) } }
        }

        /// The 32-byte digest of everything added. Call once: the hasher is spent afterwards.
        public func finalize() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            let ok = out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
            precondition(ok == 1, "EVP_DigestFinal_ex failed")
            return Array(out[0..<Int(length)])
        }
    }
}
