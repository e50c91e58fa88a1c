# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""LUN maps and the igroups made for them, on any SanBackend: one implementation for ``san.iscsi.lun_map``
and for ``san.iscsi.lun``'s ``map_to`` (a LUN created and mapped in one call) and ``prune_igroups``.

Every check that needs no array runs in the constructor, before the first request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.san.iscsi.plugins.module_utils._san_backend import (
    IGROUP_NOT_FOUND, LUN_NOT_FOUND, SanConflict, SanError, SanInvalid, SanNotFound, check_lun_id,
    checked, normalize_initiator, with_code)


class LunMapper(object):
    """Map a LUN (``lun``: its volume, name and path as the backend names them) to ``igroup``, as
    ``san.iscsi.lun_map`` documents.

    ``initiators`` (None: the igroup must exist) creates the igroup when missing and must be in it when it
    exists; ``reuse_igroup`` (with ``initiators``) maps to an igroup that already holds every initiator instead,
    when there is one (``igroup`` first, then the first by name); ``lun_id`` (None: the array picks); ``remap``
    allows a change of LUN id; ``unmap_from`` igroups lose the LUN first. The constructor checks all of these
    with the backend's class ``rules`` only; the caller sets ``backend`` afterwards, so that they come before
    the backend is made (and its first request).
    """

    def __init__(self, check_mode, rules, lun, igroup, initiators=None, lun_id=None, remap=False, unmap_from=(),
                 vserver=None, reuse_igroup=False):
        self.check_mode = check_mode
        self.vserver = vserver
        self.backend = None
        self.volume, self.lun, self.path = lun
        self.igroup = igroup
        self.initiators = None
        if initiators is not None:
            self.initiators = sorted(set(checked('initiators', normalize_initiator, name) for name in initiators))
        if reuse_igroup and self.initiators is None:
            raise SanInvalid('reuse_igroup needs initiators (those the igroup to reuse must hold)')
        self.reuse_igroup = reuse_igroup
        check_lun_id(rules, lun_id)
        self.lun_id = lun_id
        self.remap = remap
        self.unmap_from = []
        for name in unmap_from:
            if name == igroup:
                raise SanInvalid('unmap_from lists igroup %r, the igroup to map to' % name)
            if name not in self.unmap_from:
                self.unmap_from.append(name)
        self.result = dict(changed=False, map=None, lun_id=None, igroup_created=False, unmapped=[])
        self.unmapped = []  # done, not planned: what a failure after the unmaps reports
        self._igroup_record = None

    def get_igroup(self):
        """The igroup as read once in this run (None while it does not exist)."""
        if self._igroup_record is None:
            self._igroup_record = self.backend.get_igroup(self.igroup)
        return self._igroup_record

    def unmap_only(self):
        """state=absent: the LUN no longer mapped to the igroup."""
        if self.backend.get_lun_map(self.path, self.igroup) is not None:
            self.result['changed'] = True
            if not self.check_mode:
                self.backend.delete_lun_map(self.path, self.igroup)
        return self.result

    def map(self, lun_planned=False):
        """Map the LUN (check mode: predict it); returns the result."""
        return self.apply(self.plan(lun_planned))

    def plan(self, lun_planned=False):
        """Read and check everything the map needs, change nothing; the plan for apply().

        ``lun_planned``: the LUN does not exist yet (this run creates it next), so it has no maps to read
        and its absence is no error. Every refusal comes from here, before the LUN is created.
        """
        if self.reuse_igroup:
            self.choose_igroup()
        current = None if lun_planned else self.backend.get_lun_map(self.path, self.igroup)
        wanted_id = self.lun_id
        if current is not None and self.initiators is not None:
            self.check_initiators(self.get_igroup())
        leaving = [] if lun_planned else [
            name for name in self.unmap_from if self.backend.get_lun_map(self.path, name) is not None]
        self.result['unmapped'] = leaving
        if current is not None and wanted_id in (None, current['lun_id']):
            self.result.update(map=current, lun_id=current['lun_id'], changed=bool(leaving))
            return dict(leaving=leaving, current=current, new_igroup=None, mapped=True)
        if current is not None and not self.remap:
            raise SanConflict('LUN %s is mapped to igroup %r as LUN %d, not %d; set remap=true to change it'
                              % (self.path, self.igroup, current['lun_id'], wanted_id))
        new_igroup = self.check_can_map(wanted_id, mapped=current is not None or lun_planned)
        planned = dict(igroup=self.igroup, path=self.path, lun_id=wanted_id, vserver=self.vserver)
        self.result.update(changed=True, map=planned, lun_id=wanted_id, igroup_created=new_igroup is not None)
        return dict(leaving=leaving, current=current, new_igroup=new_igroup, mapped=False)

    def apply(self, plan):
        """Carry out a plan (nothing in check mode); returns the result."""
        if self.check_mode:
            return self.result
        self.unmap(plan['leaving'])
        if plan['mapped']:
            return self.result
        if plan['new_igroup'] is not None:
            self.create_igroup(plan['new_igroup'])
        if plan['current'] is not None:
            self.backend.delete_lun_map(self.path, self.igroup)
        try:
            created = self.backend.create_lun_map(self.path, self.igroup, self.lun_id)
        except SanNotFound as exc:
            # the igroup read above is gone (another run deleted it): say so with a code of its own
            if self.backend.get_igroup(self.igroup) is None:
                raise with_code(exc, IGROUP_NOT_FOUND)
            raise
        self.result.update(map=created, lun_id=created['lun_id'])
        return self.result

    def choose_igroup(self):
        """reuse_igroup: map to ``igroup`` when it holds every initiator, else to the first igroup (by name) that
        does; ``igroup`` stays the one to create when none does. Reads the igroups once."""
        wanted = set(name.lower() for name in self.initiators)
        holders = [igroup for igroup in self.backend.list_igroups()
                   if wanted <= set(name.lower() for name in igroup['initiators'])]
        holders.sort(key=lambda igroup: (igroup['name'] != self.igroup, igroup['name']))
        if holders:
            self.igroup = holders[0]['name']
            self._igroup_record = holders[0]

    def unmap(self, igroups):
        if not self.check_mode:
            for name in igroups:
                self.backend.delete_lun_map(self.path, name)
                self.unmapped.append(name)

    def create_igroup(self, planned):
        """Create the igroup; one that another run created meanwhile is used when it holds the initiators."""
        try:
            self.backend.create_igroup(self.igroup, planned['protocol'], planned['os_type'], self.initiators)
        except SanError:
            existing = self.backend.get_igroup(self.igroup)
            if existing is None:
                raise
            self.check_initiators(existing)
            self.result['igroup_created'] = False

    def check_can_map(self, wanted_id, mapped):
        """Unknown LUN, unknown igroup, a LUN id used by another LUN and an igroup without a free id fail
        before any change (a remap to a used id would otherwise unmap the LUN and then fail).
        Return the igroup to create from ``initiators`` (None when it exists)."""
        if not mapped and self.backend.get_lun(self.volume, self.lun) is None:
            raise SanNotFound('LUN %s does not exist' % self.path, LUN_NOT_FOUND)
        igroup = self.get_igroup()
        if igroup is None:
            return self.plan_igroup()
        self.check_initiators(igroup)
        others = dict((entry['lun_id'], entry['path']) for entry in igroup['maps'] if entry['path'] != self.path)
        if wanted_id in others:
            raise SanConflict('LUN id %d is already used in igroup %r by %s' % (wanted_id, self.igroup, others[wanted_id]))
        if wanted_id is None and len(others) > self.backend.max_lun_id:
            raise SanConflict('igroup %r uses every LUN id 0-%d' % (self.igroup, self.backend.max_lun_id))
        return None

    def plan_igroup(self):
        """The igroup to create, validated as san.iscsi.igroup validates it (check mode predicts the run)."""
        self.backend.check_connection()
        if self.initiators is None:
            raise SanNotFound('igroup %r does not exist' % self.igroup, IGROUP_NOT_FOUND)
        planned = dict(name=self.igroup, protocol='iscsi', os_type='linux', initiators=self.initiators, maps=[],
                       vserver=self.vserver, uuid=None)
        self.backend.validate_igroup(None, planned)
        return planned

    def check_initiators(self, igroup):
        if igroup is None or self.initiators is None:
            return
        present = set(name.lower() for name in igroup['initiators'])
        missing = [name for name in self.initiators if name.lower() not in present]
        if missing:
            raise SanConflict('igroup %r exists without initiator(s) %s; add them with san.iscsi.igroup'
                              % (self.igroup, ', '.join(missing)))


def prune_igroups(check_mode, backend, names, gone_paths=()):
    """Delete each igroup of ``names`` that has no LUN mapped; keep the others. In check mode the maps of
    ``gone_paths`` (the LUNs this run deletes) do not count.

    Returns ``(deleted, kept)``. The array refuses to delete an igroup that has maps, so an igroup another
    run maps to between the read and the delete is kept, not deleted; one that another run deleted
    meanwhile counts as neither.
    """
    deleted, kept = [], []
    for name in names:
        current = backend.get_igroup(name)
        if current is None:
            continue
        if [entry for entry in current['maps'] if not (check_mode and entry['path'] in gone_paths)]:
            kept.append(name)
            continue
        if check_mode:
            deleted.append(name)
            continue
        try:
            backend.delete_igroup(name, force=False)
        except SanNotFound:
            continue
        except SanConflict:
            kept.append(name)
            continue
        deleted.append(name)
    return deleted, kept
