# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers of the SAN backend interface: sizes, initiator names, WWIDs, provider selection."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _san_backend
from ansible_collections.san.iscsi.plugins.module_utils._san_backend import (
    SanConflict, SanError, SanInvalid, SanNotFound, naa_lio, naa_ontap, normalize_initiator, parse_size, with_code)
from ansible_collections.san.iscsi.plugins.module_utils._san_factory import get_backend


@pytest.mark.parametrize('text, expected', [
    ('10G', 10737418240), ('512M', 536870912), ('512MiB', 536870912), ('1.5T', 1649267441664),
    ('4096', 4096), (' 64 m ', 67108864), (8192, 8192), ('1k', 1024),
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize('text', ['ten', '10X', '', '-1G', '0', 'G', '10 GiBs', True])
def test_parse_size_rejects(text):
    with pytest.raises(SanInvalid):
        parse_size(text)


def test_initiators_are_validated_and_lower_cased():
    assert normalize_initiator('IQN.2026-11.Lab.San-Iscsi:Host1') == 'iqn.2026-11.lab.san-iscsi:host1'
    assert normalize_initiator('EUI.02004567A425678D') == 'eui.02004567a425678d'
    for bad in ('iqn.2026-13.lab:x', 'host1', 'iqn.2026-11.lab_x:y', 'eui.123'):
        with pytest.raises(SanInvalid):
            normalize_initiator(bad)


def test_wwids():
    # ONTAP: 600a0980 + ASCII of the 12-character serial; LIO: 6001405 + 25 hex digits of the unit serial.
    assert naa_ontap('80A0Eb3jMYWj') == 'naa.600a0980' + '38304130456233' + '6a4d59576a'
    assert naa_lio('6b8bbd3f-5bde-4f1e-9f66-6c2b1e7a3c11') == 'naa.60014056b8bbd3f5bde4f1e9f666c2b1'
    assert len(naa_lio('6b8bbd3f-5bde-4f1e-9f66-6c2b1e7a3c11')) == 36
    assert naa_lio('abc') == 'naa.6001405abc' + '0' * 22


def test_error_fail_kwargs_keep_code_and_details():
    error = SanConflict('busy', '8', {'api': 'x'})
    assert error.to_fail_kwargs() == {'msg': 'busy', 'error_code': '8', 'api': 'x'}


def test_every_error_has_an_error_code():
    assert SanError('x').to_fail_kwargs() == {'msg': 'x', 'error_code': 'san_error'}
    assert SanNotFound('x').to_fail_kwargs()['error_code'] == 'not_found'
    assert SanConflict('x', details={'api': 'y'}).to_fail_kwargs() == {'msg': 'x', 'error_code': 'conflict', 'api': 'y'}


def test_a_stable_code_keeps_the_arrays_code_in_the_details():
    coded = with_code(SanNotFound('gone', '5374878', {'status': 404}), 'igroup_not_found')
    assert isinstance(coded, SanNotFound)
    assert coded.to_fail_kwargs() == {'msg': 'gone', 'error_code': 'igroup_not_found', 'status': 404,
                                      'array_error_code': '5374878'}
    assert 'array_error_code' not in with_code(SanNotFound('gone'), 'igroup_not_found').details


def test_unknown_provider():
    class Module(object):
        params = {'provider': 'emc'}
    with pytest.raises(SanInvalid, match="unknown provider 'emc'"):
        get_backend(Module())


def test_argument_spec_hides_the_password():
    spec = _san_backend.san_argument_spec()
    assert spec['password']['no_log'] is True
    assert (spec['https']['default'], spec['validate_certs']['default']) == (True, True)
