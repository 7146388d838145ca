#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>
#include "CLetterboxShims.h"

int lb_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_NOREPLACE);
}

int lb_rename_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_EXCHANGE);
}

/* Walks `path` one component at a time with O_NOFOLLOW: the fallback for kernels without openat2. */
static int open_beneath_walk(int dirfd, const char *path, int flags, unsigned int mode) {
    char buffer[PATH_MAX];
    size_t length = strlen(path);
    if (length == 0 || length >= sizeof buffer || path[0] == '/') {
        errno = EINVAL;
        return -1;
    }
    memcpy(buffer, path, length + 1);
    int current = dirfd;
    char *component = buffer;
    for (;;) {
        char *slash = strchr(component, '/');
        if (slash == NULL) break;
        *slash = '\0';
        if (strcmp(component, "..") == 0 || strcmp(component, ".") == 0 || component[0] == '\0') {
            if (current != dirfd) close(current);
            errno = EXDEV;
            return -1;
        }
        int next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int saved = errno;
        if (current != dirfd) close(current);
        if (next < 0) {
            errno = saved;
            return -1;
        }
        current = next;
        component = slash + 1;
    }
    if (strcmp(component, "..") == 0 || strcmp(component, ".") == 0) {
        if (current != dirfd) close(current);
        errno = EXDEV;
        return -1;
    }
    int fd = openat(current, component, flags | O_NOFOLLOW, (mode_t)mode);
    int saved = errno;
    if (current != dirfd) close(current);
    errno = saved;
    return fd;
}

int lb_open_beneath(int dirfd, const char *path, int flags, unsigned int mode) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(flags | O_NOFOLLOW);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
        /* No openat2 (an old kernel, or a seccomp filter that refuses it): walk the path instead. */
        return open_beneath_walk(dirfd, path, flags, mode);
    }
    return (int)fd;
}
