# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST DOUBLES for unit tests: scripted stand-ins for the ONTAP HTTP seams.

FakeRest replaces ``open_url`` in _san_ontap_rest; FakeZapiOpener replaces the urllib opener that
netapp-lib's NaServer posts ZAPI XML through. Both expect exact requests, in order, and answer each.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json
import ssl
from xml.sax.saxutils import quoteattr

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError

BASE = 'https://cluster1:443'
REST_PARAMS = dict(provider='ontap', hostname='cluster1', username='admin', password='secret!', vserver='svm1',
                   https=True, validate_certs=True, ca_path=None, http_port=None, use_rest='auto', timeout=60,
                   job_timeout=5, target=None, tpg=1)
CLUSTER_PROBE = ('GET', BASE + '/api/cluster?fields=version')
CLUSTER_REPLY = {'version': {'full': 'NetApp Release 9.12.1', 'generation': 9, 'major': 12, 'minor': 1}}


class FakeResponse(object):
    def __init__(self, status, body):
        self.status = status
        self.body = body

    def getcode(self):
        return self.status

    def read(self):
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode() if self.body is not None else b''


class FakeRest(object):
    """expect(method, url, body=None, status=200, reply=None) queues one exchange."""

    def __init__(self):
        self.expected = []
        self.calls = []

    def expect(self, method, url, body=None, status=200, reply=None, exception=None):
        self.expected.append((method, url, body, status, reply, exception))
        return self

    def probe(self):
        return self.expect(CLUSTER_PROBE[0], CLUSTER_PROBE[1], reply=CLUSTER_REPLY)

    def __call__(self, url, method=None, data=None, headers=None, **kwargs):
        body = json.loads(data) if data else None
        self.calls.append((method, url, body))
        assert self.expected, 'unexpected request %s %s %r' % (method, url, body)
        exp_method, exp_url, exp_body, status, reply, exception = self.expected.pop(0)
        assert (method, url, body) == (exp_method, exp_url, exp_body)
        assert kwargs['url_username'] == 'admin' and kwargs['force_basic_auth'] is True
        assert kwargs['timeout'] == 60
        if exception is not None:
            raise exception
        if status >= 400:
            raise HTTPError(url, status, 'error', {}, io.BytesIO(json.dumps(reply).encode()))
        return FakeResponse(status, reply)

    def writes(self):
        return [call for call in self.calls if call[0] != 'GET']

    def done(self):
        assert not self.expected, 'requests not sent: %r' % (self.expected,)


def records(*items):
    return {'records': list(items), 'num_records': len(items)}


def ontap_error(code, message):
    return {'error': {'code': code, 'message': message}}


def tls_failure(url):
    return URLError(ssl.SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'))


ZAPI_URL = 'https://cluster1:443/servlets/netapp.servlets.admin.XMLrequest_filer'
ZAPI_HEAD = b'<netapp xmlns="http://www.netapp.com/filer/admin"'


def zapi_request(api_xml, tunnel=True):
    """The exact bytes NaServer posts for ``api_xml`` (a str)."""
    attrs = b' version="1.201" vfiler="svm1">' if tunnel else b' version="1.201">'
    return ZAPI_HEAD + attrs + api_xml.encode() + b'</netapp>'


def zapi_passed(inner=''):
    return ("<?xml version='1.0' encoding='UTF-8'?><netapp version='1.201' xmlns='http://www.netapp.com/filer/admin'>"
            "<results status=\"passed\">%s</results></netapp>" % inner).encode()


def zapi_failed(errno, reason):
    return ("<?xml version='1.0' encoding='UTF-8'?><netapp version='1.201' xmlns='http://www.netapp.com/filer/admin'>"
            "<results status=\"failed\" errno=%s reason=%s/></netapp>" % (quoteattr(errno), quoteattr(reason))).encode()


VERSION_REQUEST = ZAPI_HEAD + b'><system-get-ontapi-version/></netapp>'
VERSION_REPLY = zapi_passed('<major-version>1</major-version><minor-version>201</minor-version>')


class FakeZapiOpener(object):
    """Replaces the urllib opener: expect(request_bytes, reply_bytes) in order."""

    def __init__(self):
        self.expected = []
        self.calls = []

    def expect(self, request, reply):
        self.expected.append((request, reply))
        return self

    def build(self, *handlers):
        return self

    def open(self, request, timeout=None):
        self.calls.append(request.data)
        assert timeout == 60
        assert request.full_url == ZAPI_URL
        assert self.expected, 'unexpected ZAPI request %r' % request.data
        expected, reply = self.expected.pop(0)
        assert request.data == expected
        if isinstance(reply, Exception):
            raise reply
        return FakeResponse(200, reply)

    def done(self):
        assert not self.expected, 'ZAPI requests not sent: %r' % (self.expected,)
