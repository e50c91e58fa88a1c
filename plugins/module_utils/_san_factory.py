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

from ansible_collections.san.iscsi.plugins.module_utils._san_backend import PROVIDERS, SanError, SanInvalid


# Options of the ``san.iscsi.san`` doc fragment that only one provider reads, with their default (None: no
# default). An option of the other provider is refused when given with another value than its default.
PROVIDER_OPTIONS = {
    'ontap': (('hostname', None), ('username', None), ('password', None), ('https', True),
              ('validate_certs', True), ('ca_path', None), ('http_port', None), ('use_rest', 'auto'),
              ('vserver', None), ('timeout', 60), ('job_timeout', 120)),
    'lio': (('target', None), ('tpg', 1), ('portals', None), ('save_file', None)),
}


def backend_class(module):
    """The SanBackend class of ``module.params['provider']``; imports it, sends nothing.

    Its naming and limits (``lun_path``, ``split_lun_path``, ``max_lun_id``) need no connection, so modules
    check their input with it before ``get_backend`` connects. Options of the other provider are refused
    here (SanInvalid naming them), as are missing ONTAP connection options.
    """
    params = module.params
    provider = params.get('provider')
    if provider not in PROVIDERS:
        raise SanInvalid('unknown provider %r: expected one of %s' % (provider, ', '.join(PROVIDERS)))
    foreign = [name for other, options in sorted(PROVIDER_OPTIONS.items()) if other != provider
               for name, default in options if name in params and params[name] is not None and params[name] != default]
    if foreign:
        raise SanInvalid('option(s) %s do(es) not apply to provider %s' % (', '.join(foreign), provider),
                         details={'options': foreign})
    if provider == 'lio':
        from ansible_collections.san.iscsi.plugins.module_utils._san_lio import LioBackend
        return LioBackend
    missing = [name for name in ('hostname', 'username', 'password', 'vserver') if not params.get(name)]
    if missing:
        raise SanInvalid('provider=ontap needs %s' % ', '.join(missing), details={'options': missing})
    from ansible_collections.san.iscsi.plugins.module_utils._san_ontap_base import OntapBackendBase
    return OntapBackendBase


def get_backend(module):
    """Return the SanBackend for ``module.params['provider']``."""
    if backend_class(module).provider == 'lio':
        from ansible_collections.san.iscsi.plugins.module_utils._san_lio import LioBackend
        return LioBackend(module)
    return ontap_backend(module)


def ontap_backend(module):
    """Pick REST or ZAPI per ``use_rest`` (auto: REST when ONTAP >= 9.6 answers on /api). Both use one
    HTTP(S) connection for the whole run: the REST probe's connection carries on as ZAPI's."""
    from ansible_collections.san.iscsi.plugins.module_utils._san_ontap_base import OntapHttp
    from ansible_collections.san.iscsi.plugins.module_utils._san_ontap_rest import (
        MIN_REST_VERSION, OntapRestBackend, RestClient, probe_rest)
    params = module.params
    missing = [name for name in ('hostname', 'username', 'password', 'vserver') if not params.get(name)]
    if missing:
        raise SanInvalid('provider=ontap needs %s' % ', '.join(missing), details={'options': missing})
    http = OntapHttp(params)
    try:
        if params['use_rest'] == 'never':
            return _zapi_backend(module, http)
        client = RestClient(params, http)
        version = probe_rest(client)
        if version is not None and version[:2] >= MIN_REST_VERSION:
            return OntapRestBackend(module, client, version)
        if params['use_rest'] == 'always':
            raise SanInvalid('use_rest=always but ONTAP at %s offers no usable REST API (needs 9.6 or later; found '
                             '%s)' % (params['hostname'], '.'.join(str(part) for part in version) if version else 'none'))
        return _zapi_backend(module, http)
    except SanError as exc:
        if http.retries:
            exc.details['retries'] = list(http.retries)
        raise


def _zapi_backend(module, http):
    from ansible_collections.san.iscsi.plugins.module_utils._san_ontap_zapi import OntapZapiBackend
    return OntapZapiBackend(module, http)
