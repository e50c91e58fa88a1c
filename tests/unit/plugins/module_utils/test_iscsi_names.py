# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import (
    InvalidName, Portal, format_portal, names_equal, parse_portal, validate_name,
)


@pytest.mark.parametrize('name', [
    'iqn.2026-11.lab.san-iscsi:host1',
    'iqn.1993-08.org.debian:01:e1f2a3b4c5d6',
    'iqn.2003-01.org.linux-iscsi.san.x8664:sn.0123456789ab',
    'iqn.1991-05.com.microsoft:host.Example.COM',
    'iqn.2001-04.com.example',
    'eui.02004567A425678D',
    'naa.52004567BA64678D',
    'naa.62004567BA64678D0123456789ABCDEF',
])
def test_valid_names(name):
    assert validate_name(name) == name


@pytest.mark.parametrize('name, fragment', [
    ('', 'is empty'),
    ('iqn.2026-11.lab.san-iscsi:host 1', "' '"),
    ('iqn.2026-11.lab.san_iscsi:host1', "'_'"),
    ('iqn.26-11.lab.san-iscsi:host1', 'iqn.YYYY-MM.reversed.domain'),
    ('iqn.2026-13.lab.san-iscsi:host1', 'not a valid year-month'),
    ('iqn.2026-00.lab.san-iscsi:host1', 'not a valid year-month'),
    ('iqn.2026-11.localhost:host1', 'reversed domain name'),
    ('iqn.2026-11.-lab.example:x', 'reversed domain name'),
    ('iqn.2026-11.lab.example:', 'nothing after it'),
    ('eui.02004567A425678', '16 hex digits'),
    ('eui.02004567A425678DZ', '16 hex digits'),
    ('naa.52004567BA64678D01', '16 or 32 hex digits'),
    ('naa.5200456XBA64678D', '16 or 32 hex digits'),
    ('host1.example.com', 'must start with'),
    (' iqn.2026-11.lab.san-iscsi:host1', 'white space'),
    ('iqn.2026-11.lab.san-iscsi:' + 'a' * 200, 'longer than 223 bytes'),
])
def test_invalid_names_say_why(name, fragment):
    with pytest.raises(InvalidName) as caught:
        validate_name(name)
    assert fragment in str(caught.value)


def test_223_bytes_is_the_limit():
    base = 'iqn.2026-11.lab.san-iscsi:'
    assert validate_name(base + 'a' * (223 - len(base)))
    with pytest.raises(InvalidName):
        validate_name(base + 'a' * (224 - len(base)))


def test_names_compare_case_insensitively_but_never_by_prefix():
    assert names_equal('IQN.2026-11.Lab.San-iSCSI:Host1', 'iqn.2026-11.lab.san-iscsi:host1')
    assert not names_equal('iqn.2026-11.lab.san-iscsi:host1', 'iqn.2026-11.lab.san-iscsi:host10')
    assert not names_equal(None, 'iqn.2026-11.lab.san-iscsi:host1')


@pytest.mark.parametrize('text, expected', [
    ('10.10.1.1', Portal('10.10.1.1', 3260, None)),
    ('10.10.1.1:3261', Portal('10.10.1.1', 3261, None)),
    ('10.10.1.1:3260,1', Portal('10.10.1.1', 3260, 1)),
    ('[fd5a:1::1]:3260', Portal('fd5a:1::1', 3260, None)),
    ('[fd5a:1::1]', Portal('fd5a:1::1', 3260, None)),
    ('[fd5a:1::1]:3260,4294967295', Portal('fd5a:1::1', 3260, 4294967295)),
    ('fd5a:1::1', Portal('fd5a:1::1', 3260, None)),
    ('san.example.com:3260', Portal('san.example.com', 3260, None)),
    (' 10.10.2.1 ', Portal('10.10.2.1', 3260, None)),
])
def test_parse_portal(text, expected):
    assert parse_portal(text) == expected


def test_parse_portal_lenient_accepts_iscsiadm_unbracketed_ipv6_with_port():
    assert parse_portal('fd5a:1::1:3260,1', lenient=True) == Portal('fd5a:1::1', 3260, 1)
    # without lenient the same text is a bare (valid) IPv6 address: port from the default
    assert parse_portal('fd5a:1::1:3260') == Portal('fd5a:1::1:3260', 3260, None)


@pytest.mark.parametrize('text, fragment', [
    ('', 'empty'),
    (':3260', 'has no host'),
    ('[]:3260', 'not a valid IPv6'),
    ('[fd5a:1::1:3260', 'without a closing'),
    ('[fd5a:1:::1]:3260', 'not a valid IPv6'),
    ('fd5a:1:::1', 'malformed IPv6'),
    ('[10.10.1.1]:3260', 'not a valid IPv6'),
    ('10.10.1.1:http', 'port'),
    ('10.10.1.1:0', 'port'),
    ('10.10.1.1:65536', 'port'),
    ('10.10.1.300', 'not a valid IPv4'),
    ('10.10.1.1:3260,x', 'portal group tag'),
    ('bad_host:3260', 'valid host name'),
    ('[fd5a:1::1]3260', 'expected ":port"'),
])
def test_parse_portal_errors(text, fragment):
    with pytest.raises(InvalidName) as caught:
        parse_portal(text)
    assert fragment in str(caught.value)


def test_portal_address_and_key():
    portal = parse_portal('[FD5A:0001:0::1]:3260,1')
    assert portal.address == '[FD5A:0001:0::1]:3260'
    assert portal.key == ('fd5a:1::1', 3260)
    assert portal.same_as(parse_portal('fd5a:1::1'))
    assert not portal.same_as(parse_portal('[fd5a:1::1]:3261'))
    assert parse_portal('SAN.Example.com.').same_as(parse_portal('san.example.com:3260'))
    assert format_portal('10.10.1.1') == '10.10.1.1:3260'
    assert format_portal('fd5a:1::1', 3261) == '[fd5a:1::1]:3261'
