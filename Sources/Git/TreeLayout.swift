/// A git tree as an export writes it: its directories, files and symbolic links by position,
/// built from the tree's own contents. Which links an export creates is decided here, on
/// this model, never on the file system being written, so the result depends only on the
/// tree (not on entry order, and not on which targets happen to exist yet).
struct TreeLayout: Sendable {
    enum Kind: Sendable, Hashable {
        case directory
        case file(executable: Bool)
        /// A symbolic link and its target as stored in the tree.
        case link(String)
    }

    /// Where a symbolic link leads once every link on the way is followed, the way the
    /// kernel resolves it in the written tree (`..` of a followed link is the parent of
    /// where the link led, not of the link).
    enum LinkTarget: Sendable, Hashable {
        /// An entry the tree has: its path from the tree root ("" is the root itself).
        case inside(String)
        /// A place inside the tree that the tree does not have (a missing name, or a name
        /// below a file); the path is where it would be.
        case dangling(String)
        /// Climbs above the tree root, itself or through another link.
        case escapes
        /// Absolute, itself or through another link.
        case absolute
        /// A cycle, or more than `maxHops` links to follow.
        case loop
        /// Empty, holding a NUL byte, or longer than a link may be.
        case invalid

        /// The export creates the link: it cannot lead outside the tree. A dangling link
        /// is kept: it names a place inside the tree (checked with every `..` applied), so
        /// it can only ever reach the tree's own contents, and a `git checkout` of the same
        /// tree would have it too.
        var isKept: Bool {
            switch self {
            case .inside, .dangling: return true
            case .escapes, .absolute, .loop, .invalid: return false
            }
        }
    }

    /// Linux's MAXSYMLINKS: the kernel gives up (ELOOP) after following this many links.
    static let maxHops = 40
    /// PATH_MAX - 1: `symlink(2)` refuses longer targets.
    static let maxTargetBytes = 4095
    static let root = 0

    private struct Node: Sendable {
        var name: String
        var parent: Int
        var kind: Kind
        var children: [String: Int] = [:]
    }

    private var nodes = [Node(name: "", parent: 0, kind: .directory)]

    /// Entries including the root (index 0); a parent's index is below its children's.
    var count: Int { nodes.count }

    func kind(of index: Int) -> Kind { nodes[index].kind }

    /// The path of `index` from the tree root, "" for the root.
    func path(of index: Int) -> String { Self.path(of: index, in: nodes) }

    private static func path(of index: Int, in nodes: [Node]) -> String {
        var parts: [String] = []
        var current = index
        while current != root {
            parts.append(nodes[current].name)
            current = nodes[current].parent
        }
        return parts.reversed().joined(separator: "/")
    }

