import Foundation

/// Finds out why a listening socket cannot be had, the way libwebsockets would try it: the host
/// is an IPv4 or IPv6 address, or the name of a network interface (its first address), and the
/// socket is bound with `SO_REUSEADDR`. Used when a server context could not be created, to name
/// the setting at fault; the probe socket is closed before returning.
enum ListenProbe {
    /// nil when `host:port` can be bound right now, else what stands in the way.
    static func problem(host: String, port: Int) -> TransportError? {
        guard var address = socketAddress(host) else {
            return TransportError(
                "\"\(host)\" is not an IP address or network interface of this machine", kind: .address)
        }
        let family = Int32(address.ss_family)
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var on: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        let length: socklen_t
        if family == AF_INET6 {
            withUnsafeMutableBytes(of: &address) { raw in
                raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port = in_port_t(port).bigEndian
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            withUnsafeMutableBytes(of: &address) { raw in
                raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port = in_port_t(port).bigEndian
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        if bound == 0 { return nil }
        let why = String(cString: strerror(errno))
        switch errno {
        case EADDRINUSE: return TransportError("port \(port) is already in use on \(host) (\(why))", kind: .port)
        case EACCES: return TransportError("port \(port) needs privileges to bind (\(why))", kind: .port)
        case EADDRNOTAVAIL:
            return TransportError("\(host) is not an address of this machine (\(why))", kind: .address)
        default: return TransportError("cannot bind \(host):\(port): \(why)", kind: .address)
        }
    }

    /// True when `host` is a dotted IPv4 address.
    static func isIPv4Literal(_ host: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, host, &address) == 1
    }

    /// The address lws would bind for `host`: an IP literal, else the first IPv4/IPv6 address of
    /// the interface so named; nil when neither.
    private static func socketAddress(_ host: String) -> sockaddr_storage? {
        var storage = sockaddr_storage()
        let parsed = withUnsafeMutableBytes(of: &storage) { raw -> Bool in
            let v4 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
            if inet_pton(AF_INET, host, &v4.pointee.sin_addr) == 1 {
                v4.pointee.sin_family = sa_family_t(AF_INET)
                return true
            }
            let v6 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
            if inet_pton(AF_INET6, host, &v6.pointee.sin6_addr) == 1 {
                v6.pointee.sin6_family = sa_family_t(AF_INET6)
                return true
            }
            return false
        }
        if parsed { return storage }
        return interfaceAddress(host)
    }

    private static func interfaceAddress(_ name: String) -> sockaddr_storage? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var entry = list
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            guard let address = current.pointee.ifa_addr, String(cString: current.pointee.ifa_name) == name else {
                continue
            }
            let family = Int32(address.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            var storage = sockaddr_storage()
            let size = family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size
            withUnsafeMutableBytes(of: &storage) { $0.baseAddress!.copyMemory(from: address, byteCount: size) }
            return storage
        }
        return nil
    }
}
