"""The Python side of test/sscard-driver.test.ts: libSSCardDriver.so through ctypes (Debian's python3),
as a Python kiosk application would load it. Same command line and output as call.c:

    python3 call.py <library> <function> [argument ...]

Integer arguments are decimal; a string argument is its text, `hex:<bytes>`, or `null`. Prints the
return value, then each output buffer in hex. The buffers are ctypes string buffers of exactly the
documented size; the bytes after them are checked too (exit 3 if written).
"""
import ctypes
import sys

OUT_SIZE = 1024
READER_SN_SIZE = 64
PSAM_NO_SIZE = 64
GUARD = 64

# name → argument kinds before the output buffer(s): i = int, s = char*
SIGNATURES = {
    "iReadCardBas": "i",
    "iVerifyPIN": "i",
    "iChangePIN": "i",
    "iReloadPIN": "is",
    "iUnblockPIN": "is",
    "iReadCard": "iiss",
    "iWriteCard": "isss",
    "iReadCardBas_HSM_Step1": "i",
    "iReadCardBas_HSM_Step2": "s",
    "iReadCard_HSM_Step1": "iss",
    "iReadCard_HSM_Step2": "s",
    "iWriteCard_HSM_Step1": "iss",
    "iWriteCard_HSM_Step2": "ss",
    "iReloadPIN_HSM_Step1": "is",
    "iReloadPIN_HSM_Step2": "s",
    "iReloadPIN_HSM_Step3": "s",
    "iUnblockPIN_HSM_Step1": "is",
    "iUnblockPIN_HSM_Step2": "s",
    "iUnblockPIN_HSM_Step3": "s",
}


def text_arg(a):
    if a == "null":
        return None
    if a.startswith("hex:"):
        return bytes.fromhex(a[4:])
    return a.encode("utf-8")


def guarded(size):
    """A buffer of `size` bytes inside a larger block whose tail is a known pattern."""
    block = ctypes.create_string_buffer(b"\xa5" * (size + GUARD), size + GUARD)
    return block, ctypes.cast(block, ctypes.c_char_p)


def check(block, size, name):
    raw = block.raw
    if raw[size:] != b"\xa5" * GUARD:
        sys.stderr.write("%s: written past its %d bytes\n" % (name, size))
        sys.exit(3)
    if b"\0" not in raw[:size]:
        sys.stderr.write("%s: not NUL-terminated within its %d bytes\n" % (name, size))
        sys.exit(3)
    return raw[: raw.index(b"\0")]


def main():
    lib = ctypes.CDLL(sys.argv[1])
    fn, args = sys.argv[2], sys.argv[3:]
    if fn == "iGetReaderInfo":
        f = lib.iGetReaderInfo
        f.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        f.restype = ctypes.c_long
        sn_block, sn = guarded(READER_SN_SIZE)
        psam_block, psam = guarded(PSAM_NO_SIZE)
        code = f(sn, psam)
        print(code)
        print(check(sn_block, READER_SN_SIZE, "pReaderSN").hex())
        print(check(psam_block, PSAM_NO_SIZE, "pPsamTermNo").hex())
        return
    kinds = SIGNATURES[fn]
    if len(args) != len(kinds):
        sys.stderr.write("%s takes %d arguments\n" % (fn, len(kinds)))
        sys.exit(2)
    f = getattr(lib, fn)
    f.argtypes = [ctypes.c_int if k == "i" else ctypes.c_char_p for k in kinds] + [ctypes.c_char_p]
    f.restype = ctypes.c_long
    values = [int(a) if k == "i" else text_arg(a) for k, a in zip(kinds, args)]
    block, out = guarded(OUT_SIZE)
    code = f(*values, out)
    print(code)
    print(check(block, OUT_SIZE, "pOutInfo").hex())


main()
