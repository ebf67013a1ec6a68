#ifndef HLD_CGIT2_SHIM_H
#define HLD_CGIT2_SHIM_H

// Only the non-deprecated API: a deprecated call fails to compile instead of lingering.
#define GIT_DEPRECATE_HARD 1
#include <git2.h>

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

/// Turns libgit2's object-creation hash verification on or off (`GIT_OPT_ENABLE_STRICT_OBJECT_CREATION`).
static inline int hld_git_enable_strict_object_creation(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, enabled);
}

#endif
