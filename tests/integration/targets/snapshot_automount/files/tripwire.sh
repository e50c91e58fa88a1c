#!/bin/sh
# Bind-mounted over every fsck binary on the browse host during the test: a run of any of them is recorded
# (and fails, as a repair must never happen). The test fails when the record is not empty.
echo "$0 $*" >> /run/lab-sat-fsck-tripwire
exit 8
