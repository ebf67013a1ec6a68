import Foundation
import Testing
import TestSupport

/// `--help` of the root command and of every subcommand, exactly (80 columns: stdout is
/// not a terminal here). A change to a flag or its help shows up as a diff to review.
@Suite struct HelpTests {
    func help(_ arguments: [String]) throws -> String {
        let result = try ChildProcess.run(hldBinary.path, arguments + ["--help"], environment: ["PATH": "/usr/bin:/bin", "COLUMNS": "80"])
        #expect(result.succeeded, "\(result.stderr)")
        return result.stdout
    }

    @Test func root() throws {
        #expect(try help([]) == #"""
        OVERVIEW: Materialize Fabrikate-style high-level definitions into Kubernetes
        manifests.

        Run in the directory of the top-level component (or pass -C): `hld materialize
        prod` resolves the component tree, fetches every git repository, chart and
        manifest it names into a shared cache, merges config/common with the
        environment's config, renders Helm charts, Kustomize directories and static
        manifests, and writes generated/prod/ atomically. `hld init` scaffolds a new
        HLD; `hld install` only fetches; `hld lock` pins every source per environment
        in hld.lock, `materialize --locked` renders exactly those pins, `hld promote
        dev stage` moves them (and the promoted config values) to the next environment
        and `hld drift` reports what has not been promoted; `hld set`, `hld add` and
        `hld remove` edit config and component files in place, keeping comments and
        formatting; `hld diff dev prod` (or `hld diff prod --base HEAD~1`) compares two
        renders resource by resource; `hld explain` shows a component's merged config
        with the file and line of each value; `hld tree` shows the resolved component
        tree; `hld fmt` re-emits manifests in hld's canonical style; `hld cache fetch`
        fetches git repositories, `hld cache info` shows what the cache holds and `hld
        cache prune` removes what was not used lately. Global options (-C, --jobs,
        --offline, --verbose, --quiet, --strict, --color, --helm, --kustomize,
        --cache-dir, --ca-file) go before or after the subcommand. Exit status: 0
        success, 1 failure (or differences for --check, diff and drift), 2 trouble for
        diff and drift, 64 usage errors.

        USAGE: hld <subcommand>

        OPTIONS:
          --version               Show the version.
          -h, --help              Show help information.

        SUBCOMMANDS:
          init                    Scaffold a new HLD: component.yaml, config files and
                                  hld.yaml.
          materialize, generate   Render the HLD for one or more environments into flat
                                  manifests.
          install                 Fetch every source of the HLD into the cache and run
                                  install hooks.
          lock                    Pin every moving reference of the HLD per environment
                                  in hld.lock.
          promote                 Move one environment's pins and promoted values to
                                  the next environment.
          drift                   Report what promotion would move between environments
                                  and has not.
          diff                    Compare two renders resource by resource: two
                                  environments, or the working tree against a commit.
          set                     Set config values in a component's config file,
                                  changing nothing else in it.
          add                     Add a subcomponent to the component file, or replace
                                  the one of that name in place.
          remove                  Remove a subcomponent from the component file,
                                  changing nothing else in it.
          explain                 Show a component's merged config with the file and
                                  line each value came from.
          tree                    Show the resolved component tree.
          cache                   Work with hld's cache.
          fmt                     Re-emit YAML or JSON manifests in hld's canonical
                                  Kubernetes style.
          version                 Print hld's version and the libyaml and libgit2
                                  versions it runs with.

          See 'hld help <subcommand>' for detailed help.

        """#)
    }

    @Test func initCommand() throws {
        #expect(try help(["init"]) == #"""
        OVERVIEW: Scaffold a new HLD: component.yaml, config files and hld.yaml.

        Writes component.yaml (a static manifests/ subcomponent and commented examples
        of Helm, git and Kustomize ones), manifests/namespace.yaml, config/common.yaml
        and config/<name>.yaml for each environment and group, and hld.yaml with the
        environments in promotion order, so that `hld materialize dev` works at once.
        The component is named after the directory unless --name is given. hld init
        never overwrites a file: when the directory already holds an HLD or any of
        these files, it names them and writes nothing.

        USAGE: hld init [<options>] [<dir>]

        ARGUMENTS:
          <dir>                   Where to create the HLD (created when missing;
                                  default: the current directory).

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --env <names>           The environments, in promotion order, separated by
                                  commas (default: dev,stage,prod).
          --groups <names>        Groups (regions, cluster groups), separated by
                                  commas: a second axis, each with its own config file.
          --name <name>           The component's name (default: the directory's name,
                                  in lowercase with '-' for other characters).
          --gitignore             Add generated/ to .gitignore (created when missing).
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func materialize() throws {
        #expect(try help(["materialize"]) == #"""
        OVERVIEW: Render the HLD for one or more environments into flat manifests.

        Environments (and groups) layer in command-line order: `hld materialize prod
        eastus` merges config/prod, then config/eastus, then config/common. The output
        goes to <output-dir>/<env1-env2…>/ (default generated/; `common` with no
        environment), replaced atomically: files that are no longer produced disappear.

        USAGE: hld materialize [<options>] [<environments> ...]

        ARGUMENTS:
          <environments>          Environments and groups, highest precedence first
                                  (default: hld.yaml's defaults, else common).

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --stdout                Write the manifests to standard output instead of the
                                  output directory.
          --check                 Write nothing; exit 1 and list the files when the
                                  output on disk differs.
          --output-dir <dir>      Where environment directories go. (default: generated)
          --allow-hooks           Run hooks of components fetched from git or http too.
          --format <format>       text, or json: the result (files, components with
                                  their pins, diagnostics, errors) as one JSON document
                                  on stdout. (default: text)
          --diff-lines <n>        With --check: show at most this many lines of the
                                  unified diff (0: none). (default: 200)
          --all                   Every environment of hld.yaml (each environment ×
                                  group pair when groups are declared), each into its
                                  own directory, in one run.
          --locked                Render exactly the pins of hld.lock; fail when the
                                  lock does not cover the definition.
          --frozen                --locked, and no network at all: everything must be
                                  in the cache.
          --into <repo>           Commit the manifests into this GitOps repository (a
                                  path; with --push any git URL) instead of writing
                                  them to disk.
          --branch <branch>       With --into: the branch to commit to, created when
                                  missing ({env} for one branch per environment).
                                  (default: main)
          --path <path>           With --into: the directory in the branch whose
                                  content the environment replaces ({env} expands;
                                  default: the root for one environment, {env} for
                                  several).
          --push                  With --into: fetch the branch, commit on its tip and
                                  push it (once more on a refused push).
          --message <text>        With --into: the commit message's subject (provenance
                                  trailers follow).
          --author <Name <email>> With --into: the commit's author (default:
                                  $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>, else hld
                                  <hld@localhost>).
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func generateIsAnAliasOfMaterialize() throws {
        #expect(try help(["generate"]) == (try help(["materialize"])))
    }

