# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run SAN modules against the in-process ONTAP emulator (tests/doubles) over real HTTPS on loopback,
with a fresh array state per test and a log of the writes: REST (method, path), ZAPI (api, inputs)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from xml.etree import ElementTree

import pytest

from ansible_collections.san.iscsi.tests.doubles.ontap_emulator import Emulator, RestApi, State, ZapiApi

ZAPI_READS = ('system-get-ontapi-version',)


class RecordingZapi(ZapiApi):
    """The emulator's ZAPI, recording each API called with its scalar inputs."""

    def __init__(self, state, calls):
        super(RecordingZapi, self).__init__(state)
        self.calls = calls

    def handle(self, payload):
        api = ElementTree.fromstring(payload)[0]
        name = api.tag.split('}', 1)[-1]
        inputs = dict((child.tag.split('}', 1)[-1], child.text) for child in api if len(child) == 0)
        self.calls.append((name, inputs))
        return super(RecordingZapi, self).handle(payload)


@pytest.fixture(scope='module')
def emulator(tmp_path_factory):
    emu = Emulator(str(tmp_path_factory.mktemp('emu'))).start()
    yield emu
    emu.stop()


class Ontap(object):
    """A fresh emulated SVM ``svm1`` with volume ``vol1``; ``use_rest`` is 'always' or 'never'."""

    def __init__(self, emulator, use_rest):
        self.use_rest = use_rest
        self.state = State()
        self.state.log = []
        self.zapi_calls = []
        server = emulator.server
        emulator.state = server.state = self.state
        server.rest = RestApi(self.state)
        server.zapi = RecordingZapi(self.state, self.zapi_calls)
        self.state.add_svm('svm1')
        self.state.add_volume('svm1', 'vol1')
        self.connection = dict(provider='ontap', hostname='127.0.0.1', http_port=emulator.port, username='admin',
                               password='netapp1!', vserver='svm1', ca_path=emulator.cert, use_rest=use_rest)

    def writes(self):
        if self.use_rest == 'always':
            return [(method, path) for method, path in self.state.log if method != 'GET']
        return [(api, inputs) for api, inputs in self.zapi_calls
                if not api.endswith('-get-iter') and api not in ZAPI_READS]

    def igroup_uuid(self, name):
        return self.state.igroup_by_name[('svm1', name)]
