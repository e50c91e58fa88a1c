# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST DOUBLES for unit tests: scripted stand-ins for the ONTAP HTTP seam.

Both replace the connection classes of ``_san_ontap_base.OntapHttp`` (the one keep-alive connection the
REST and ZAPI backends send through): FakeRest answers REST exchanges, FakeZapiOpener the ZAPI XML that
netapp-lib's NaServer posts. Both expect exact requests, in order, and answer each.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import socket
import ssl
from xml.sax.saxutils import quoteattr

from ansible.module_utils.six.moves.urllib.error import HTTPError

BASE = 'https://cluster1:443'
REST_PARAMS = dict(provider='ontap', hostname='cluster1', username='admin', password='secret!', vserver='svm1',
                   https=True, validate_certs=True, ca_path=None, http_port=None, use_rest='auto', timeout=60,
                   job_timeout=5, target=None, tpg=1)
CLUSTER_PROBE = ('GET', BASE + '/api/cluster?fields=version')
CLUSTER_REPLY = {'version': {'full': 'NetApp Release 9.12.1', 'generation': 9, 'major': 12, 'minor': 1}}


AUTHORIZATION = 'Basic ' + base64.b64encode(b'admin:secret!').decode()


class OntapModule(object):
    """The smallest module an ONTAP backend needs: params (REST_PARAMS and the given ones) and fail_json."""

    def __init__(self, **params):
        self.params = dict(REST_PARAMS, **params)

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


class FakeResponse(object):
    """What http.client's getresponse() returns."""

    def __init__(self, status, data, reason='', will_close=False):
        self.status = status
        self.reason = reason or {200: 'OK', 201: 'Created', 202: 'Accepted'}.get(status, 'Error')
        self.data = data
        self.will_close = will_close

    def read(self):
        return self.data


class FakeConnection(object):
    """Stands in for http.client.HTTP(S)Connection: the exchanges are answered by its FakeHttp."""

    def __init__(self, fake, host, port, timeout=None, context=None):
        assert timeout == 60
        self.fake, self.host, self.port = fake, host, port
        self.sock = None
        self.pending = None

    def connect(self):
        if self.fake.connect_failures:
            raise self.fake.connect_failures.pop(0)
        self.sock, self.peer = socket.socketpair()
        self.fake.connections += 1

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.peer.close()
            self.sock = None

    def request(self, method, path, body=None, headers=None):
        assert self.sock is not None, 'request on a closed connection'
        assert headers['Authorization'] == AUTHORIZATION
        self.pending = self.fake.answer(method, 'https://%s:%d%s' % (self.host, self.port, path), body, headers)

    def getresponse(self):
        response, self.pending = self.pending, None
        return response


class FakeHttp(object):
    """The HTTP seam of the ONTAP backends (OntapHttp's connection classes); ``install(monkeypatch)`` puts
    it in place and makes retry waits instant. ``connections`` counts connections opened; each exception
    in ``connect_failures`` fails one connection attempt."""

    def __init__(self):
        self.expected = []
        self.calls = []
        self.connections = 0
        self.connect_failures = []
        self.sleeps = []

    def install(self, monkeypatch):
        from ansible_collections.san.iscsi.plugins.module_utils import _san_ontap_base

        def factory(host, port, **kwargs):
            return FakeConnection(self, host, port, **kwargs)
        monkeypatch.setattr(_san_ontap_base.OntapHttp, 'connection_classes', {True: factory, False: factory})
        monkeypatch.setattr(_san_ontap_base.time, 'sleep', self.sleeps.append)
        return self

    def done(self):
        assert not self.expected, 'requests not sent: %r' % (self.expected,)


class FakeRest(FakeHttp):
    """expect(method, url, body=None, status=200, reply=None, exception=None) queues one exchange."""

    def expect(self, method, url, body=None, status=200, reply=None, exception=None):
        self.expected.append((method, url, body, status, reply, exception))
        return self

    def probe(self):
        return self.expect(CLUSTER_PROBE[0], CLUSTER_PROBE[1], reply=CLUSTER_REPLY)

    def answer(self, method, url, data, headers):
        body = json.loads(data) if data else None
        self.calls.append((method, url, body))
        assert self.expected, 'unexpected request %s %s %r' % (method, url, body)
        exp_method, exp_url, exp_body, status, reply, exception = self.expected.pop(0)
        assert (method, url, body) == (exp_method, exp_url, exp_body)
        if exception is not None:
            raise exception
        if isinstance(reply, bytes):
            return FakeResponse(status, reply)
        return FakeResponse(status, json.dumps(reply).encode() if reply is not None else b'')

    def writes(self):
        return [call for call in self.calls if call[0] != 'GET']


def records(*items):
    return {'records': list(items), 'num_records': len(items)}


def ontap_error(code, message):
    return {'error': {'code': code, 'message': message}}


def tls_failure(url):
    return ssl.SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')


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


class FakeZapiOpener(FakeHttp):
    """expect(request_bytes, reply) in order; reply is the XML bytes, an HTTPError (its status is answered)
    or another exception (raised by the connection)."""

    def expect(self, request, reply):
        self.expected.append((request, reply))
        return self

    def answer(self, method, url, data, headers):
        self.calls.append(data)
        assert method == 'POST' and url == ZAPI_URL
        assert self.expected, 'unexpected ZAPI request %r' % data
        expected, reply = self.expected.pop(0)
        assert data == expected
        if isinstance(reply, HTTPError):
            return FakeResponse(reply.code, b'', reply.msg)
        if isinstance(reply, Exception):
            raise reply
        return FakeResponse(200, reply)
