# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether this host reaches an iSCSI portal: a TCP connection to it, opened and closed at once (no iSCSI
login, nothing sent). The one place modules open network connections to portals themselves; everything else
goes through iscsiadm."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import time

RETRY_SECONDS = 0.5


def probe(portal, timeout, connect=socket.create_connection, clock=time.monotonic, sleep=time.sleep):
    """Try a TCP connection to PORTAL (a _iscsi_names.Portal) until one is accepted or TIMEOUT seconds are up.

    A refused or failed connection is tried again every RETRY_SECONDS (a portal that is coming up, as
    ansible.builtin.wait_for does); the deadline bounds the loop. Returns a dict: portal, reachable, error (the
    last failure, or None), seconds (taken).
    """
    start = clock()
    deadline = start + timeout
    error = 'no answer within %s s' % timeout
    while True:
        remaining = deadline - clock()
        if remaining <= 0:
            break
        try:
            connection = connect((portal.host, portal.port), timeout=remaining)
        except (OSError, socket.timeout) as exc:  # refused, unreachable, timed out, name not resolved
            error = str(exc) or exc.__class__.__name__
        else:
            connection.close()
            return dict(portal=portal.address, reachable=True, error=None, seconds=round(clock() - start, 3))
        if deadline - clock() <= RETRY_SECONDS:
            break
        sleep(RETRY_SECONDS)
    return dict(portal=portal.address, reachable=False, error=error, seconds=round(clock() - start, 3))