    /// A name an export can write as one directory entry: git itself refuses the others
    /// (`fsck`, checkout), and a name holding `/` or `..` would write somewhere else.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.utf8.contains(UInt8(ascii: "/")) && !name.utf8.contains(0)
    }

    /// Adds the entry `name` to directory `parent` and returns its index.
    @discardableResult
    mutating func add(_ name: String, _ kind: Kind, in parent: Int) -> Int {
        precondition(nodes[parent].kind == .directory, "entries are added to directories")
        let index = nodes.count
        nodes.append(Node(name: name, parent: parent, kind: kind))
        nodes[parent].children[name] = index
        return index
    }

    /// Adds the entry at `path` (parent directories are created as needed); for tests and
    /// small tables.
    @discardableResult
    mutating func add(path: String, _ kind: Kind) -> Int {
        var parent = Self.root
        let parts = path.split(separator: "/").map(String.init)
        for part in parts.dropLast() {
            if let existing = nodes[parent].children[part] {
                parent = existing
            } else {
                parent = add(part, .directory, in: parent)
            }
        }
        return add(parts.last ?? "", kind, in: parent)
    }

    /// Where every link of the tree leads, by entry index.
    func linkTargets() -> [Int: LinkTarget] {
        var resolver = Resolver(nodes: nodes)
        var targets: [Int: LinkTarget] = [:]
        for index in nodes.indices {
            guard case .link = nodes[index].kind else { continue }
            targets[index] = resolver.target(of: index)
        }
        return targets
    }

    /// Where the link at `path` leads; nil when there is no link there.
    func linkTarget(at path: String) -> LinkTarget? {
        var current = Self.root
        for part in path.split(separator: "/") {
            guard let next = nodes[current].children[String(part)] else { return nil }
            current = next
        }
        guard case .link = nodes[current].kind else { return nil }
        var resolver = Resolver(nodes: nodes)
        return resolver.target(of: current)
    }

    /// Resolves links one component at a time against the model, remembering each link's
    /// outcome: a link's resolution does not depend on who follows it, so a tree with many
    /// links through one long chain costs each link once.
    private struct Resolver {
        let nodes: [Node]
        private var known: [Int: Outcome] = [:]
        private var inProgress: Set<Int> = []

        init(nodes: [Node]) { self.nodes = nodes }

        private enum Outcome {
            /// At entry `node`, then `missing` names the tree does not have (`broken` when
            /// the walk ever went through a name the tree lacks), after `hops` links.
            case reached(node: Int, missing: [String], broken: Bool, hops: Int)
            case failed(LinkTarget)
        }

        mutating func target(of link: Int) -> LinkTarget {
            let outcome = resolve(link, depth: 0) ?? .failed(.loop)
            known[link] = outcome
            switch outcome {
            case .failed(let reason):
                return reason
            case .reached(let node, let missing, let broken, _):
                let path = ([TreeLayout.path(of: node, in: nodes)] + missing).filter { !$0.isEmpty }.joined(separator: "/")
                return broken ? .dangling(path) : .inside(path)
            }
        }

        /// nil when `depth` links are already being followed: the outermost one needs more
        /// than `maxHops`, but the ones in between might not, so nothing is remembered.
        private mutating func resolve(_ link: Int, depth: Int) -> Outcome? {
            if let outcome = known[link] { return outcome }
            if inProgress.contains(link) { return .failed(.loop) }
            guard depth < TreeLayout.maxHops else { return nil }
            guard case .link(let target) = nodes[link].kind else { preconditionFailure("not a link") }
            guard !target.isEmpty, !target.utf8.contains(0), target.utf8.count <= TreeLayout.maxTargetBytes else {
                return remember(link, .failed(.invalid))
            }
            guard !target.hasPrefix("/") else { return remember(link, .failed(.absolute)) }
            inProgress.insert(link)
            defer { inProgress.remove(link) }
            var node = nodes[link].parent
            var missing: [String] = []
            var broken = false
            var hops = 1
            for component in target.split(separator: "/") {
                let part = String(component)
                if part == "." { continue }
                if part == ".." {
                    if !missing.isEmpty {
                        missing.removeLast()
                    } else if node == TreeLayout.root {
                        return remember(link, .failed(.escapes))
                    } else {
                        // `..` of a file fails in the kernel (ENOTDIR).
                        if nodes[node].kind != .directory { broken = true }
                        node = nodes[node].parent
                    }
                    continue
                }
                // Below a missing name nothing exists; the rest is followed by name only,
                // so a `..` later still counts against the root.
                guard missing.isEmpty, let child = nodes[node].children[part] else {
                    missing.append(part)
                    broken = true
                    continue
                }
                guard case .link = nodes[child].kind else {
                    node = child
                    continue
                }
                guard let next = resolve(child, depth: depth + 1) else { return nil }
                switch next {
                case .failed(.invalid):
                    // Never written: to the kernel the name is simply missing.
                    missing.append(part)
                    broken = true
                case .failed(let reason):
                    return remember(link, .failed(reason))
                case .reached(let reachedNode, let reachedMissing, let reachedBroken, let reachedHops):
                    hops += reachedHops
                    guard hops <= TreeLayout.maxHops else { return remember(link, .failed(.loop)) }
                    node = reachedNode
                    missing = reachedMissing
                    broken = broken || reachedBroken
                }
            }
            return remember(link, .reached(node: node, missing: missing, broken: broken, hops: hops))
        }

        private mutating func remember(_ link: Int, _ outcome: Outcome) -> Outcome {
            known[link] = outcome
            return outcome
        }
    }
}
