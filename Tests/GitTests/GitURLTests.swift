import Testing
@testable import Git

@Suite struct GitURLTests {
    @Test(arguments: [
        ("https://github.com/microsoft/fabrikate-definitions", "https://github.com/microsoft/fabrikate-definitions"),
        ("https://GitHub.COM/microsoft/fabrikate-definitions.git", "https://github.com/microsoft/fabrikate-definitions"),
        ("https://github.com/microsoft/fabrikate-definitions.git/", "https://github.com/microsoft/fabrikate-definitions"),
        ("https://user:s3cret@github.com/microsoft/fabrikate-definitions", "https://github.com/microsoft/fabrikate-definitions"),
        ("HTTPS://token@github.com/microsoft/Fabrikate-Definitions/", "https://github.com/microsoft/Fabrikate-Definitions"),
        ("git://127.0.0.1:9418/repo.git", "git://127.0.0.1:9418/repo"),
        ("ssh://git@github.com/org/repo.git", "ssh://github.com/org/repo"),
        ("git@github.com:org/repo.git", "ssh://github.com/org/repo"),
        ("/srv/git/repo.git", "file:///srv/git/repo"),
        ("/srv/git/./sub/../repo/", "file:///srv/git/repo"),
        ("file:///srv/git/repo.git", "file:///srv/git/repo"),
    ])
    func normalizesTheCacheKey(url: String, key: String) throws {
        #expect(try GitURL(url).key == key)
    }

    @Test func credentialsNeverReachTransportKeyOrCachePath() throws {
        let url = try GitURL("https://ci-bot:ghp_SECRET123@github.com/org/private.git")
        #expect(url.transport == "https://github.com/org/private.git")
        #expect(url.user == "ci-bot")
        #expect(!url.key.contains("SECRET"))
        #expect(!url.cacheName.contains("SECRET"))
        #expect(url.redacted == "https://ci-bot:***@github.com/org/private.git")
        #expect(url.description == url.redacted)
        #expect(try GitURL("https://ghp_SECRET@github.com/x").redacted == "https://***@github.com/x")
        #expect(try GitURL("https://github.com/org/private").cacheName == url.cacheName)
    }

    @Test func redactsEveryURLInAMessage() {
        let message = "failed to fetch 'https://me:tok@host/a.git' and http://tok2@h2/b, ssh://git@h3/c kept"
        #expect(GitURL.redact(message) == "failed to fetch 'https://me:***@host/a.git' and http://***@h2/b, ssh://git@h3/c kept")
    }

    @Test func rejectsWhatIsNoGitURL() {
        #expect(throws: GitSourceError.self) { try GitURL("") }
        #expect(throws: GitSourceError.self) { try GitURL("ftp://host/repo") }
        #expect(throws: GitSourceError.self) { try GitURL("relative/path") }
    }

    @Test func rewritesTakeTheLongestPrefix() throws {
        let rewrites = URLRewrites(["https://github.com/": "file:///srv/mirror/", "https://github.com/special/": "git://127.0.0.1/special/"])
        #expect(rewrites.apply("https://github.com/org/repo") == "file:///srv/mirror/org/repo")
        #expect(rewrites.apply("https://github.com/special/repo") == "git://127.0.0.1/special/repo")
        #expect(rewrites.apply("https://gitlab.com/org/repo") == "https://gitlab.com/org/repo")
        let env = try URLRewrites.fromEnvironment(["HLD_GIT_MIRRORS": "https://github.com/=file:///m/  https://x.org/=/srv/x/"])
        #expect(env.apply("https://x.org/a") == "/srv/x/a")
        #expect(env.merging(URLRewrites(["https://x.org/": "/other/"])).apply("https://x.org/a") == "/other/a")
        #expect(throws: GitSourceError.self) { try URLRewrites.fromEnvironment(["HLD_GIT_MIRRORS": "no-equals-sign"]) }
        // HLD_MIRRORS is the name; HLD_GIT_MIRRORS stays as an alias and loses to it.
        let both = try URLRewrites.fromEnvironment(["HLD_MIRRORS": "https://x.org=/new/", "HLD_GIT_MIRRORS": "https://x.org/=/old/ https://y.org=/y/"])
        #expect(both.apply("https://x.org/a") == "/new/a")
        #expect(both.apply("https://y.org/b") == "/y/b")
    }

