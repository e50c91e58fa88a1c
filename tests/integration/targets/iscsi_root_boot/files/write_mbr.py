# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a boot sector to DEVICE that prints "san.iscsi lab: booted from the LUN" through the BIOS (int 10h,
which SeaBIOS copies to the serial console) and halts. The test writes it onto a LUN it made, so that a
network boot that gets this far has read the LUN through iPXE's sanboot (run with ansible.builtin.script).
"""
import os
import sys

MESSAGE = b"san.iscsi lab: booted from the LUN\r\n\0"
# 16-bit real mode, loaded at 0:7c00
CODE = bytes([
    0xFA,              # cli
    0x31, 0xC0,        # xor ax, ax
    0x8E, 0xD8,        # mov ds, ax
    0x8E, 0xD0,        # mov ss, ax
    0xBC, 0x00, 0x7C,  # mov sp, 0x7c00
    0xFB,              # sti
    0xBE, 0x1F, 0x7C,  # mov si, 0x7c00 + 31 (the message)
    0xAC,              # next: lodsb
    0x08, 0xC0,        # or al, al
    0x74, 0x09,        # jz halt
    0xB4, 0x0E,        # mov ah, 0x0e (teletype output)
    0xBB, 0x07, 0x00,  # mov bx, 7
    0xCD, 0x10,        # int 0x10
    0xEB, 0xF2,        # jmp next
    0xF4,              # halt: hlt
    0xEB, 0xFD,        # jmp halt
])
assert len(CODE) == 31
sector = CODE + MESSAGE
sector += bytes(510 - len(sector)) + b"\x55\xaa"
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_SYNC)
try:
    os.write(fd, sector)
    os.fsync(fd)
finally:
    os.close(fd)
print("wrote %d bytes" % len(sector))
