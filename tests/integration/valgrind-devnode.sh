#!/bin/sh
# Runs the devnode tests that end in a SIGTERM shutdown (calls held, a watch stream open)
# and the fault tests with the devnode under valgrind: any definite, indirect or possible
# leak or memory error makes the devnode exit 99 and the test fail.
[ -n "$NORIKV_SANITIZERS" ] && { echo "sanitizer build: valgrind skipped"; exit 77; }
command -v valgrind >/dev/null 2>&1 || { echo "valgrind not installed: skipped"; exit 77; }
srcdir=${srcdir:-.}
NORIKV_DEVNODE_WRAPPER="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 --suppressions=$srcdir/tests/integration/valgrind.supp --suppressions=$srcdir/tests/integration/valgrind-devnode.supp"
export NORIKV_DEVNODE_WRAPPER
status=0
for case in shutdown faults; do
    CK_RUN_CASE=$case ./tests/integration/check_devnode || status=1
done
exit $status
