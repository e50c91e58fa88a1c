# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Chooses the SanBackend for a module's ``provider`` (and, on ONTAP, REST or ZAPI).

The only module_utils file that imports the backend implementations; they import ``_san_backend`` (and the
ONTAP ones ``_san_ontap_base``), never this file, so there is no import circle. Implementations are
imported when chosen: an ONTAP run never needs rtslib and a LIO run never needs netapp-lib.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.san.iscsi.plugins.module_utils._san_backend import PROVIDERS, SanInvalid


def get_backend(module):
    """Return the SanBackend for ``module.params['provider']``."""
    provider = module.params.get('provider')
    if provider == 'lio':
        from ansible_collections.san.iscsi.plugins.module_utils._san_lio import LioBackend
        return LioBackend(module)
    if provider == 'ontap':
        return ontap_backend(module)
    raise SanInvalid('unknown provider %r: expected one of %s' % (provider, ', '.join(PROVIDERS)))


def ontap_backend(module):
    """Pick REST or ZAPI per ``use_rest`` (auto: REST when ONTAP >= 9.6 answers on /api)."""
    from ansible_collections.san.iscsi.plugins.module_utils._san_ontap_rest import (
        MIN_REST_VERSION, OntapRestBackend, RestClient, probe_rest)
    params = module.params
    missing = [name for name in ('hostname', 'username', 'password', 'vserver') if not params.get(name)]
    if missing:
        raise SanInvalid('provider=ontap needs %s' % ', '.join(missing))
    if params['use_rest'] == 'never':
        return _zapi_backend(module)
    client = RestClient(params)
    version = probe_rest(client)
    if version is not None and version[:2] >= MIN_REST_VERSION:
        return OntapRestBackend(module, client, version)
    if params['use_rest'] == 'always':
        raise SanInvalid('use_rest=always but ONTAP at %s offers no usable REST API (needs 9.6 or later; found %s)'
                         % (params['hostname'], '.'.join(str(part) for part in version) if version else 'none'))
    backend = _zapi_backend(module)
    backend.extra_requests = client.count
    return backend


def _zapi_backend(module):
    from ansible_collections.san.iscsi.plugins.module_utils._san_ontap_zapi import OntapZapiBackend
    return OntapZapiBackend(module)
