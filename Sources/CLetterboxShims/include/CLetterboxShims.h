#ifndef CLETTERBOX_SHIMS_H
#define CLETTERBOX_SHIMS_H

/// renameat2(2) with RENAME_NOREPLACE: fails with EEXIST instead of replacing `newpath`.
int lb_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

/// renameat2(2) with RENAME_EXCHANGE: swaps two paths atomically (used to swap a fully built site in).
int lb_rename_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

/// Opens `path` (relative) beneath the folder `dirfd` without following any symbolic link on the way
/// or at the end, and without leaving the folder (openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
/// a component-by-component O_NOFOLLOW walk where the kernel lacks openat2). A symlink anywhere in the
/// path fails with ELOOP; `..` fails with EXDEV. `mode` is used with O_CREAT.
int lb_open_beneath(int dirfd, const char *path, int flags, unsigned int mode);

#endif
