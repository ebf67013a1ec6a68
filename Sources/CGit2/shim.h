#ifndef HLD_CGIT2_SHIM_H
#define HLD_CGIT2_SHIM_H

// Only the non-deprecated API: a deprecated call fails to compile instead of lingering.
#define GIT_DEPRECATE_HARD 1
#include <git2.h>
// libgit2 1.8 moved git_error_set_str (the credential callback's message) here.
#if LIBGIT2_VER_MAJOR > 1 || (LIBGIT2_VER_MAJOR == 1 && LIBGIT2_VER_MINOR >= 8)
#include <git2/sys/errors.h>
#endif

// Shallow fetches (`git_fetch_options.depth`) came with libgit2 1.7; these headers may be
// older (Debian 12's 1.5), so the field is only touched when it exists.
#if LIBGIT2_VER_MAJOR > 1 || (LIBGIT2_VER_MAJOR == 1 && LIBGIT2_VER_MINOR >= 7)
#define HLD_GIT_HEADERS_HAVE_DEPTH 1
#else
#define HLD_GIT_HEADERS_HAVE_DEPTH 0
#endif

/// 1 when hld was compiled against headers with `git_fetch_options.depth`.
static inline int hld_git_headers_have_depth(void) { return HLD_GIT_HEADERS_HAVE_DEPTH; }

/// Sets the fetch depth (0: full history as today; INT32_MAX: unshallow); -1 when the
/// headers have no such field, and nothing is set.
static inline int hld_git_fetch_options_set_depth(git_fetch_options *options, int depth) {
#if HLD_GIT_HEADERS_HAVE_DEPTH
    options->depth = depth;
    return 0;
#else
    (void)options;
    (void)depth;
    return -1;
#endif
}

// git_libgit2_opts is variadic, which Swift cannot call; these wrappers fix one
// signature per option the project uses.

/// Sets where libgit2 looks for the global/XDG/system config (`GIT_OPT_SET_SEARCH_PATH`).
static inline int hld_git_set_config_search_path(git_config_level_t level, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, (int)level, path);
}

/// Reads the config search path of one level (`GIT_OPT_GET_SEARCH_PATH`).
static inline int hld_git_get_config_search_path(git_config_level_t level, git_buf *out) {
    return git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH, (int)level, out);
}

/// Makes `file` (PEM) the only CA certificates libgit2 trusts for HTTPS
/// (`GIT_OPT_SET_SSL_CERT_LOCATIONS`).
static inline int hld_git_set_ssl_cert_file(const char *file) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, NULL);
}

/// Turns libgit2's object-creation hash verification on or off (`GIT_OPT_ENABLE_STRICT_OBJECT_CREATION`).
static inline int hld_git_enable_strict_object_creation(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, enabled);
}

#endif
