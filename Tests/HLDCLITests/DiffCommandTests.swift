import Foundation
import Testing
import TestSupport

/// An HLD with a static component and a local Helm chart (rendered by the real helm),
/// written at test time, for `hld diff`.
final class DiffProject: Sendable {
    let scratch: TemporaryDirectory
    /// The project directory (the top-level component's).
    let root: String
    let helm: String

    /// `subdirectory`: where in the scratch directory the project sits (a git repository's
    /// subfolder in the `--base` tests).
    init(subdirectory: String = "hld") throws {
        scratch = try TemporaryDirectory(prefix: "hld-diff")
        root = scratch.appending(subdirectory).path
        helm = try findHelm()
        try write(Self.files)
    }

    var cache: String { scratch.appending("cache").path }

    func write(_ files: [String: String]) throws {
        for (path, contents) in files {
            let url = URL(fileURLWithPath: root).appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: url, atomically: true, encoding: .utf8)
        }
    }

    func edit(_ path: String, _ change: (String) -> String) throws {
        let file = root + "/" + path
        try change(try String(contentsOfFile: file, encoding: .utf8)).write(toFile: file, atomically: true, encoding: .utf8)
    }

    /// hld's TMPDIR: empty again after every run.
    var temporary: String { scratch.appending("tmp").path }

    /// `hld <arguments> -C <root>` with a private cache, HOME, TMPDIR and Helm.
    func hld(_ arguments: [String]) throws -> ChildProcess.CommandResult {
        let home = scratch.appending("home").path
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        return try ChildProcess.run(hldBinary.path, arguments + ["-C", root, "--cache-dir", cache, "--helm", helm],
                                    environment: ["PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": temporary + "/"], timeout: .seconds(120))
    }

    static let files: [String: String] = [
        "component.yaml": """
            name: cluster
            subcomponents:
            - name: base
              type: static
              path: ./manifests
            - name: extras
              type: static
              path: ./extras
            - name: web
              type: helm
              path: ./chart

            """,
        "manifests/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: pets\n",
        "extras/flags.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: feature-flags\n  namespace: pets\ndata:\n  treats: \"on\"\n",
        "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "chart/values.yaml": "replicas: 1\nimage: {repository: nginx, tag: latest}\npassword: \"\"\ntoken: \"\"\nteam: pets\n",
        "chart/templates/deployment.yaml": """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: {{ .Release.Name }}
              namespace: {{ .Release.Namespace }}
              labels:
                app: {{ .Release.Name }}
                team: {{ .Values.team }}
                helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
            spec:
              replicas: {{ .Values.replicas }}
              selector:
                matchLabels:
                  app: {{ .Release.Name }}
              template:
                metadata:
                  labels:
                    app: {{ .Release.Name }}
                    team: {{ .Values.team }}
                    helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
                spec:
                  containers:
                  - name: web
                    image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"

            """,
        "chart/templates/secret.yaml": """
            apiVersion: v1
            kind: Secret
            metadata:
              name: {{ .Release.Name }}-credentials
              namespace: {{ .Release.Namespace }}
            data:
              password: {{ .Values.password | b64enc | quote }}
            stringData:
              token: {{ .Values.token | quote }}

            """,
        "config/common.yaml": """
            subcomponents:
              web:
                namespace: pets
                config:
                  image: {tag: "1.26.0"}
                  password: common-password
                  token: common-token

            """,
        "config/dev.yaml": "subcomponents:\n  extras:\n    disabled: true\n",
        "config/prod.yaml": """
            subcomponents:
              web:
                config:
                  replicas: 3
                  image: {tag: "1.27.0"}
                  password: prod-password

            """,
    ]
}

