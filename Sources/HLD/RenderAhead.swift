import Foundation

/// Renders that start while the tree is still resolving: a component's render begins as
/// soon as its own sources are pinned, so fetches of one repository and renders of what
/// another brought overlap instead of waiting for each other (bounded by the run's one
/// limiter, `--jobs`). Only components with no hooks on them or above them start early:
/// such hooks run first and may change what the component renders. The render stage
/// takes each result in tree order; one nobody takes (the resolve failed) is waited for
/// and dropped, so no helm outlives the run.
final class RenderAhead: Sendable {
    typealias Outcome = Result<[RenderedDocument], HLDError>
    private let generators: Generators
    private let limiter: Limiter
    private let started = Started()

    private final class Started: @unchecked Sendable {
        let lock = NSLock()
        var tasks: [[Int]: Task<Outcome, Never>] = [:]
    }

    init(generators: Generators, limiter: Limiter) {
        self.generators = generators
        self.limiter = limiter
    }

    /// Starts rendering `component` (its position in the tree is its key).
    func start(_ component: ResolvedComponent) {
        let generators = self.generators.scoped(to: component)
        let limiter = self.limiter
        let task = Task<Outcome, Never> {
            await limiter.run { () async -> Outcome in
                do throws(HLDError) {
                    return .success(try await generators.render(component))
                } catch {
                    return .failure(error)
                }
            }
        }
        started.lock.withLock { started.tasks[component.position] = task }
    }

    /// The early render of `component`, if one was started; taken, so asked once.
    func take(_ component: ResolvedComponent) async -> Outcome? {
        guard let task = started.lock.withLock({ started.tasks.removeValue(forKey: component.position) }) else { return nil }
        return await task.value
    }

    /// Waits for every render nobody took.
    func finish() async {
        let rest = started.lock.withLock { () -> [Task<Outcome, Never>] in
            defer { started.tasks = [:] }
            return Array(started.tasks.values)
        }
        for task in rest { _ = await task.value }
    }
}
