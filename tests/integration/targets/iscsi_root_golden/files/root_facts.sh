#!/usr/bin/env bash
# What a diskless host says of itself, as one JSON object: who it is (hostname, initiator name, the iBFT's
# initiator and target, machine-id), what its root is (device, transport, iSCSI sessions and their CHAP user,
# the iBFT's CHAP user), and the two things the target writes and removes (irg1's file, irg2's file before its
# snapshot, the golden's /usr/share/doc).
set -euo pipefail
root=$(findmnt -no SOURCE /)
disk=$(lsblk -no PKNAME "$root")
written='' snapped=''
[[ -e /root/irg-written-by-irg1 ]] && written=$(cat /root/irg-written-by-irg1)
[[ -e /root/irg2-before-its-snapshot ]] && snapped=$(cat /root/irg2-before-its-snapshot)
doc=0
[[ -e /usr/share/doc ]] && doc=$(find /usr/share/doc | wc -l)
python3 - "$root" "$(lsblk -dno TRAN "/dev/$disk")" "$written" "$doc" "$snapped" <<'PY'
import glob, json, os, socket, subprocess, sys

def read(path):
    with open(path) as handle:
        return handle.read().strip()

initiator = [line.split('=', 1)[1] for line in read('/etc/iscsi/initiatorname.iscsi').splitlines()
             if line.startswith('InitiatorName=')]
sessions = subprocess.run(['iscsiadm', '-m', 'session'], capture_output=True, text=True).stdout.splitlines()
# the CHAP user the root session logged in with (the kernel shows "(null)" without one), and the iBFT's
session_users = [read(path) for path in sorted(glob.glob('/sys/class/iscsi_session/session*/username'))]
ibft_chap = '/sys/firmware/ibft/target0/chap-name'
print(json.dumps({
    'hostname': socket.gethostname(),
    'initiator': initiator[0] if initiator else '',
    'ibft_initiator': read('/sys/firmware/ibft/initiator/initiator-name'),
    'ibft_target': read('/sys/firmware/ibft/target0/target-name'),
    'machine_id': read('/etc/machine-id'),
    'root': sys.argv[1],
    'root_transport': sys.argv[2],
    'sessions': len(sessions),
    'session_chap_users': [user for user in session_users if user != '(null)'],
    'ibft_chap_name': read(ibft_chap) if os.path.exists(ibft_chap) else '',
    'written_by_irg1': sys.argv[3],
    'doc_entries': int(sys.argv[4]),
    'written_before_snapshot': sys.argv[5],
    'uptime': int(float(read('/proc/uptime').split()[0])),
}))
PY