@Suite(.timeLimit(.minutes(10))) struct DiffCommandTests {
    @Test func twoEnvironmentsOfAStaticComponentAndALocalChart() throws {
        let project = try DiffProject()
        let result = try project.hld(["diff", "dev", "prod"])
        #expect(result.termination == .exited(1), "\(result.stderr)")
        #expect(result.stderr == "")
        #expect(result.stdout == """
            dev → prod: 1 added, 0 removed, 2 changed, 1 unchanged
            added: v1 ConfigMap pets/feature-flags (extras/flags.yaml)
            changed: v1 Secret pets/web-credentials (web/web/templates/secret.yaml): data.password changed
            changed: apps/v1 Deployment pets/web (web/web/templates/deployment.yaml)
            --- a/v1/Secret/pets/web-credentials
            +++ b/v1/Secret/pets/web-credentials
            @@ -4,6 +4,6 @@
               name: web-credentials
               namespace: pets
             data:
            -  password: (hidden)
            +  password: (hidden, changed)
             stringData:
               token: (hidden)
            --- a/apps/v1/Deployment/pets/web
            +++ b/apps/v1/Deployment/pets/web
            @@ -8,7 +8,7 @@
                 team: pets
                 helm.sh/chart: web-0.1.0
             spec:
            -  replicas: 1
            +  replicas: 3
               selector:
                 matchLabels:
                   app: web
            @@ -21,4 +21,4 @@
                 spec:
                   containers:
                   - name: web
            -        image: nginx:1.26.0
            +        image: nginx:1.27.0

            """)
        // The other way round: the ConfigMap is removed, the same two changed.
        let reversed = try project.hld(["diff", "prod", "dev"])
        #expect(reversed.termination == .exited(1))
        #expect(reversed.stdout.hasPrefix("prod → dev: 0 added, 1 removed, 2 changed, 1 unchanged\nchanged: v1 Secret pets/web-credentials"))
        #expect(reversed.stdout.contains("\nremoved: v1 ConfigMap pets/feature-flags (extras/flags.yaml)\n"))

        let same = try project.hld(["diff", "prod", "prod"])
        #expect(same.termination == .exited(0))
        #expect(same.stdout == "prod and prod render the same 4 resource(s)\n")
        // Global options before the subcommand too.
        let hoisted = try ChildProcess.run(hldBinary.path, ["-C", project.root, "--helm", project.helm, "--cache-dir", project.cache, "diff", "dev", "dev"],
                                           environment: ["PATH": "/usr/bin:/bin", "HOME": project.scratch.path])
        #expect(hoisted.termination == .exited(0), "\(hoisted.stderr)")
        #expect(hoisted.stdout == "dev and dev render the same 3 resource(s)\n")
    }

    @Test func markdownGolden() throws {
        let project = try DiffProject()
        let result = try project.hld(["diff", "dev", "prod", "--format", "markdown"])
        #expect(result.termination == .exited(1), "\(result.stderr)")
        #expect(result.stdout == """
            ### hld diff: `dev` → `prod`

            1 added, 0 removed, 2 changed, 1 unchanged.

            | Change | API version | Kind | Namespace | Name |
            |---|---|---|---|---|
            | added | v1 | ConfigMap | pets | feature-flags |
            | changed | v1 | Secret | pets | web-credentials |
            | changed | apps/v1 | Deployment | pets | web |

            <details>
            <summary>changed: <code>v1 Secret pets/web-credentials</code> (web/web/templates/secret.yaml)</summary>

            Secret keys: `data.password` changed (values are never shown).

            ```diff
            --- a/v1/Secret/pets/web-credentials
            +++ b/v1/Secret/pets/web-credentials
            @@ -4,6 +4,6 @@
               name: web-credentials
               namespace: pets
             data:
            -  password: (hidden)
            +  password: (hidden, changed)
             stringData:
               token: (hidden)
            ```

            </details>

            <details>
            <summary>changed: <code>apps/v1 Deployment pets/web</code> (web/web/templates/deployment.yaml)</summary>

            ```diff
            --- a/apps/v1/Deployment/pets/web
            +++ b/apps/v1/Deployment/pets/web
            @@ -8,7 +8,7 @@
                 team: pets
                 helm.sh/chart: web-0.1.0
             spec:
            -  replicas: 1
            +  replicas: 3
               selector:
                 matchLabels:
                   app: web
            @@ -21,4 +21,4 @@
                 spec:
                   containers:
                   - name: web
            -        image: nginx:1.26.0
            +        image: nginx:1.27.0
            ```

            </details>

            """)
    }

    @Test func markdownIsCappedWithANote() throws {
        let project = try DiffProject()
        // 150 ConfigMaps whose data differs between dev and prod, through the chart.
        try project.write([
            "chart/templates/many.yaml": """
                {{- range $index := until 150 }}
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: settings-{{ $index }}
                data:
                  replicas: "{{ $.Values.replicas }}"
                  text: |
                    {{- range until 30 }}
                    line {{ . }} for {{ $.Values.image.tag }}
                    {{- end }}
                {{- end }}

                """,
        ])
        let full = try project.hld(["diff", "dev", "prod", "--format", "markdown", "--max-size", "1000000"])
        #expect(full.termination == .exited(1), "\(full.stderr)")
        #expect(full.stdout.utf8.count > 65_536)
        #expect(!full.stdout.contains("Cut to stay under"))

        for limit in [defaultMarkdownLimit, 10_000] {
            let arguments = ["diff", "dev", "prod", "--format", "markdown"] + (limit == 10_000 ? ["--max-size", "10000"] : [])
            let capped = try project.hld(arguments)
            #expect(capped.termination == .exited(1))
            #expect(capped.stdout.utf8.count <= limit)
            #expect(capped.stdout.contains("| changed | v1 | ConfigMap | - | settings-149 |\n"), "the whole table")
            let sections = capped.stdout.components(separatedBy: "<details>").count - 1
            #expect(sections > 0 && sections < 152)
            #expect(capped.stdout.range(of: #"\n\*\*Cut to stay under \#(limit) characters:\*\* \d+ of 152 changed resource\(s\) shown in full"#, options: .regularExpression) != nil)
        }
    }

    @Test func jsonShape() throws {
        let project = try DiffProject()
        let result = try project.hld(["diff", "dev", "prod", "--format", "json"])
        #expect(result.termination == .exited(1), "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(Set(report.keys) == ["old", "new", "same", "summary", "changes"])
        #expect(report["same"] as? Bool == false)
        #expect(report["old"] as? NSDictionary == ["label": "dev", "resources": 3])
        #expect(report["new"] as? NSDictionary == ["label": "prod", "resources": 4])
        #expect(report["summary"] as? [String: Int] == ["added": 1, "removed": 0, "changed": 2, "unchanged": 1])
        let changes = try #require(report["changes"] as? [[String: Any]])
        #expect(changes.map { "\($0["change"]!) \($0["kind"]!) \($0["namespace"]!)/\($0["name"]!)" } == [
            "added ConfigMap pets/feature-flags", "changed Secret pets/web-credentials", "changed Deployment pets/web",
        ])
        #expect(changes[0]["new"] as? [String: String] == ["file": "extras.yaml", "source": "extras/flags.yaml", "component": "extras"])
        #expect(changes[0]["old"] == nil && changes[0]["diff"] == nil)
        #expect(changes[2]["apiVersion"] as? String == "apps/v1")
        let diff = try #require(changes[2]["diff"] as? [String])
        #expect(diff.filter { $0.hasPrefix("-") || $0.hasPrefix("+") } == [
            "--- a/apps/v1/Deployment/pets/web", "+++ b/apps/v1/Deployment/pets/web",
            "-  replicas: 1", "+  replicas: 3", "-        image: nginx:1.26.0", "+        image: nginx:1.27.0",
        ])
        #expect(changes[1]["secretKeys"] as? [[String: String]] == [["field": "data", "key": "password", "change": "changed"]])

        let same = try project.hld(["diff", "dev", "dev", "--format", "json"])
        #expect(same.termination == .exited(0))
        let sameReport = try #require(try JSONSerialization.jsonObject(with: Data(same.stdout.utf8)) as? [String: Any])
        #expect(sameReport["same"] as? Bool == true)
        #expect((sameReport["changes"] as? [Any])?.isEmpty == true)
    }

    @Test func aSecretShowsItsChangedKeysAndNeverAValue() throws {
        let project = try DiffProject()
        try project.write(["config/stage.yaml": "subcomponents:\n  web:\n    config:\n      password: stage-password\n      token: stage-token\n"])
        let values = ["common-password", "stage-password", "common-token", "stage-token"]
        let encoded = values.map { Data($0.utf8).base64EncodedString() }
        for format in ["text", "markdown", "json"] {
            let result = try project.hld(["diff", "prod", "stage", "--format", format])
            #expect(result.termination == .exited(1), "\(result.stderr)")
            let keys = format == "json" ? [#""key" : "password""#, #""key" : "token""#] : ["data.password", "stringData.token"]
            for key in keys { #expect(result.stdout.contains(key), "\(format)") }
            for value in values + encoded + [Data("prod-password".utf8).base64EncodedString()] {
                #expect(!result.stdout.contains(value), "\(format) shows a Secret value: \(value)")
                #expect(!result.stderr.contains(value))
            }
        }
        let text = try project.hld(["diff", "prod", "stage"])
        #expect(text.stdout.contains("changed: v1 Secret pets/web-credentials (web/web/templates/secret.yaml): data.password changed, stringData.token changed\n"))
        #expect(text.stdout.contains("\n-  token: (hidden)\n+  token: (hidden, changed)\n"))
    }

    @Test func ignoredLabelsAreNotDifferences() throws {
        let project = try DiffProject()
        try project.write(["config/birds.yaml": "subcomponents:\n  web:\n    config:\n      team: birds\n"])
        let noisy = try project.hld(["diff", "dev", "birds"])
        #expect(noisy.termination == .exited(1))
        // The team label differs (the Deployment's own and its pod template's), and the
        // ConfigMap of extras, which dev disables.
        #expect(noisy.stdout.contains("-    team: pets\n+    team: birds\n"))
        #expect(noisy.stdout.contains("-        team: pets\n+        team: birds\n"))
        let quiet = try project.hld(["diff", "dev", "birds", "--ignore-labels", "helm.sh/chart,team"])
        #expect(quiet.termination == .exited(1))
        #expect(quiet.stdout == "dev → birds: 1 added, 0 removed, 0 changed, 3 unchanged\nadded: v1 ConfigMap pets/feature-flags (extras/flags.yaml)\n")
        try project.write(["config/dev.yaml": "{}\n"])
        let same = try project.hld(["diff", "dev", "birds", "--ignore-labels", "app", "--ignore-labels", "team"])
        #expect(same.termination == .exited(0), "\(same.stdout)")
        #expect(same.stdout == "dev and birds render the same 4 resource(s)\n")
    }

    @Test func aRenderThatFailsIsTroubleNotEveryResourceRemoved() throws {
        let project = try DiffProject()
        try project.write(["config/prod.yaml": "subcomponents:\n  web: [\n"])
        let broken = try project.hld(["diff", "dev", "prod"])
        #expect(broken.termination == .exited(2))
        #expect(broken.stdout == "")
        #expect(broken.stderr == """
            error: prod: config/prod.yaml:3:1: did not find expected node content at the end of the input (while parsing a flow node at 3:1)
            error: cannot compare dev with prod: prod did not render

            """)
        let json = try project.hld(["diff", "dev", "prod", "--format", "json"])
        #expect(json.termination == .exited(2))
        #expect(json.stdout == """
            {
              "errors" : [
                {
                  "error" : {
                    "kind" : "definition",
                    "location" : {
                      "column" : 1,
                      "file" : "config/prod.yaml",
                      "line" : 3
                    },
                    "message" : "did not find expected node content at the end of the input (while parsing a flow node at 3:1)"
                  },
                  "render" : "prod"
                }
              ],
              "new" : "prod",
              "old" : "dev"
            }

            """)

        // helm failing on the old side.
        try project.write([
            "config/prod.yaml": "{}\n",
            "config/strict.yaml": "subcomponents:\n  web:\n    config:\n      fail: true\n",
            "chart/templates/fail.yaml": "{{- if .Values.fail }}{{ fail \"this environment cannot render\" }}{{ end }}\n",
        ])
        let helm = try project.hld(["diff", "strict", "prod"])
        #expect(helm.termination == .exited(2))
        #expect(helm.stdout == "")
        #expect(helm.stderr.hasPrefix("error: strict: "))
        #expect(helm.stderr.contains("this environment cannot render"))
        #expect(helm.stderr.hasSuffix("\nerror: cannot compare strict with prod: strict did not render\n"))
        #expect(try project.hld(["diff", "prod", "prod"]).termination == .exited(0))
    }

    @Test(arguments: [
        (["diff", "dev"], "Error: hld diff compares two environments (hld diff dev prod), or the working tree with a revision (hld diff prod --base HEAD~1); got 1 environment(s) and no --base\n"),
        (["diff", "dev", "stage", "prod"], "Error: hld diff compares two environments (hld diff dev prod), or the working tree with a revision (hld diff prod --base HEAD~1); got 3 environment(s) and no --base\n"),
        (["diff", "prod", "--base", ""], "Error: --base needs a revision: HEAD~1, a branch, a tag or a commit id\n"),
        (["diff", "dev", "prod", "--max-size", "999"], "Error: --max-size must be at least 1000"),
        (["diff", "dev", "prod", "--ignore-labels", "a,,b"], "Error: --ignore-labels takes label keys separated by commas, with none empty"),
        (["diff", "dev", "prod", "--format", "yaml"], "Error: The value 'yaml' is invalid for '--format <format>'"),
    ])
    func usageErrorsExitWith64(arguments: [String], message: String) throws {
        let project = try DiffProject()
        let result = try project.hld(arguments)
        #expect(result.termination == .exited(64))
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix(message), "\(result.stderr)")
    }
}

/// `hld diff --format markdown` without --max-size: ResourceDiff.defaultMarkdownLimit.
/// `hld diff --base`: the old side read from the project's git repository at a revision.
@Suite(.timeLimit(.minutes(10))) struct DiffBaseTests {
    /// A project committed, then changed by `change` in a second commit.
    func committed(subdirectory: String = "hld", _ change: (DiffProject) throws -> Void) throws -> (DiffProject, FixtureRepository) {
        let project = try DiffProject(subdirectory: subdirectory)
        let repository = try FixtureRepository.create(at: project.scratch.appending(subdirectory.split(separator: "/").first.map(String.init)!))
        try repository.commit("first")
        try change(project)
        try repository.commit("second")
        return (project, repository)
    }

    func bumpTag(_ project: DiffProject) throws {
        try project.edit("config/prod.yaml") { $0.replacingOccurrences(of: "\"1.27.0\"", with: "\"1.27.1\"") }
    }

    @Test func theLastCommitBumpedOneImageTag() throws {
        let (project, repository) = try committed(bumpTag)
        let previous = try repository.git(["rev-parse", "HEAD~1"])
        let result = try project.hld(["diff", "prod", "--base", "HEAD~1"])
        #expect(result.termination == .exited(1), "\(result.stderr)")
        #expect(result.stderr == "")
        #expect(result.stdout == """
            prod at HEAD~1 (\(previous.prefix(12))) → prod in the working tree: 0 added, 0 removed, 1 changed, 3 unchanged
            changed: apps/v1 Deployment pets/web (web/web/templates/deployment.yaml)
            --- a/apps/v1/Deployment/pets/web
            +++ b/apps/v1/Deployment/pets/web
            @@ -21,4 +21,4 @@
                 spec:
                   containers:
                   - name: web
            -        image: nginx:1.27.0
            +        image: nginx:1.27.1

            """)
        // Read without a checkout: the work tree is as it was, and nothing is left in TMPDIR.
        #expect(try repository.git(["status", "--porcelain"]) == "")
        #expect(try FileManager.default.contentsOfDirectory(atPath: project.temporary) == [])

        // dev did not change; the working tree against HEAD is the same.
        let dev = try project.hld(["diff", "dev", "--base", "HEAD~1"])
        #expect(dev.termination == .exited(0), "\(dev.stderr)")
        #expect(dev.stdout == "dev at HEAD~1 (\(previous.prefix(12))) and dev in the working tree render the same 3 resource(s)\n")
        let head = try project.hld(["diff", "prod", "--base", "HEAD", "--format", "json"])
        #expect(head.termination == .exited(0))
        #expect(head.stdout.contains("\"same\" : true"))

        // An edit not committed yet is on the new side.
        try project.edit("config/prod.yaml") { $0.replacingOccurrences(of: "replicas: 3", with: "replicas: 4") }
        let uncommitted = try project.hld(["diff", "prod", "--base", "HEAD"])
        #expect(uncommitted.termination == .exited(1))
        #expect(uncommitted.stdout.contains("\n-  replicas: 3\n+  replicas: 4\n"))
        #expect(!uncommitted.stdout.contains("image:"))
    }

    @Test func aProjectInASubdirectoryAgainstATagAndABranch() throws {
        let (project, repository) = try committed(subdirectory: "repo/clusters/east") { project in
            try project.edit("chart/Chart.yaml") { $0.replacingOccurrences(of: "version: 0.1.0", with: "version: 0.2.0") }
        }
        try repository.git(["tag", "v1", "HEAD~1"])
        try repository.git(["branch", "previous", "HEAD~1"])
        for revision in ["v1", "previous", String(try repository.git(["rev-parse", "HEAD~1"]).prefix(10))] {
            let bumped = try project.hld(["diff", "prod", "--base", revision])
            #expect(bumped.termination == .exited(1), "\(bumped.stderr)")
            // Only the chart label moved: in the Deployment's labels and its pod template's.
            #expect(bumped.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("-") || $0.hasPrefix("+") } == [
                "--- a/apps/v1/Deployment/pets/web", "+++ b/apps/v1/Deployment/pets/web",
                "-    helm.sh/chart: web-0.1.0", "+    helm.sh/chart: web-0.2.0",
                "-        helm.sh/chart: web-0.1.0", "+        helm.sh/chart: web-0.2.0",
            ])
            let quiet = try project.hld(["diff", "prod", "--base", revision, "--ignore-labels", "helm.sh/chart"])
            #expect(quiet.termination == .exited(0), "\(quiet.stdout)")
        }
    }

    @Test func aRevisionThatDoesNotExistIsAClearError() throws {
        let (project, repository) = try committed(bumpTag)
        let result = try project.hld(["diff", "prod", "--base", "no-such-branch"])
        #expect(result.termination == .exited(2))
        #expect(result.stdout == "")
        #expect(result.stderr == "error: no-such-branch: no revision no-such-branch in this repository (the repository at \(repository.path))\n")
        let tooFar = try project.hld(["diff", "prod", "--base", "HEAD~5"])
        #expect(tooFar.termination == .exited(2))
        #expect(tooFar.stderr == "error: HEAD~5: no revision HEAD~5 in this repository (the repository at \(repository.path))\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: project.temporary) == [])

        // Outside any git repository.
        let alone = try DiffProject()
        let outside = try alone.hld(["diff", "prod", "--base", "HEAD~1"])
        #expect(outside.termination == .exited(2))
        #expect(outside.stderr == "error: \(alone.root) is not inside a git repository's work tree; hld reads earlier versions of the definitions from the repository they are committed in\n")
    }

    @Test func theOldSidesFilesAreNamedAsGitNamesThemAndItsWarningsSayWhichSide() throws {
        let (project, repository) = try committed(subdirectory: "repo/east") { project in
            try project.edit("component.yaml") { $0 + "  hooks:\n    before-generate:\n    - echo \"in $PWD\" >&2; test -f fixed\n" }
            try project.write(["config/prod.yaml": "subcomponents:\n  webb: {}\n", "fixed": ""])
        }
        // The old side: a hook that fails in the component's directory, and a config key for no subcomponent.
        try project.edit("component.yaml") { $0.replacingOccurrences(of: "test -f fixed", with: "test -f broken") }
        try repository.commit("third")
        try project.edit("component.yaml") { $0.replacingOccurrences(of: "test -f broken", with: "test -f fixed") }
        let previous = String(try repository.git(["rev-parse", "HEAD"]).prefix(12))
        let result = try project.hld(["diff", "prod", "--base", "HEAD"])
        #expect(result.termination == .exited(2))
        #expect(result.stderr == """
            warning: prod at HEAD (\(previous)): config/prod.yaml:2:3: subcomponents.webb names no subcomponent of cluster (did you mean web?); its settings are not used
            warning: prod in the working tree: config/prod.yaml:2:3: subcomponents.webb names no subcomponent of cluster (did you mean web?); its settings are not used
            error: prod at HEAD (\(previous)): component.yaml:13:5: web: before-generate hook failed: `/bin/sh -c echo "in $PWD" >&2; test -f broken` exited with status 1: in HEAD:east
            error: cannot compare prod at HEAD (\(previous)) with prod in the working tree: prod at HEAD (\(previous)) did not render

            """)
    }

    @Test func anOldSideThatDoesNotRenderIsTrouble() throws {
        let (project, repository) = try committed { project in
            try project.write(["config/prod.yaml": "subcomponents:\n  web: [\n"])
        }
        // Broken now: the working tree fails.
        let broken = try project.hld(["diff", "prod", "--base", "HEAD~1"])
        #expect(broken.termination == .exited(2))
        #expect(broken.stdout == "")
        let previous = String(try repository.git(["rev-parse", "HEAD~1"]).prefix(12))
        #expect(broken.stderr == """
            error: prod in the working tree: config/prod.yaml:3:1: did not find expected node content at the end of the input (while parsing a flow node at 3:1)
            error: cannot compare prod at HEAD~1 (\(previous)) with prod in the working tree: prod in the working tree did not render

            """)
        // Fixed in the working tree, still broken at HEAD: the old side fails.
        try project.write(["config/prod.yaml": "{}\n"])
        let old = try project.hld(["diff", "prod", "--base", "HEAD"])
        let head = String(try repository.git(["rev-parse", "HEAD"]).prefix(12))
        #expect(old.termination == .exited(2))
        #expect(old.stdout == "")
        #expect(old.stderr == """
            error: prod at HEAD (\(head)): config/prod.yaml:3:1: did not find expected node content at the end of the input (while parsing a flow node at 3:1)
            error: cannot compare prod at HEAD (\(head)) with prod in the working tree: prod at HEAD (\(head)) did not render

            """)
        #expect(try FileManager.default.contentsOfDirectory(atPath: project.temporary) == [])
    }
}

private let defaultMarkdownLimit = 60_000
