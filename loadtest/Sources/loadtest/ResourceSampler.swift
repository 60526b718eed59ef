import Foundation

/// Samples a process's resident memory and open descriptors at a fixed interval and judges, after
/// a warm-up, whether they stayed flat (the soak test's leak check). Loop thread only.
final class ResourceSampler {
    /// One reading: seconds since the sampler started, VmRSS (KiB), open descriptors.
    struct Sample {
        let t: Double
        let rssKB: Int
        let fds: Int
    }

    /// The judgement over the samples taken after the warm-up.
    struct Verdict {
        let first: Sample
        let last: Sample
        let rssMin: Int
        let rssMax: Int
        let fdMax: Int
        /// Time of the last sample whose descriptor count differed from the one before (nil: never
        /// changed): a step that stops early is a pool filling up, a steady climb a leak.
        let fdsLastChangedAt: Double?
        /// (last − first) / first RSS, in %.
        var rssGrowthPct: Double { Double(last.rssKB - first.rssKB) / Double(max(1, first.rssKB)) * 100 }
        /// Every sample within ±`tolerance` % of the first.
        func flat(within tolerance: Double) -> Bool {
            Double(rssMax) <= Double(first.rssKB) * (1 + tolerance / 100)
                && Double(rssMin) >= Double(first.rssKB) * (1 - tolerance / 100)
        }
        /// More RSS at the end than `tolerance` % above the first, or more descriptors.
        func grew(tolerance: Double) -> Bool { rssGrowthPct > tolerance || last.fds > first.fds }
    }

    private let pid: Int32
    private let everyNs: UInt64
    private let startNs = ClockNs.monotonic()
    private var nextNs: UInt64
    private(set) var samples: [Sample] = []

    /// Sample `pid` every `every` seconds, the first reading at once.
    init(pid: Int32, every: Double) {
        self.pid = pid
        everyNs = UInt64(every * 1e9)
        nextNs = startNs
    }

    /// Take a sample if one is due (or `force`); call from the scenario's tick.
    func tick(force: Bool = false) {
        let now = ClockNs.monotonic()
        guard force || now >= nextNs else { return }
        nextNs += everyNs
        if nextNs <= now { nextNs = now + everyNs }  // after a stall, do not sample in a burst
        guard let rss = ProcStats.rssKB(pid), let fds = ProcStats.openFiles(pid) else { return }
        samples.append(Sample(t: Double(now - startNs) / 1e9, rssKB: rss, fds: fds))
    }

    /// The verdict over samples taken at or after `warmup` seconds; nil with fewer than two.
    func verdict(afterWarmup warmup: Double) -> Verdict? {
        let steady = samples.filter { $0.t >= warmup }
        guard let first = steady.first, let last = steady.last, steady.count >= 2 else { return nil }
        let changed = steady.indices.dropFirst().last { steady[$0].fds != steady[$0 - 1].fds }.map { steady[$0].t }
        return Verdict(
            first: first, last: last, rssMin: steady.map(\.rssKB).min()!, rssMax: steady.map(\.rssKB).max()!,
            fdMax: steady.map(\.fds).max()!, fdsLastChangedAt: changed)
    }

    /// The samples as `[t, rss_kib, fds]` rows for the JSON file.
    var series: [[Double]] { samples.map { [($0.t * 10).rounded() / 10, Double($0.rssKB), Double($0.fds)] } }
}

extension ProcStats {
    /// Entries of `/proc/<pid>/fd` (open descriptors), nil when unreadable.
    static func openFiles(_ pid: Int32) -> Int? {
        guard let dir = opendir("/proc/\(pid)/fd") else { return nil }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let first = withUnsafeBytes(of: entry.pointee.d_name) { $0[0] }
            if first != UInt8(ascii: ".") { count += 1 }
        }
        return count
    }
}
