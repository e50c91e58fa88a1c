# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""iSCSI names (RFC 3720 3.2.6) and portals ("host[:port][,tpgt]", IPv6 in brackets).

Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
from collections import namedtuple

DEFAULT_PORT = 3260
MAX_NAME_BYTES = 223

_IQN_RE = re.compile(r'^iqn\.(?P<year>\d{4})-(?P<month>\d{2})\.(?P<authority>[^:]+)(?::(?P<unique>.*))?$')
_LABEL_RE = re.compile(r'^[a-z0-9]([a-z0-9-]*[a-z0-9])?$')
_ALLOWED_RE = re.compile(r'^[a-z0-9.:-]+$')
_EUI_RE = re.compile(r'^eui\.[0-9a-f]{16}$')
_NAA_RE = re.compile(r'^naa\.([0-9a-f]{16}|[0-9a-f]{32})$')
_HOSTNAME_RE = re.compile(r'^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$')


class InvalidName(ValueError):
    """An iSCSI name or portal that does not follow the rules; the message says which rule."""


def normalize_name(name):
    """iSCSI names are case-insensitive (RFC 3722 maps them to lower case): the comparison key."""
    return name.strip().lower()


def names_equal(left, right):
    if left is None or right is None:
        return left is right
    return normalize_name(left) == normalize_name(right)


