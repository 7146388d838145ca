#ifndef CLETTERBOX_SHIMS_H
#define CLETTERBOX_SHIMS_H

/// renameat2(2) with RENAME_NOREPLACE: fails with EEXIST instead of replacing `newpath`.
int lb_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

/// renameat2(2) with RENAME_EXCHANGE: swaps two paths atomically (used to swap a fully built site in).
int lb_rename_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

#endif
