# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the get-pip script ansible-test downloads from the Ansible project's CI files host.

ansible-test --venv bootstraps pip in each empty venv it creates by running
~/.ansible/test/cache/get_pip_<version>.py with pip-style arguments plus get-pip's own
--no-setuptools/--no-wheel. Where only PyPI is reachable, hack/sanity.sh puts this file there:
it installs the interpreter's bundled pip (ensurepip), then the requested pip from PyPI.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import subprocess
import sys

GET_PIP_ONLY_OPTIONS = ('--no-setuptools', '--no-wheel')


def main():
    pip_args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade'])
    subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + pip_args)
    if '--no-setuptools' in sys.argv:
        # ensurepip on Python < 3.12 also installs setuptools; get-pip would not have.
        subprocess.call([sys.executable, '-m', 'pip', 'uninstall', '--yes', '--quiet', 'setuptools'])


if __name__ == '__main__':
    main()