    @Test(arguments: [
        // A trailing slash on either side does not matter.
        ("https://charts.googleapis.com/", "http://127.0.0.1:8080/stable/", "https://charts.googleapis.com", "http://127.0.0.1:8080/stable"),
        ("https://charts.googleapis.com", "http://127.0.0.1:8080/stable", "https://charts.googleapis.com/index.yaml", "http://127.0.0.1:8080/stable/index.yaml"),
        ("https://charts.googleapis.com/", "http://127.0.0.1:8080/stable/", "https://charts.googleapis.com/index.yaml", "http://127.0.0.1:8080/stable/index.yaml"),
        ("https://charts.googleapis.com", "http://127.0.0.1:8080/stable/", "https://charts.googleapis.com/a-1.0.tgz", "http://127.0.0.1:8080/stable/a-1.0.tgz"),
        // A prefix ending in a name matches at a path boundary only.
        ("https://github.com/org", "file:///m/org", "https://github.com/organisation/x", "https://github.com/organisation/x"),
        ("https://github.com/org", "file:///m/org", "https://github.com/org/x", "file:///m/org/x"),
        // A prefix ending in a separator goes on without a slash.
        ("git@github.com:", "file:///srv/git/", "git@github.com:org/x.git", "file:///srv/git/org/x.git"),
        ("oci://ghcr.io/charts", "oci://127.0.0.1:5000/charts", "oci://ghcr.io/charts/web", "oci://127.0.0.1:5000/charts/web"),
    ])
    func rewritesIgnoreTrailingSlashes(prefix: String, replacement: String, url: String, expected: String) {
        #expect(URLRewrites([prefix: replacement]).apply(url) == expected)
    }

    @Test func tokensComeFromTheURLThenAccessYAMLThenTheHostVariable() throws {
        let env = ["HLD_GIT_TOKEN_GITHUB_COM": "host-token", "REPO_TOKEN": "repo-token", "EMPTY": ""]
        let credentials = GitCredentials(accessTokens: ["https://github.com/org/private": "REPO_TOKEN", "https://github.com/org/empty": "EMPTY"], environment: env, sshKeyFiles: [])
        #expect(credentials.token(for: try GitURL("https://github.com/org/private.git"))?.token == "repo-token")
        #expect(credentials.token(for: try GitURL("https://github.com/org/private.git"))?.source == "$REPO_TOKEN (access.yaml)")
        #expect(credentials.token(for: try GitURL("https://github.com/org/other"))?.token == "host-token")
        #expect(credentials.token(for: try GitURL("https://github.com/org/empty"))?.token == "host-token")
        #expect(credentials.token(for: try GitURL("https://u:inline@github.com/org/private"))?.token == "inline")
        #expect(credentials.token(for: try GitURL("https://gitlab.com/org/x")) == nil)
        #expect(GitCredentials.hostVariable("127.0.0.1") == "HLD_GIT_TOKEN_127_0_0_1")
    }

    @Test(arguments: [("", [String]()), ("./charts/app", ["charts", "app"]), ("a/../b", ["b"]), ("/abs/x/", ["abs", "x"])])
    func pathComponentsStayInside(path: String, parts: [String]) {
        #expect(MirrorStore.components(of: path) == parts)
    }

    @Test(arguments: ["..", "../x", "a/../../x", "./../a"])
    func pathsThatLeaveTheTree(path: String) {
        #expect(MirrorStore.components(of: path) == nil)
    }

    @Test func fabrikateRefFields() {
        #expect(GitRef(branch: nil, version: nil) == .defaultBranch)
        #expect(GitRef(branch: "dev", version: nil) == .branch("dev"))
        #expect(GitRef(branch: "dev", version: "v1.2") == .version("v1.2"))
        #expect(GitRef(branch: "", version: "") == .defaultBranch)
    }
}
