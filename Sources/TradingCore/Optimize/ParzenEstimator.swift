import Foundation

/// A one-dimensional Parzen estimator on the unit interval: a mixture of normal kernels, each
/// truncated to [0, 1], centred on the observed positions plus one wide prior kernel at 0.5
/// (Bergstra et al. 2011, "Algorithms for Hyper-Parameter Optimization"). A kernel's width is
/// the larger gap to its neighbours (the interval's ends count as neighbours), clipped to
/// `[1 / min(100, n + 1), 1]`; the prior's width is 1. Discrete dimensions weigh the mass of a
/// level's bin instead of the density at a point.
struct ParzenEstimator: Sendable {
    private var mus: [Double] = []
    private var sigmas: [Double] = []
    private var inverseSigmas: [Double] = []
    /// 1 / each kernel's truncation mass Φ((1−μ)/σ) − Φ(−μ/σ).
    private var inverseMasses: [Double] = []
    /// Each kernel's density factor 1 / (σ √(2π) × mass).
    private var densityScales: [Double] = []

    /// The estimator of the positions `points` (each in [0, 1]).
    init(_ points: [Double]) {
        let sorted = (points + [0.5]).enumerated().sorted { $0.element < $1.element }
        let n = sorted.count
        let minSigma = 1 / Double(min(100, n + 1))
        mus.reserveCapacity(n)
        sigmas.reserveCapacity(n)
        for i in 0..<n {
            let mu = sorted[i].element
            let left = mu - (i > 0 ? sorted[i - 1].element : 0)
            let right = (i + 1 < n ? sorted[i + 1].element : 1) - mu
            // The prior is the last element of `points + [0.5]` before sorting.
            let isPrior = sorted[i].offset == n - 1
            let sigma = isPrior ? 1 : min(max(max(left, right), minSigma), 1)
            mus.append(mu)
            sigmas.append(sigma)
        }
        inverseSigmas = sigmas.map { 1 / $0 }
        inverseMasses = zip(mus, sigmas).map { mu, sigma in
            1 / max(Self.cdf((1 - mu) / sigma) - Self.cdf(-mu / sigma), 1e-300)
        }
        densityScales = zip(sigmas, inverseMasses).map { sigma, inverseMass in
            inverseMass / (sigma * (2 * Double.pi).squareRoot())
        }
    }

    /// A draw from the mixture: a kernel chosen uniformly, then a point of its truncated normal.
    func sample(_ rng: inout SplitMix64) -> Double {
        let i = Int(rng.nextInt(in: 0, Int64(mus.count - 1)))
        for _ in 0..<64 {
            let x = mus[i] + sigmas[i] * Self.normal(&rng)
            if x >= 0 && x <= 1 { return x }
        }
        return rng.nextUnit()
    }

    /// log density of the mixture at `x` (continuous dimensions). Summed in the linear domain:
    /// the prior's kernel (width 1) keeps the sum away from underflow anywhere in [0, 1].
    func logDensity(_ x: Double) -> Double {
        var sum = 0.0
        for i in mus.indices {
            let z = (x - mus[i]) * inverseSigmas[i]
            sum += exp(-0.5 * z * z) * densityScales[i]
        }
        return log(sum / Double(mus.count))
    }

    /// log of the mixture's mass on the bin `[a, b]` (discrete dimensions).
    func logMass(from a: Double, to b: Double) -> Double {
        var sum = 0.0
        for i in mus.indices {
            let mass = Self.cdf((b - mus[i]) * inverseSigmas[i]) - Self.cdf((a - mus[i]) * inverseSigmas[i])
            sum += max(mass, 0) * inverseMasses[i]
        }
        return log(max(sum / Double(mus.count), 1e-300))
    }

    /// The standard normal distribution function.
    static func cdf(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    /// A standard normal draw (Box–Muller).
    static func normal(_ rng: inout SplitMix64) -> Double {
        let u1 = 1 - rng.nextUnit()  // (0, 1]: log stays finite
        let u2 = rng.nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
