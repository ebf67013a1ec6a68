import Foundation
import Testing
import TestSupport
import YAML

/// The CI templates of templates/ci/: YAML that hld's own parser reads, a cache keyed on
/// hld.lock, and the hld commands of their steps — the pull-request check and diff, and
/// both layouts of the GitOps repository.
@Suite struct CITemplateTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("templates/ci")

    /// The commands each template runs, as subcommand and flags.
    static let expected = [
        "diff --base --format --max-size",
        "materialize --locked --all --check",
        "materialize --locked --all --into --branch --path --push --message --author",
        "materialize --locked --all --into --branch --push --message --author",
    ]

    static func template(_ name: String) throws -> Node {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        let documents = try Node.documents(in: text, file: "templates/ci/" + name)
        try #require(documents.count == 1, "\(name) holds \(documents.count) documents")
        return documents[0]
    }

    @Test(arguments: ["github-actions.yml", "azure-pipelines.yml"])
    func aTemplateParsesAndItsStepsRunTheCheckTheDiffAndBothLayouts(_ name: String) throws {
        let commands = CIScript.hldCommands(in: try Self.template(name))
        #expect(commands.map(\.shape) == Self.expected)
        #expect(commands.first { $0.shape == Self.expected[0] }?.value(of: "--base") == "origin/main")
        #expect(commands.first { $0.shape == Self.expected[0] }?.value(of: "--format") == "markdown")
        #expect(commands.first { $0.shape == Self.expected[2] }?.value(of: "--path") == "clusters/{env}")
        #expect(commands.first { $0.shape == Self.expected[2] }?.value(of: "--branch") == "main")
        #expect(commands.first { $0.shape == Self.expected[3] }?.value(of: "--branch") == "{env}")
    }

    @Test func theGitHubWorkflowRunsOnMainAndPullRequestsAndCachesOnTheLock() throws {
        let workflow = try Self.template("github-actions.yml")
        #expect(workflow["on"]?.keys == ["push", "pull_request"])
        let steps = try #require(workflow["jobs"]?["materialize"]?["steps"]?.sequence)
        let cache = try #require(steps.first { $0["uses"]?.scalarText?.hasPrefix("actions/cache@") == true })
        #expect(cache["with"]?["key"]?.scalarText?.contains("hashFiles('hld.lock')") == true)
        #expect(cache["with"]?["path"]?.scalarText == "${{ runner.temp }}/hld-cache")
        let checkout = try #require(steps.first { $0["uses"]?.scalarText?.hasPrefix("actions/checkout@") == true })
        #expect(checkout["with"]?["fetch-depth"]?.int() == 0, "hld diff --base origin/main needs main's history")
    }

    @Test func theAzurePipelineRunsOnMainAndPullRequestsAndCachesOnTheLock() throws {
        let pipeline = try Self.template("azure-pipelines.yml")
        #expect(pipeline["trigger"]?["branches"]?["include"]?.sequence?.compactMap(\.scalarText) == ["main"])
        #expect(pipeline["pr"]?["branches"]?["include"]?.sequence?.compactMap(\.scalarText) == ["main"])
        let steps = try #require(pipeline["steps"]?.sequence)
        let cache = try #require(steps.first { $0["task"]?.scalarText == "Cache@2" })
        #expect(cache["inputs"]?["key"]?.scalarText?.hasSuffix("| hld.lock") == true)
        #expect(cache["inputs"]?["path"]?.scalarText == "$(HLD_CACHE)")
        #expect(steps.first?["fetchDepth"]?.int() == 0, "hld diff --base origin/main needs main's history")
    }

    /// The options a `--help` text lists: the names that start its option lines (indented
    /// by two spaces) — `-v, --verbose` gives both — each with its `<value>`, up to the
    /// description (which may follow after one space when the names fill the column).
    static func options(inHelp help: String) -> Set<String> {
        var options = Set<String>()
        for line in help.split(separator: "\n") where line.hasPrefix("  -") {
            var depth = 0
            for word in line.dropFirst(2).split(separator: "  ", maxSplits: 1)[0].split(separator: " ") {
                if depth > 0 || word.hasPrefix("<") {
                    depth += word.filter { $0 == "<" }.count - word.filter { $0 == ">" }.count
                } else if word.hasPrefix("-") {
                    options.insert(String(word.hasSuffix(",") ? word.dropLast() : word))
                } else {
                    break
                }
            }
        }
        return options
    }

    /// Every hld command in a template is a subcommand hld has, with options it takes
    /// (`--into` and its companions included: the templates are written against them).
    @Test(arguments: ["github-actions.yml", "azure-pipelines.yml"])
    func everySubcommandAndFlagATemplateUsesExists(_ name: String) throws {
        let commands = CIScript.hldCommands(in: try Self.template(name))
        try #require(!commands.isEmpty)
        var helps: [String: ChildProcess.CommandResult] = [:]
        for command in commands {
            let subcommand = try #require(command.subcommand, "\(command.words)")
            let help = try helps[subcommand] ?? ChildProcess.run(hldBinary.path, [subcommand, "--help"], environment: ["PATH": "/usr/bin:/bin", "COLUMNS": "80"])
            helps[subcommand] = help
            try #require(help.succeeded, "\(name): `hld \(subcommand) --help` failed: \(help.stderr)")
            let options = Self.options(inHelp: help.stdout)
            let unknown = command.flags.filter { !options.contains($0) }
            #expect(unknown == [], "\(name): `hld \(subcommand) --help` does not list them")
        }
    }

    @Test func theOptionsOfAHelpTextAreItsOptionLines() {
        let help = """
            OPTIONS:
              -C <dir>                Run as if started in <dir>.
              -v, --verbose           Say more about what happens (on stderr).
              --frozen                --locked, and no network at all: everything must be
                                      in the cache. --not-an-option
              --diff-lines <n>        With --check: show at most this many lines.
              --author <Name <email>> With --into: the commit's author.
            """
        #expect(Self.options(inHelp: help) == ["-C", "-v", "--verbose", "--frozen", "--diff-lines", "--author"])
    }

    /// The splitter the tests read steps with: quotes, continued lines, the end of a command.
    @Test func commandsAreSplitIntoWordsAsTheShellWould() {
        let script = """
            for env in $ENVIRONMENTS; do
              hld diff "$env" --base 'origin/main' --format=markdown || [ $? -eq 1 ]
            done
            echo "hld materialize is not run here"
            hld materialize --all \\
              --into "${{ vars.REPO }}" --message "a b" # a comment
            """
        let commands = CIScript.hldCommands(inScript: script)
        #expect(commands.map(\.words) == [
            ["hld", "diff", "$env", "--base", "origin/main", "--format=markdown"],
            ["hld", "materialize", "--all", "--into", "${{ vars.REPO }}", "--message", "a b"],
        ])
        #expect(commands.map(\.shape) == ["diff --base --format", "materialize --all --into --message"])
        #expect(commands[0].value(of: "--format") == "markdown")
    }
}