def validate_name(name, what='iSCSI name'):
    """Return the name unchanged when it is a valid iqn./eui./naa. name, else raise InvalidName."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidName('%s is empty' % what)
    if name != name.strip():
        raise InvalidName('%s %r has leading or trailing white space' % (what, name))
    if len(name.encode('utf-8')) > MAX_NAME_BYTES:
        raise InvalidName('%s %r is longer than %d bytes (RFC 3720 3.2.6.1)' % (what, name, MAX_NAME_BYTES))
    lowered = name.lower()
    if lowered.startswith('iqn.'):
        _validate_iqn(name, lowered, what)
    elif lowered.startswith('eui.'):
        if not _EUI_RE.match(lowered):
            raise InvalidName('%s %r: an eui. name is "eui." followed by exactly 16 hex digits (RFC 3720 3.2.6.3.2)'
                              % (what, name))
    elif lowered.startswith('naa.'):
        if not _NAA_RE.match(lowered):
            raise InvalidName('%s %r: a naa. name is "naa." followed by 16 or 32 hex digits (RFC 3980)'
                              % (what, name))
    else:
        raise InvalidName('%s %r must start with "iqn.", "eui." or "naa." (RFC 3720 3.2.6.3)' % (what, name))
    return name


def _validate_iqn(name, lowered, what):
    if not _ALLOWED_RE.match(lowered):
        bad = sorted(set(ch for ch in lowered if not _ALLOWED_RE.match(ch)))
        raise InvalidName('%s %r contains characters not allowed in an iSCSI name: %s '
                          '(allowed: letters, digits, "-", ".", ":")' % (what, name, ' '.join(repr(c) for c in bad)))
    match = _IQN_RE.match(lowered)
    if not match:
        raise InvalidName('%s %r: an iqn. name is "iqn.YYYY-MM.reversed.domain[:unique]" (RFC 3720 3.2.6.3.1)'
                          % (what, name))
    month = int(match.group('month'))
    if not 1 <= month <= 12 or int(match.group('year')) < 1970:
        raise InvalidName('%s %r: the date %s-%s is not a valid year-month' % (
            what, name, match.group('year'), match.group('month')))
    labels = match.group('authority').split('.')
    if len(labels) < 2 or not all(_LABEL_RE.match(label) for label in labels):
        raise InvalidName('%s %r: the naming authority %r is not a reversed domain name such as "com.example"'
                          % (what, name, match.group('authority')))
    if match.group('unique') is not None and match.group('unique') == '':
        raise InvalidName('%s %r ends with ":" but has nothing after it' % (what, name))


class Portal(namedtuple('Portal', ['host', 'port', 'tpgt'])):
    """A target portal. host is a bare address (no brackets); tpgt is None when unknown."""

    __slots__ = ()

    @property
    def is_ipv6(self):
        return ':' in self.host

    @property
    def address(self):
        """host:port as iscsiadm --portal takes it, IPv6 in brackets."""
        return format_portal(self.host, self.port)

    @property
    def key(self):
        """Comparison key: canonical address form, host names case-insensitive, tpgt ignored."""
        return (canonical_host(self.host), int(self.port))

    def same_as(self, other):
        return self.key == other.key


def canonical_host(host):
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host.lower().rstrip('.')


def format_portal(host, port=DEFAULT_PORT):
    if ':' in host:
        return '[%s]:%d' % (host, int(port))
    return '%s:%d' % (host, int(port))


def _split_tpgt(text, lenient):
    if ',' not in text:
        return text, None
    rest, tpgt = text.rsplit(',', 1)
    if lenient and tpgt == '-1':  # iscsiadm -P 1 prints records without a tpgt as ",-1"
        return rest, -1
    if not tpgt.isdigit():
        raise InvalidName('portal %r: the target portal group tag after "," must be a number' % text)
    return rest, int(tpgt)


def _parse_port(port_text, original):
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InvalidName('portal %r: port %r is not a number between 1 and 65535' % (original, port_text))
    return int(port_text)


def _split_host_port(text, original, default_port, lenient):
    if text.startswith('['):
        end = text.find(']')
        if end < 0:
            raise InvalidName('portal %r: "[" without a closing "]"' % original)
        host, tail = text[1:end], text[end + 1:]
        if tail and not tail.startswith(':'):
            raise InvalidName('portal %r: expected ":port" after "]"' % original)
        port = _parse_port(tail[1:], original) if tail else default_port
        _check_ipv6(host, original)
        return host, port
    if text.count(':') > 1:
        return _split_bare_ipv6(text, original, default_port, lenient)
    if ':' in text:
        host, port_text = text.rsplit(':', 1)
        return host, _parse_port(port_text, original)
    return text, default_port


def _split_bare_ipv6(text, original, default_port, lenient):
    host, port_text = text.rsplit(':', 1)
    # iscsiadm output always carries the port, so there the last group is the port
    if lenient and _is_ipv6(host) and port_text.isdigit():
        return host, _parse_port(port_text, original)
    if _is_ipv6(text):
        return text, default_port
    raise InvalidName('portal %r: malformed IPv6 address; write IPv6 portals as "[address]:port"' % original)


def _is_ipv6(text):
    try:
        return isinstance(ipaddress.ip_address(text), ipaddress.IPv6Address)
    except ValueError:
        return False


def _check_ipv6(host, original):
    if not _is_ipv6(host):
        raise InvalidName('portal %r: %r in brackets is not a valid IPv6 address' % (original, host))


def _check_host(host, original):
    if not host:
        raise InvalidName('portal %r has no host' % original)
    if ':' in host:
        _check_ipv6(host, original)
        return
    if re.match(r'^[\d.]+$', host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise InvalidName('portal %r: %r is not a valid IPv4 address' % (original, host))
        return
    if not _HOSTNAME_RE.match(host):
        raise InvalidName('portal %r: %r is neither an IP address nor a valid host name' % (original, host))


def parse_portal(text, default_port=DEFAULT_PORT, lenient=False):
    """Parse "host", "host:port", "[v6]:port", each optionally followed by ",tpgt".

    Parsing goes from the right (tpgt, then port) so IPv6 colons never pass for a port.
    lenient=True also accepts iscsiadm's unbracketed "v6addr:port" output.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidName('portal is empty')
    original = text
    text = text.strip()
    rest, tpgt = _split_tpgt(text, lenient)
    host, port = _split_host_port(rest, original, default_port, lenient)
    _check_host(host, original)
    return Portal(host, port, tpgt)
