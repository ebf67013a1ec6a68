import ArgumentParser
import HLD

extension HLDCommand {
    struct Version: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "version",
            abstract: "Print hld's version and the libyaml and libgit2 versions it runs with."
        )

        /// Accepted as everywhere (`hld -q version`), though nothing here uses them.
        @OptionGroup var global: GlobalOptions

        func run() {
            let info = BuildInfo.current
            print("hld \(info.hld)")
            print("libyaml \(info.libyaml)")
            print("libgit2 \(info.libgit2)")
            print("git fetches: \(info.gitFetches)")
        }
    }
}
