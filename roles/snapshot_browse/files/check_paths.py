# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Refuse restore paths that leave the snapshot root; run on the browse host before anything is copied.

  check_paths.py ROOT PATH [PATH ...]

A path must be relative, without '..', exist in the snapshot, and resolve (symlinks followed) inside ROOT;
inside a directory, every symlink must point inside ROOT as well. Prints JSON
{"paths": [{"path", "type", "size"}], "refused": [{"path", "reason"}]} and exits 1 when anything is refused.
"""

import json
import os
import stat
import sys


def inside(root, real):
    return real == root or real.startswith(root.rstrip('/') + '/')


def link_escapes(root, link):
    target = os.readlink(link)
    resolved = os.path.realpath(os.path.join(os.path.dirname(link), target))
    return None if inside(root, resolved) else 'symlink %s -> %s points outside the snapshot' % (
        os.path.relpath(link, root), target)


def check_tree(root, top):
    for directory, dirs, files in os.walk(top):
        for name in dirs + files:
            full = os.path.join(directory, name)
            if os.path.islink(full):
                reason = link_escapes(root, full)
                if reason:
                    return reason
    return None


def check(root, path):
    if not path or path.startswith('/') or '\0' in path:
        return None, 'must be a non-empty path relative to the snapshot root'
    if '..' in path.split('/'):
        return None, "may not contain '..'"
    full = os.path.join(root, path)
    if not os.path.lexists(full):
        return None, 'does not exist in the snapshot'
    parent_real = os.path.realpath(os.path.dirname(full.rstrip('/')))
    if not inside(root, parent_real):
        return None, 'a directory on the way is a symlink that leaves the snapshot'
    info = os.lstat(full)
    if stat.S_ISLNK(info.st_mode):
        reason = link_escapes(root, full)
        return (None, reason) if reason else (dict(path=path, type='symlink', size=0), None)
    if stat.S_ISDIR(info.st_mode):
        reason = check_tree(root, full)
        return (None, reason) if reason else (dict(path=path, type='directory', size=0), None)
    kind = 'file' if stat.S_ISREG(info.st_mode) else 'special'
    return dict(path=path, type=kind, size=info.st_size), None


def main(argv):
    root = os.path.realpath(argv[1])
    found, refused = [], []
    for path in argv[2:]:
        entry, reason = check(root, path)
        if reason:
            refused.append(dict(path=path, reason=reason))
        else:
            found.append(entry)
    print(json.dumps(dict(paths=found, refused=refused)))
    return 1 if refused else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
