#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment's build context, made and checked without a container engine (`make ee`).

1. `hack/build.sh` writes the collection tarball; `ansible-builder create` makes the build context from the
   root execution-environment.yml, as `ansible-builder build` would before calling podman or docker.
2. The context is read: the base image is pinned (a version tag or a digest, never `latest`), the Python
   package the image gets is the interpreter the build runs, ansible-core is the version the tests run on,
   and the tarball in the context is the one just built.
3. The tarball is installed into a scratch collections path and the context's own introspect.py (the script
   the image build runs to collect every collection's requirements) reads it: what it finds must be exactly
   requirements.txt and bindep.txt, and the compile headers must be those of the interpreter the image uses.
4. Each Python requirement is imported by the collection's plugins (declared means needed).

Prints what it checked; exits 1 on the first difference.
"""

import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".venv"
CONTEXT = REPO / ".build" / "ee" / "context"
# PyPI name -> module the plugins import
IMPORT_NAMES = {"netapp-lib": "netapp_lib", "jmespath": "jmespath"}


def fail(message):
    print("hack/ee-check.py: " + message, file=sys.stderr)
    sys.exit(1)


def run(argv, **kwargs):
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False, **kwargs)
    if proc.returncode != 0:
        fail("%s exited with %d:\n%s%s" % (" ".join(str(a) for a in argv), proc.returncode, proc.stdout, proc.stderr))
    return proc.stdout


def requirement_lines(path):
    lines = []
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def build_args(dockerfile):
    return dict(re.findall(r'^ARG ([A-Z_]+)="([^"]*)"$', dockerfile, re.M))


def check_context(definition, tarball):
    dockerfile = (CONTEXT / "Containerfile") if (CONTEXT / "Containerfile").exists() else (CONTEXT / "Dockerfile")
    args = build_args(dockerfile.read_text())
    image = args.get("EE_BASE_IMAGE", "")
    pinned = re.search(r"@sha256:[0-9a-f]{64}$", image) or re.search(r":[0-9]+(\.[0-9]+)+(-[0-9]+)?$", image)
    if image != definition["images"]["base_image"]["name"] or not pinned:
        fail("the base image is not pinned to a version tag or digest: %r" % image)
    interpreter = definition["dependencies"]["python_interpreter"]
    if args.get("PYPKG") != interpreter["package_system"] or args.get("PYCMD") != interpreter["python_path"]:
        fail("the interpreter package %r and path %r differ from execution-environment.yml"
             % (args.get("PYPKG"), args.get("PYCMD")))
    if not args["PYCMD"].endswith("/" + args["PYPKG"]):
        fail("the image installs %s but runs %s" % (args["PYPKG"], args["PYCMD"]))
    core_pin = [line for line in requirement_lines(REPO / "tests" / "requirements.txt") if line.startswith("ansible-core")]
    if core_pin[0] not in args.get("ANSIBLE_INSTALL_REFS", "").split():
        fail("the image installs %r, the tests run %s" % (args.get("ANSIBLE_INSTALL_REFS"), core_pin[0]))
    shipped = CONTEXT / "_build" / "collections" / tarball.name
    if hashlib.sha256(shipped.read_bytes()).hexdigest() != hashlib.sha256(tarball.read_bytes()).hexdigest():
        fail("the context's %s is not the tarball just built" % shipped.name)
    print("context: base image %s, %s, %s, collection %s" % (image, args["PYPKG"], core_pin[0], tarball.name))
    return args


def introspect(tarball, scratch):
    collections = Path(scratch) / "collections"
    run([str(VENV / "bin" / "ansible-galaxy"), "collection", "install", "--force", "-p", str(collections),
         str(tarball)])
    pip_out, bindep_out = Path(scratch) / "pip.txt", Path(scratch) / "bindep.txt"
    run([str(VENV / "bin" / "python"), str(CONTEXT / "_build" / "scripts" / "introspect.py"), "introspect",
         str(collections), "--write-pip", str(pip_out), "--write-bindep", str(bindep_out)])
    return requirement_lines(pip_out), requirement_lines(bindep_out)


def check_requirements(args, found_pip, found_bindep):
    declared_pip = [line for line in requirement_lines(REPO / "requirements.txt") if not line.startswith("ansible-core")]
    if found_pip != declared_pip:
        fail("the image build would install %s from the collection; requirements.txt declares %s"
             % (found_pip, declared_pip))
    declared_bindep = requirement_lines(REPO / "bindep.txt")
    if found_bindep != declared_bindep:
        fail("the image build would install %s; bindep.txt declares %s" % (found_bindep, declared_bindep))
    headers = [line.split()[0] for line in declared_bindep if re.match(r"python3[.0-9]*-devel \[compile platform:rpm\]", line)]
    if headers != [args["PYPKG"] + "-devel"]:
        fail("compile headers %s do not match the image's Python %s" % (headers, args["PYPKG"]))
    sources = "\n".join(path.read_text() for path in (REPO / "plugins").rglob("*.py"))
    for line in declared_pip:
        name = re.split(r"[<>=!~ ;\[]", line, 1)[0]
        module = IMPORT_NAMES.get(name)
        if module is None or not re.search(r"^\s*(import|from) %s\b" % re.escape(module), sources, re.M):
            fail("requirements.txt declares %s, which no plugin imports" % name)
    print("requirements: python %s; system %d lines, compile headers %s" % (
        ", ".join(declared_pip), len(declared_bindep), headers[0]))


def main():
    run(["hack/build.sh"])
    definition = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    tarball = REPO / ".build" / "dist" / ("san-iscsi-%s.tar.gz" % version)
    run([str(VENV / "bin" / "ansible-builder"), "create", "--file", "execution-environment.yml", "--context",
         str(CONTEXT)])
    args = check_context(definition, tarball)
    with tempfile.TemporaryDirectory(prefix="ee-check-") as scratch:
        found_pip, found_bindep = introspect(tarball, scratch)
    check_requirements(args, found_pip, found_bindep)
    print("hack/ee-check.py: the execution environment's build context is as declared")
    return 0


if __name__ == "__main__":
    sys.exit(main())