/// The shell of CI steps, read the way the tests need: the `hld` commands in it.
enum CIScript {
    /// One `hld …` command: its words, after quote removal.
    struct Command: Equatable {
        var words: [String]

        /// The subcommand (the first word after `hld` that is not an option).
        var subcommand: String? { words.dropFirst().first { !$0.hasPrefix("-") } }

        /// The options, without their values (`--format=markdown` → `--format`).
        var flags: [String] { words.filter { $0.hasPrefix("-") }.map { String($0.split(separator: "=", maxSplits: 1)[0]) } }

        /// `diff --base --format`.
        var shape: String { ([subcommand ?? ""] + flags).joined(separator: " ") }

        /// The value given to `flag` (`--flag value` or `--flag=value`).
        func value(of flag: String) -> String? {
            for (index, word) in words.enumerated() {
                if word.hasPrefix(flag + "=") { return String(word.dropFirst(flag.count + 1)) }
                if word == flag, index + 1 < words.count { return words[index + 1] }
            }
            return nil
        }
    }

    /// Every `hld` command of the steps of a workflow or pipeline: the values of `run:`
    /// (GitHub Actions) and `script:` or `bash:` (Azure Pipelines) keys, in document order.
    static func hldCommands(in node: Node) -> [Command] {
        switch node.content {
        case .scalar:
            return []
        case .sequence(let items):
            return items.flatMap(hldCommands(in:))
        case .mapping(let pairs):
            return pairs.flatMap { pair -> [Command] in
                if ["run", "script", "bash"].contains(pair.key.scalarText ?? ""), let script = pair.value.scalarText {
                    return hldCommands(inScript: script)
                }
                return hldCommands(in: pair.value)
            }
        }
    }

    /// The commands of a script that start with the word `hld`: each at the start of a
    /// line (lines ending in a backslash continue), up to the first unquoted `|`, `&`,
    /// `;`, `<`, `>` or comment.
    static func hldCommands(inScript script: String) -> [Command] {
        let lines = script.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n")
        return lines.compactMap { line in
            let words = self.words(line)
            return words.first == "hld" ? Command(words: words) : nil
        }
    }

    /// Shell words up to the end of the first command: quotes removed, `\` escaping the
    /// next character outside single quotes.
    static func words(_ line: Substring) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in line {
            if escaped {
                word.append(character)
                escaped = false
                continue
            }
            if let open = quote {
                if character == open { quote = nil } else if character == "\\" && open == "\"" { escaped = true } else { word.append(character) }
                continue
            }
            switch character {
            case "\\":
                escaped = true
                inWord = true
            case "'", "\"":
                quote = character
                inWord = true
            case " ", "\t":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "|", "&", ";", "<", ">":
                if inWord { words.append(word) }
                return words
            case "#" where !inWord:
                return words
            default:
                word.append(character)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        return words
    }
}