    @Test func install() throws {
        #expect(try help(["install"]) == #"""
        OVERVIEW: Fetch every source of the HLD into the cache and run install hooks.

        USAGE: hld install [<options>] [<environments> ...]

        ARGUMENTS:
          <environments>          Environments whose config may pin other branches or
                                  versions.

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --allow-hooks           Run hooks of components fetched from git or http too.
          --format <format>       text, or json: the components with their pins and the
                                  diagnostics as one JSON document on stdout. (default:
                                  text)
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func explain() throws {
        #expect(try help(["explain"]) == #"""
        OVERVIEW: Show a component's merged config with the file and line each value
        came from.

        Environments come first, highest precedence first (default: hld.yaml's
        defaults, else common): the leading arguments that hld.yaml declares as
        environments or groups, or, without hld.yaml, that the top-level component has
        a config/<name>.yaml (or .json) for. Then, optionally, the component: its path
        as messages and # Source: lines print it (infra/monitoring/prometheus) or its
        chain of entry names (infra/prometheus); default: the top-level component.
        Then, optionally, a key path (config.image.tag, config.hosts[0]) to show only
        that part. Every value and list item is annotated with the file:line:column
        that won: what the parent passes down (written in the parent's config or
        further up), then config/<env> in order, then config/common. The tree is
        resolved (sources fetched) but nothing is rendered and no hook runs.

        USAGE: hld explain [<options>] [<environment> ...] [<component> [<key-path>]]

        ARGUMENTS:
          <argument>              Environments, then a component, then a key path.

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --format <format>       text (the config as YAML, each value followed by a #
                                  file:line:column comment), or json (component,
                                  environments and every value with its path, file,
                                  line, column and layer). (default: text)
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func tree() throws {
        #expect(try help(["tree"]) == #"""
        OVERVIEW: Show the resolved component tree.

        Every component in definition order: its entry name, type, what its entry asks
        for and what that resolved to (a git commit, a chart version and digest, an
        http manifest's digest, a directory of the project), and, in their places, the
        entries the environments' config disables, with the file and line that disables
        them. The tree is resolved (sources fetched) but nothing is rendered and no
        hook runs.

        USAGE: hld tree [<options>] [<environments> ...]

        ARGUMENTS:
          <environments>          Environments and groups, highest precedence first
                                  (default: hld.yaml's defaults, else common).

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --format <format>       text (an indented tree), json (the tree with every
                                  pin, and the diagnostics), or dot (a Graphviz
                                  digraph: dot -Tsvg). (default: text)
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func cache() throws {
        #expect(try help(["cache"]) == #"""
        OVERVIEW: Work with hld's cache.

        USAGE: hld cache <subcommand>

        OPTIONS:
          --version               Show the version.
          -h, --help              Show help information.

        SUBCOMMANDS:
          fetch                   Fetch git repositories into the cache and print what
                                  each ref resolves to.
          info                    Show how much the cache holds, per kind of entry.
          prune                   Remove cache entries that were not used lately.

          See 'hld help cache <subcommand>' for detailed help.

        """#)
    }

    @Test func cacheFetch() throws {
        #expect(try help(["cache", "fetch"]) == #"""
        OVERVIEW: Fetch git repositories into the cache and print what each ref
        resolves to.

        Prints one line per URL: the commit, the tree at --path, and the URL
        (credentials removed). Each URL is fetched once, at most --jobs at a time;
        tokens come from access.yaml in the working directory or HLD_GIT_TOKEN_<HOST>;
        the mirrors of hld.yaml in the working directory and HLD_MIRRORS rewrite URL
        prefixes.

        USAGE: hld cache fetch [<options>] <urls> ...

        ARGUMENTS:
          <urls>                  Git URLs or absolute paths of repositories.

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --branch <branch>       The branch to resolve (default: the remote's default
                                  branch).
          --version <version>     A tag or commit id to resolve (wins over --branch).
          --path <path>           A directory inside the repository.
          --export                Also export the tree at --path into the cache.
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func fmt() throws {
        #expect(try help(["fmt"]) == #"""
        OVERVIEW: Re-emit YAML or JSON manifests in hld's canonical Kubernetes style.

        Parses every document of every file (aliases expanded, merge keys applied,
        duplicate keys rejected) and writes them to standard output, each starting with
        `---`: 2-space indent, block style, literal blocks for multi-line strings, and
        quotes on every string a YAML 1.1 or 1.2 reader would take for another type.
        Nothing is written unless every file parses.

        USAGE: hld fmt [-C <dir>] [--jobs <jobs>] [--offline] [--verbose] [--quiet] [--color <color>] [--strict] [--helm <path>] [--kustomize <path>] [--cache-dir <dir>] [--ca-file <file>] <files> ...

        ARGUMENTS:
          <files>                 YAML or JSON files to read.

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func version() throws {
        #expect(try help(["version"]) == #"""
        OVERVIEW: Print hld's version and the libyaml and libgit2 versions it runs with.

        USAGE: hld version [-C <dir>] [--jobs <jobs>] [--offline] [--verbose] [--quiet] [--color <color>] [--strict] [--helm <path>] [--kustomize <path>] [--cache-dir <dir>] [--ca-file <file>]

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func set() throws {
        #expect(try help(["set"]) == #"""
        OVERVIEW: Set config values in a component's config file, changing nothing else
        in it.

        Edits config/<env>.yaml (created when missing) of the component in the current
        directory (or -C), under `config:` — or under
        `subcomponents.<a>.subcomponents.<b>.config` with --subcomponent a.b. Values
        are read as YAML scalars: replicas=4 is a number, enabled=true a boolean,
        tag=v1.2 a string; text YAML readers disagree on (yes, 1.10.0, 0755) is written
        quoted. Quoted key segments keep their dots: '"app.kubernetes.io/name".x=y'.
        Comments, key order, quoting and blank lines of everything else stay as they
        were; setting a value the file already has leaves it byte for byte the same. A
        file that does not parse is not touched.

        USAGE: hld set [<options>] [<key.path=value> ...]

        ARGUMENTS:
          <key.path=value>        Values to set.

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --env, --environment <env>
                                  The config file to edit: config/<env>.yaml. (default:
                                  common)
          --subcomponent <a.b>    The subcomponent whose config to set, as a dotted
                                  chain of names (a.b).
          --string                Take every value as a string.
          -f, --file <values.yaml>
                                  A YAML file of values to set (maps are set key by
                                  key), applied before the key.path=value arguments.
          --no-new-config-keys    Fail, changing nothing, when a key (or the file) does
                                  not exist yet.
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func add() throws {
        #expect(try help(["add"]) == #"""
        OVERVIEW: Add a subcomponent to the component file, or replace the one of that
        name in place.

        Appends an entry to `subcomponents` of component.yaml (or .json) in the current
        directory (or -C), in the list's own style. An entry of the same name is
        replaced in place: the given fields are set, other source fields removed, its
        hooks and subcomponents kept. Without --method, the source says: oci:// or a
        chart repository with --type helm and --path is helm, an http(s) .yaml with
        --type static is http, another URL is git, a path is local. No branch is
        written unless given (the repository's default branch is followed). A file that
        does not parse is not touched.

        USAGE: hld add [<options>] <name>

        ARGUMENTS:
          <name>                  The subcomponent's name.

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --source <source>       A git URL, Helm repository URL, http(s) manifest URL
                                  or local path.
          --method <method>       local, git, helm or http (default: what the source
                                  implies). (values: local, git, helm, http)
          --type <type>           component, helm, static or kustomize (default:
                                  component). (values: component, helm, static,
                                  kustomize)
          --path <path>           A subdirectory of the source, or the chart name for
                                  method helm.
          --branch <branch>       The git branch to follow.
          --version <version>     A commit or tag (git), a chart version or constraint
                                  (helm).
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func remove() throws {
        #expect(try help(["remove"]) == #"""
        OVERVIEW: Remove a subcomponent from the component file, changing nothing else
        in it.

        Removes the entry's lines from `subcomponents` of component.yaml (or .json) in
        the current directory (or -C). Config files that still configure the name are
        listed; they are left as they are.

        USAGE: hld remove [-C <dir>] [--jobs <jobs>] [--offline] [--verbose] [--quiet] [--color <color>] [--strict] [--helm <path>] [--kustomize <path>] [--cache-dir <dir>] [--ca-file <file>] <name>

        ARGUMENTS:
          <name>                  The subcomponent's name.

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func lock() throws {
        #expect(try help(["lock"]) == #"""
        OVERVIEW: Pin every moving reference of the HLD per environment in hld.lock.

        Resolves the tree of each environment (with groups declared, each environment ×
        group pair) and records in hld.lock, keyed by component logical path, every
        source with the ref it asks for and what that resolved to: git commit and tree,
        chart version and digest, OCI digests, http content hashes; the values of
        hld.yaml's promote: paths; with promoteDefinitions, the HLD commit (HEAD) whose
        component files the environment renders. Sections of environments not named are
        kept. Nothing moved: the file stays byte for byte the same. `hld materialize
        --locked` renders exactly these pins; `hld promote` moves them from one
        environment to the next.

        USAGE: hld lock [<options>] [<environments> ...]

        ARGUMENTS:
          <environments>          Environments to pin (default: every environment of
                                  hld.yaml).

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func diff() throws {
        #expect(try help(["diff"]) == #"""
        OVERVIEW: Compare two renders resource by resource: two environments, or the
        working tree against a commit.

        Both sides are rendered (nothing is written) and their resources paired by
        apiVersion, kind, namespace and name, whatever file holds them: each is added,
        removed, or changed (with a unified diff of its canonical YAML; key order does
        not count). With --base, the old side is the HLD as commit <rev> of the git
        repository it is in has it (read through libgit2 into a private directory: no
        checkout, the work tree untouched) and the new side the working tree, both for
        the same environments (layered as for materialize). Secret values are never
        shown, only which keys of data and stringData changed. A render that fails is
        reported as that failure, never as its resources removed. Exit status: 0 same,
        1 different, 2 trouble (a render failed, no such revision), 64 usage errors.

        USAGE: hld diff [<options>] <env-a> <env-b>
               hld diff [<options>] [<environment> ...] --base <rev>

        ARGUMENTS:
          <environment>           The two environments, the old side first; with
                                  --base, the environments (and groups) both sides
                                  render, highest precedence first (default: hld.yaml's
                                  defaults, else common).

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --base <rev>            Compare the HLD at this revision of its git
                                  repository (HEAD~1, a branch, a tag, a commit id)
                                  with the working tree.
          --format <format>       text, markdown (for a pull-request comment: a summary
                                  table, then one collapsed section per changed
                                  resource, within --max-size), or json. (default: text)
          --ignore-labels <keys>  Label keys left out of every metadata.labels (pod
                                  templates' too) before comparing; comma-separated,
                                  repeatable: --ignore-labels
                                  helm.sh/chart,app.kubernetes.io/version.
          --max-size <n>          With --format markdown: at most this many characters
                                  (GitHub takes 65536 in a comment); what does not fit
                                  is cut, with a note. (default: 60000)
          --allow-hooks           Run hooks of components fetched from git or http too.
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func promote() throws {
        #expect(try help(["promote"]) == #"""
        OVERVIEW: Move one environment's pins and promoted values to the next
        environment.

        Copies <from>'s pins in hld.lock (git commits and trees, chart versions and
        digests, OCI and http digests; with promoteDefinitions, the definitions commit)
        onto <to> for every source both use, and sets the values of hld.yaml's promote:
        paths from <from>'s config files in <to>'s, editing them in place (comments and
        formatting kept). Nothing else moves: the rest of <to>'s config is its own.
        <to> must be the stage after <from> on hld.yaml's environments path unless
        --force. The result is an ordinary change to commit (promotion as a pull
        request).

        USAGE: hld promote [<options>] <from> <to>

        ARGUMENTS:
          <from>                  The environment to promote from.
          <to>                    The environment to promote to.

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --component <path>      Promote only these components (logical paths as
                                  hld.lock names them; the root's name may be left out).
          --force                 Allow skipping a stage of the promotion path, or
                                  promoting backwards.
          --dry-run               Show what would move; write nothing.
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func drift() throws {
        #expect(try help(["drift"]) == #"""
        OVERVIEW: Report what promotion would move between environments and has not.

        For each neighbouring pair of hld.yaml's promotion path (or the two
        environments named): the pins that differ (from hld.lock, or resolved now when
        there is none), with whether the first environment's commit or version is ahead
        of the second's; the promoted values (hld.yaml promote:) that differ in the
        config files; the definitions commit with promoteDefinitions; and, for
        information, how many rendered resources differ. Differences that come from
        environment config alone are not drift. Exit status: 0 no drift, 1 drift, 2
        trouble (a render or resolve failed), 64 usage errors.

        USAGE: hld drift [<options>] [<from> <to>]

        ARGUMENTS:
          <environment>           Two environments, the earlier one first (default:
                                  each neighbouring pair).

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --format <format>       text, markdown (a table per pair, for a pull-request
                                  comment), or json. (default: text)
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func cacheInfo() throws {
        #expect(try help(["cache", "info"]) == #"""
        OVERVIEW: Show how much the cache holds, per kind of entry.

        Prints the cache directory, then per kind (git mirrors, git trees, chart
        archives, chart indexes, OCI records, http URLs, http objects, renders,
        assembled charts, tools) the number of entries and the bytes of their files,
        what belongs to no entry (temporaries of interrupted runs, files other versions
        left), and the total. --format json gives exact byte counts for scripts.

        USAGE: hld cache info [-C <dir>] [--jobs <jobs>] [--offline] [--verbose] [--quiet] [--color <color>] [--strict] [--helm <path>] [--kustomize <path>] [--cache-dir <dir>] [--ca-file <file>] [--format <format>]

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --format <format>       text or json. (default: text)
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }

    @Test func cachePrune() throws {
        #expect(try help(["cache", "prune"]) == #"""
        OVERVIEW: Remove cache entries that were not used lately.

        Removes entries last used longer ago than --older-than, then, least recently
        used first, entries until the rest take at most --max-size; with neither,
        --older-than 30d. An entry is used when a run reads it (its .use file beside it
        records when). Never removed: an entry a running hld process is using or
        writing (it is skipped, and said so), and what the project's hld.lock pins (in
        the working directory, or -C): the mirrors and exported trees of pinned
        commits, pinned chart archives and http manifests, so that materialize --frozen
        still works. Prints each entry removed and the space freed; --dry-run prints
        what would go and removes nothing.

        USAGE: hld cache prune <options>

        OPTIONS:
          -C <dir>                Run as if started in <dir>.
          --jobs <jobs>           How many fetches and renders run at once. (default: 4)
          --offline               Use only what the cache holds; never contact a server.
          -v, --verbose           Say more about what happens (on stderr).
          -q, --quiet             Say nothing but errors.
          --color <color>         Colour error: and warning: (auto: on a terminal,
                                  unless NO_COLOR is set; always; never). (default:
                                  auto)
          --strict                Treat every warning as an error (a duplicate key in a
                                  chart's output, an unknown field, config for no
                                  subcomponent, …); nothing is written.
          --helm <path>           The helm to render charts with (default: $HLD_HELM,
                                  else helm on PATH).
          --kustomize <path>      The kustomize (or kubectl) to build kustomizations
                                  with (default: $HLD_KUSTOMIZE, else kustomize, else
                                  kubectl on PATH).
          --cache-dir <dir>       The cache directory (default: $HLD_CACHE_DIR,
                                  $XDG_CACHE_HOME/hld, ~/.cache/hld).
          --ca-file <file>        Trust only the CA certificates in this PEM file for
                                  HTTPS (git, chart repositories, registries, http
                                  manifests; default: $SSL_CERT_FILE, else the
                                  system's).
          --older-than <age>      Remove entries last used longer ago than this: a
                                  number with s, m, h, d or w (90m, 12h, 30d).
          --max-size <size>       Then remove the least recently used entries until the
                                  rest take at most this: bytes, or a number with K, M,
                                  G or T (500M, 5G; powers of 1024).
          --dry-run               Print what would be removed; remove nothing.
          --format <format>       text or json. (default: text)
          --version               Show the version.
          -h, --help              Show help information.


        """#)
    }
}
