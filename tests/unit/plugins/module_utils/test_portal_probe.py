# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_portal_probe against real sockets on loopback, and its retry loop on a fake clock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import parse_portal
from ansible_collections.san.iscsi.plugins.module_utils._portal_probe import RETRY_SECONDS, probe
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_devices import Clock


def free_port():
    """A loopback port nobody listens on (bound, then closed: a connection to it is refused)."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_a_listening_portal_is_reachable():
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        result = probe(parse_portal('127.0.0.1:%d' % port), timeout=5)
    finally:
        server.close()
    assert result['portal'] == '127.0.0.1:%d' % port
    assert result['reachable'] is True and result['error'] is None
    assert 0 <= result['seconds'] < 5


def test_a_refusing_portal_is_tried_until_the_deadline_then_reported():
    port = free_port()
    result = probe(parse_portal('127.0.0.1:%d' % port), timeout=1)
    assert result['reachable'] is False
    assert 'refused' in result['error'].lower()
    assert result['portal'] == '127.0.0.1:%d' % port
    assert 1 - RETRY_SECONDS <= result['seconds'] < 3


def refusing(clock, connects):
    """A connect() that records (address, timeout), takes 10 ms on CLOCK and is refused."""
    def connect(address, timeout):
        connects.append((address, timeout))
        clock.now += 0.01
        raise ConnectionRefusedError(111, 'Connection refused')
    return connect


def test_the_loop_is_bounded_by_the_timeout():
    clock, connects = Clock(), []
    result = probe(parse_portal('[fd5a:1::1]:3260'), timeout=3, connect=refusing(clock, connects), clock=clock,
                   sleep=clock.sleep)
    assert result == {'portal': '[fd5a:1::1]:3260', 'reachable': False, 'error': '[Errno 111] Connection refused',
                      'seconds': result['seconds']}
    assert 5 <= len(connects) <= 7  # every half second for 3 s
    assert connects[0] == (('fd5a:1::1', 3260), 3)
    assert all(0 < timeout <= 3 for _address, timeout in connects)
    assert result['seconds'] <= 3


def test_a_portal_that_never_answers_costs_one_connection_timeout():
    clock = Clock()

    def hang(address, timeout):
        clock.now += timeout
        raise socket.timeout('timed out')

    result = probe(parse_portal('192.0.2.1'), timeout=2, connect=hang, clock=clock, sleep=clock.sleep)
    assert result['reachable'] is False and result['error'] == 'timed out' and result['seconds'] == 2
